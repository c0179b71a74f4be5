//! Dense f64 matrices on disk: NumPy `.npy` (little-endian `<f8`, C order, 2-D) and
//! whitespace-separated text (one row per line; `#` starts a comment).

use std::path::Path;

use crate::{Error, Result};

/// A row-major matrix read from a file.
#[derive(Clone, Debug, PartialEq)]
pub struct Matrix {
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// Row-major values.
    pub data: Vec<f64>,
}

/// Reads a matrix, choosing the format from the extension (`.npy`, otherwise text).
pub fn read_matrix(path: &Path) -> Result<Matrix> {
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("npy")) { read_npy(path) } else { read_text(path) }
}

/// Reads a 2-D `<f8` C-order `.npy` file.
pub fn read_npy(path: &Path) -> Result<Matrix> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    parse_npy(&bytes, path)
}

/// Parses the bytes of a 2-D `<f8` C-order `.npy` file (`path` names it in errors).
pub fn parse_npy(bytes: &[u8], path: &Path) -> Result<Matrix> {
    let bad = |m: String| Error::parse(path, 0, m);
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(bad("not a .npy file (missing the \\x93NUMPY magic)".into()));
    }
    let major = bytes[6];
    let (header_len, start) = match major {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 => {
            if bytes.len() < 12 {
                return Err(bad("truncated .npy header".into()));
            }
            (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12)
        }
        v => return Err(bad(format!("unsupported .npy version {v}"))),
    };
    let header = bytes.get(start..start + header_len).ok_or_else(|| bad("truncated .npy header".into()))?;
    let header = String::from_utf8_lossy(header);
    let field = |key: &str| -> Option<String> {
        let at = header.find(&format!("'{key}'"))?;
        let rest = &header[at + key.len() + 2..];
        let rest = rest.trim_start().strip_prefix(':')?.trim_start();
        Some(rest.to_string())
    };
    let descr = field("descr").ok_or_else(|| bad("header has no 'descr'".into()))?;
    if !(descr.starts_with("'<f8'") || descr.starts_with("'float64'")) {
        return Err(bad(format!(
            "dtype must be little-endian float64 ('<f8'), header says {}",
            descr.split(',').next().unwrap_or("")
        )));
    }
    let fortran = field("fortran_order").ok_or_else(|| bad("header has no 'fortran_order'".into()))?;
    if fortran.starts_with("True") {
        return Err(bad("Fortran-ordered arrays are not supported; save with np.ascontiguousarray".into()));
    }
    let shape = field("shape").ok_or_else(|| bad("header has no 'shape'".into()))?;
    let inner = shape.trim_start_matches('(').split(')').next().unwrap_or("");
    let dims: Vec<usize> = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>().map_err(|_| bad(format!("bad shape entry \"{s}\""))))
        .collect::<Result<_>>()?;
    if dims.len() != 2 {
        return Err(bad(format!("expected a 2-D array, shape is {dims:?}")));
    }
    let payload = &bytes[start + header_len..];
    let need = dims[0].checked_mul(dims[1]).and_then(|n| n.checked_mul(8));
    if need != Some(payload.len()) {
        let need = need.map_or("more than 2^64".to_string(), |b| b.to_string());
        return Err(bad(format!("shape {dims:?} needs {need} bytes of data, the file has {}", payload.len())));
    }
    let data = payload.chunks_exact(8).map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes"))).collect();
    Ok(Matrix { rows: dims[0], cols: dims[1], data })
}

/// Reads a whitespace-separated text matrix (all rows the same length).
pub fn read_text(path: &Path) -> Result<Matrix> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    parse_text(&text, path)
}

/// Parses a whitespace-separated text matrix (`path` names it in errors).
pub fn parse_text(text: &str, path: &Path) -> Result<Matrix> {
    let mut data = Vec::new();
    let (mut rows, mut cols) = (0, None);
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let row: Vec<f64> = line
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|s| !s.is_empty())
            .map(|s| s.parse::<f64>().map_err(|_| Error::parse(path, i + 1, format!("\"{s}\" is not a number"))))
            .collect::<Result<_>>()?;
        match cols {
            None => cols = Some(row.len()),
            Some(c) if c != row.len() => {
                return Err(Error::parse(path, i + 1, format!("row has {} values, previous rows have {c}", row.len())));
            }
            _ => {}
        }
        data.extend(row);
        rows += 1;
    }
    let cols = cols.ok_or_else(|| Error::parse(path, 0, "the file holds no numbers"))?;
    Ok(Matrix { rows, cols, data })
}

/// Writes a 2-D `<f8` `.npy` file (version 1.0).
pub fn write_npy(path: &Path, rows: usize, cols: usize, data: &[f64]) -> Result<()> {
    assert_eq!(data.len(), rows * cols, "data length must be rows * cols");
    let mut header = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
    let total = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - total % 64) % 64));
    header.push('\n');
    let mut bytes = Vec::with_capacity(10 + header.len() + 8 * data.len());
    bytes.extend_from_slice(b"\x93NUMPY\x01\x00");
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    for x in data {
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    super::atomic::write(path, bytes)
}

/// Writes a whitespace-separated text matrix with full precision.
pub fn write_text(path: &Path, rows: usize, cols: usize, data: &[f64]) -> Result<()> {
    assert_eq!(data.len(), rows * cols, "data length must be rows * cols");
    let mut s = String::with_capacity(data.len() * 24);
    for r in 0..rows {
        let row: Vec<String> = data[r * cols..(r + 1) * cols].iter().map(|x| format!("{x:.17e}")).collect();
        s.push_str(&row.join(" "));
        s.push('\n');
    }
    super::atomic::write(path, s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn npy_shapes_that_overflow_are_errors() {
        // 2^62 × 4 × 8 bytes wraps to 0 in 64-bit arithmetic: it must not read as an empty matrix
        let header = "{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 4), }";
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend((header.len() as u16).to_le_bytes());
        bytes.extend(header.as_bytes());
        let p = std::env::temp_dir().join(format!("hip-npy-overflow-{}.npy", std::process::id()));
        std::fs::write(&p, &bytes).unwrap();
        let e = read_npy(&p).unwrap_err().to_string();
        assert!(e.contains("more than 2^64"), "{e}");
    }

    #[test]
    fn npy_and_text_round_trip() {
        let dir = std::env::temp_dir().join(format!("hip-core-matrix-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let data: Vec<f64> = (0..12).map(|k| k as f64 * 0.1 - 0.3).collect();
        let npy = dir.join("m.npy");
        write_npy(&npy, 3, 4, &data).unwrap();
        assert_eq!(read_matrix(&npy).unwrap(), Matrix { rows: 3, cols: 4, data: data.clone() });
        let txt = dir.join("m.txt");
        write_text(&txt, 3, 4, &data).unwrap();
        assert_eq!(read_matrix(&txt).unwrap(), Matrix { rows: 3, cols: 4, data });
        std::fs::write(&txt, "1 2\n3\n").unwrap();
        assert!(read_matrix(&txt).unwrap_err().to_string().contains(":2:"));
        std::fs::write(&npy, b"garbage").unwrap();
        assert!(read_matrix(&npy).unwrap_err().to_string().contains("not a .npy"));
        std::fs::remove_dir_all(&dir).ok();
    }
}
