//! XYZ and extended-XYZ reading and writing.
//!
//! A frame is: a line with the atom count; a comment line; one line per atom,
//! `SYMBOL x y z [more columns]` (Å; a symbol may also be an atomic number). Extended XYZ puts
//! `key=value` pairs on the comment line; `Properties=species:S:1:pos:R:3:...` says which columns
//! hold the species and positions, and `charge=`/`multiplicity=` set those fields. Other keys
//! (e.g. `energy=`) are returned in [`Frame::info`].

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use crate::elements;
use crate::{Error, Molecule, Result};

/// One frame of an (extended) XYZ file.
#[derive(Clone, Debug, PartialEq)]
pub struct Frame {
    /// The molecule.
    pub molecule: Molecule,
    /// The raw comment line.
    pub comment: String,
    /// `key=value` pairs of an extended-XYZ comment line (empty for plain XYZ).
    pub info: BTreeMap<String, String>,
}

/// Reads every frame of an XYZ/extXYZ file.
pub fn read_xyz_frames(path: &Path) -> Result<Vec<Frame>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    parse_xyz(&text, path)
}

/// Reads the first frame of an XYZ/extXYZ file.
pub fn read_xyz(path: &Path) -> Result<Molecule> {
    Ok(read_xyz_frames(path)?.swap_remove(0).molecule)
}

/// Parses XYZ text; `path` is only used in error messages.
pub fn parse_xyz(text: &str, path: &Path) -> Result<Vec<Frame>> {
    let lines: Vec<&str> = text.lines().collect();
    let mut frames = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim().is_empty() {
            i += 1;
            continue;
        }
        let count_line = i + 1;
        let n: usize = lines[i].trim().parse().map_err(|_| {
            Error::parse(path, count_line, format!("expected the number of atoms, found \"{}\"", lines[i].trim()))
        })?;
        if n == 0 {
            return Err(Error::parse(path, count_line, "the frame has 0 atoms"));
        }
        let comment = lines.get(i + 1).ok_or_else(|| Error::parse(path, count_line + 1, "missing comment line"))?;
        let info = parse_info(comment);
        if let Some(why) = periodic(&info) {
            return Err(Error::parse(
                path,
                count_line + 1,
                format!("periodic systems are not supported ({why}); give an isolated molecule"),
            ));
        }
        let (species_col, pos_col) = columns(&info).map_err(|m| Error::parse(path, count_line + 1, m))?;
        // capacity bounded by the lines that exist: a count line of 10¹⁴ must not allocate
        let available = lines.len().saturating_sub(i + 2);
        let mut numbers = Vec::with_capacity(n.min(available));
        let mut positions = Vec::with_capacity(n.min(available));
        for k in 0..n {
            let line_no = i + 3 + k;
            let line = lines.get(i + 2 + k).ok_or_else(|| {
                Error::parse(path, line_no, format!("expected {n} atom lines, the file ends after {k}"))
            })?;
            let fields: Vec<&str> = line.split_whitespace().collect();
            let needed = species_col.max(pos_col + 2) + 1;
            if fields.len() < needed {
                return Err(Error::parse(
                    path,
                    line_no,
                    format!("expected an atom line \"SYMBOL x y z\" ({needed} columns), found \"{}\"", line.trim()),
                ));
            }
            let sym = fields[species_col];
            let z = match sym.parse::<u8>() {
                Ok(z) => elements::symbol(z).map(|_| z),
                Err(_) => elements::atomic_number(sym),
            }
            .map_err(|e| Error::parse(path, line_no, e.to_string()))?;
            let mut p = [0.0; 3];
            for (c, v) in p.iter_mut().enumerate() {
                let f = fields[pos_col + c];
                *v = f.parse::<f64>().map_err(|_| {
                    Error::parse(path, line_no, format!("coordinate {} is not a number: \"{f}\"", ["x", "y", "z"][c]))
                })?;
                if !v.is_finite() {
                    return Err(Error::parse(
                        path,
                        line_no,
                        format!("coordinate {} is not finite: {f}", ["x", "y", "z"][c]),
                    ));
                }
            }
            numbers.push(z);
            positions.push(p);
        }
        let mut molecule = Molecule { numbers, positions, charge: 0, multiplicity: 1 };
        if let Some(c) = info.get("charge") {
            molecule.charge = c
                .parse()
                .map_err(|_| Error::parse(path, count_line + 1, format!("charge=\"{c}\" is not an integer")))?;
        }
        if let Some(m) = info.get("multiplicity") {
            molecule.multiplicity = m.parse().map_err(|_| {
                Error::parse(path, count_line + 1, format!("multiplicity=\"{m}\" is not a positive integer"))
            })?;
        }
        molecule.validate().map_err(|e| Error::parse(path, count_line, e.to_string()))?;
        frames.push(Frame { molecule, comment: comment.to_string(), info });
        i += 2 + n;
    }
    if frames.is_empty() {
        return Err(Error::parse(path, 1, "no frame: the file is empty"));
    }
    Ok(frames)
}

/// Why an extended-XYZ comment describes a periodic system (`pbc` with a `T`, or a `Lattice`
/// without `pbc="F F F"`), or `None`.
fn periodic(info: &BTreeMap<String, String>) -> Option<String> {
    let pbc = info.iter().find(|(k, _)| k.eq_ignore_ascii_case("pbc")).map(|(_, v)| v.clone());
    let lattice = info.keys().any(|k| k.eq_ignore_ascii_case("lattice"));
    match pbc {
        Some(v) if v.split_whitespace().any(|t| matches!(t, "T" | "t" | "True" | "true" | "1")) => {
            Some(format!("pbc=\"{v}\""))
        }
        Some(_) => None,
        None if lattice => Some("Lattice= without pbc=\"F F F\"".into()),
        None => None,
    }
}

/// `key=value` pairs (values may be double-quoted). Plain comments give an empty map.
fn parse_info(comment: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let chars: Vec<char> = comment.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        let start = i;
        while i < chars.len() && chars[i] != '=' && !chars[i].is_whitespace() {
            i += 1;
        }
        let key: String = chars[start..i].iter().collect();
        if i >= chars.len() || chars[i] != '=' {
            continue;
        }
        i += 1;
        let value: String = if i < chars.len() && chars[i] == '"' {
            i += 1;
            let s = i;
            while i < chars.len() && chars[i] != '"' {
                i += 1;
            }
            let v = chars[s..i].iter().collect();
            i += 1;
            v
        } else {
            let s = i;
            while i < chars.len() && !chars[i].is_whitespace() {
                i += 1;
            }
            chars[s..i].iter().collect()
        };
        if !key.is_empty() {
            out.insert(key, value);
        }
    }
    out
}

/// Column of the species and of the first position component.
fn columns(info: &BTreeMap<String, String>) -> std::result::Result<(usize, usize), String> {
    let Some(props) = info.get("Properties") else { return Ok((0, 1)) };
    let parts: Vec<&str> = props.split(':').collect();
    if parts.len() % 3 != 0 {
        return Err(format!("Properties=\"{props}\" is not a list of name:type:count triples"));
    }
    let (mut species, mut pos, mut col) = (None, None, 0usize);
    for t in parts.chunks(3) {
        let count: usize = t[2].parse().map_err(|_| format!("Properties: count \"{}\" is not an integer", t[2]))?;
        match t[0] {
            "species" => species = Some(col),
            "pos" => pos = Some(col),
            _ => {}
        }
        col += count;
    }
    match (species, pos) {
        (Some(s), Some(p)) => Ok((s, p)),
        _ => Err(format!("Properties=\"{props}\" must name both species and pos")),
    }
}

/// Formats a molecule as an extended-XYZ frame.
pub fn format_xyz(mol: &Molecule, comment: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{}", mol.len());
    let _ = writeln!(s, "{}", comment.replace('\n', " "));
    for (z, p) in mol.numbers.iter().zip(&mol.positions) {
        let _ =
            writeln!(s, "{:<2} {:>18.10} {:>18.10} {:>18.10}", elements::symbol(*z).unwrap_or("X"), p[0], p[1], p[2]);
    }
    s
}

/// Writes several frames to one (multi-frame) XYZ file, atomically.
pub fn write_xyz_frames(path: &Path, frames: &[(&Molecule, String)]) -> Result<()> {
    let text: String = frames.iter().map(|(m, c)| format_xyz(m, c)).collect();
    super::atomic::write(path, text)
}

/// Writes one frame to `path`.
pub fn write_xyz(path: &Path, mol: &Molecule, comment: &str) -> Result<()> {
    super::atomic::write(path, format_xyz(mol, comment))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<Frame>> {
        parse_xyz(text, Path::new("test.xyz"))
    }

    #[test]
    fn plain_and_extended() {
        let f = parse("3\nwater\nO 0 0 0\nH 0.96 0 0\nH -0.24 0.93 0\n").unwrap();
        assert_eq!(f[0].molecule.numbers, vec![8, 1, 1]);
        let ext = "2\nProperties=species:S:1:forces:R:3:pos:R:3 energy=-1.5 charge=1 multiplicity=2 note=\"a b\"\nH 1 2 3 0 0 0\nH 4 5 6 0 0 0.74\n";
        let f = parse(ext).unwrap();
        assert_eq!(f[0].molecule.positions[1], [0.0, 0.0, 0.74]);
        assert_eq!((f[0].molecule.charge, f[0].molecule.multiplicity), (1, 2));
        assert_eq!(f[0].info["energy"], "-1.5");
        assert_eq!(f[0].info["note"], "a b");
    }

    #[test]
    fn round_trip() {
        let mol = Molecule::new(vec![6, 8], vec![[0.0, 0.0, 0.0], [1.128, 0.0, 0.0]]).unwrap();
        let back = parse(&format_xyz(&mol, "co")).unwrap();
        assert_eq!(back[0].molecule, mol);
    }

    #[test]
    fn errors_name_file_line_and_problem() {
        let cases = [
            ("x\n\n", ":1:", "number of atoms"),
            ("2\nc\nH 0 0 0\n", ":4:", "file ends"),
            ("1\nc\nQq 0 0 0\n", ":3:", "unknown element"),
            ("1\nc\nH 0 zero 0\n", ":3:", "not a number"),
            ("1\nc\nH 0 NaN 0\n", ":3:", "not finite"),
            ("1\nc\nH 0 0\n", ":3:", "SYMBOL x y z"),
            ("0\nc\n", ":1:", "0 atoms"),
            ("", ":1:", "empty"),
            ("99999999999999\nc\nH 0 0 0\n", ":4:", "file ends after 1"),
            ("1\nLattice=\"5 0 0 0 5 0 0 0 5\" pbc=\"T T T\"\nH 0 0 0\n", ":2:", "periodic systems are not supported"),
            ("1\nLattice=\"5 0 0 0 5 0 0 0 5\"\nH 0 0 0\n", ":2:", "periodic"),
            ("1\nc\nH 1e308 0 0\n", ":1:", "not a molecular geometry"),
        ];
        for (text, at, what) in cases {
            let e = parse(text).unwrap_err().to_string();
            assert!(e.contains("test.xyz") && e.contains(at) && e.contains(what), "{text:?} -> {e}");
        }
    }
}
