//! What the hip-core fuzz targets check, shared with the corpus replay test
//! (`crates/hip-core/tests/fuzz_corpus.rs` includes this file by path). Each function takes any
//! bytes; it returns normally on a clean error and panics on a broken invariant.

#![allow(dead_code)] // each fuzz target uses one of these checks
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

/// Arbitrary index tables of a dataset and what they index into (decoded from the bytes).
#[derive(arbitrary::Arbitrary, Debug)]
struct TablesInput {
    n_atoms: Vec<i64>,
    atom_offset: Vec<i64>,
    hessian_offset: Vec<i64>,
    split: Vec<i64>,
    kind: Option<Vec<i64>>,
    molecule_index: Vec<i64>,
    reaction_index: Option<Vec<i64>>,
    n_energies: u16,
    total_atoms: u64,
    total_hessian: u64,
    full: bool,
    n_splits: u8,
    n_kinds: u8,
    n_molecules: u16,
    n_reactions: u16,
}

/// Dataset index tables (`Tables::check`, what `Dataset::open` runs on every file): a clean
/// error, or tables whose every sample lies inside the arrays, contiguously, covering them.
pub fn dataset_tables(data: &[u8]) {
    use arbitrary::Arbitrary;
    use hip_core::io::dataset::HessianLayout;
    use hip_core::io::dataset::tables::{Extents, RawTables, Tables};
    let Ok(t) = TablesInput::arbitrary_take_rest(arbitrary::Unstructured::new(data)) else { return };
    // consistent sizes are rare in random input: derive the totals from the counts when they
    // would otherwise be absurd, so the fuzzer reaches the index checks
    let layout = if t.full { HessianLayout::Full } else { HessianLayout::UpperTriangle };
    let raw = RawTables {
        n_energies: if t.n_energies == u16::MAX { t.n_atoms.len() } else { t.n_energies as usize },
        n_atoms: t.n_atoms,
        atom_offset: t.atom_offset,
        hessian_offset: t.hessian_offset,
        split: t.split,
        kind: t.kind,
        molecule_index: t.molecule_index,
        reaction_index: t.reaction_index,
    };
    let ext = Extents {
        total_atoms: t.total_atoms as usize,
        total_hessian: t.total_hessian as usize,
        layout,
        n_splits: t.n_splits as usize,
        n_kinds: t.n_kinds as usize,
        n_molecules: t.n_molecules as usize,
        n_reactions: t.n_reactions as usize,
    };
    if let Ok(tab) = Tables::check("fuzz.h5", raw, &ext) {
        let (mut atoms, mut values) = (0usize, 0usize);
        for i in 0..tab.n_atoms.len() {
            assert_eq!(tab.atom_offset[i], atoms);
            assert_eq!(tab.hessian_offset[i], values);
            atoms += tab.n_atoms[i];
            values += layout.len(tab.n_atoms[i]);
            assert!(
                tab.split[i] < ext.n_splits && tab.kind[i] < ext.n_kinds && tab.molecule_index[i] < ext.n_molecules
            );
        }
        assert_eq!((atoms, values), (ext.total_atoms, ext.total_hessian));
    }
}
