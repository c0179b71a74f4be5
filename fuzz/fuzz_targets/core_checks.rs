//! What the hip-core fuzz targets check, shared with the corpus replay test
//! (`crates/hip-core/tests/fuzz_corpus.rs` includes this file by path). Each function takes any
//! bytes; it returns normally on a clean error and panics on a broken invariant.

use std::path::Path;

use hip_core::io::matrix::{parse_npy, parse_text};
use hip_core::io::xyz::{format_xyz, parse_xyz};

/// XYZ / extended XYZ: frames or a clean error; parsed molecules are valid, survive the
/// model-domain check and round-trip through `format_xyz`.
pub fn xyz(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(frames) = parse_xyz(text, Path::new("fuzz.xyz")) {
        for f in &frames {
            f.molecule.validate().expect("a parsed molecule is valid");
            let _ = hip_core::domain::check(&f.molecule, 5.0);
            let again = parse_xyz(&format_xyz(&f.molecule, "x"), Path::new("again.xyz")).expect("round trip parses");
            assert_eq!(again[0].molecule.numbers, f.molecule.numbers);
        }
    }
}

/// `.npy`: a matrix whose shape matches its data, or a clean error; then a Hessian or a clean
/// error.
pub fn npy(data: &[u8]) {
    if let Ok(m) = parse_npy(data, Path::new("fuzz.npy")) {
        assert_eq!(m.rows.checked_mul(m.cols), Some(m.data.len()));
        let _ = hip_core::Hessian::from_shape(m.rows / 3, m.rows, m.cols, m.data);
    }
}

/// Text matrices: a rectangular matrix or a clean error.
pub fn text_matrix(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(m) = parse_text(text, Path::new("fuzz.txt")) {
        assert_eq!(m.rows.checked_mul(m.cols), Some(m.data.len()));
        let _ = hip_core::Hessian::from_shape(m.rows / 3, m.rows, m.cols, m.data);
    }
}
