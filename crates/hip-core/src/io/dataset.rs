//! HDF5 Hessian datasets (`hip-hessian-dataset`, format version 1; documented in
//! `datasets/README.md`).
//!
//! Ragged samples are concatenated into flat arrays with per-sample counts and offsets, so a
//! sample is read with a few slice reads and the file is never loaded whole:
//!
//! | dataset | shape | type | meaning |
//! | --- | --- | --- | --- |
//! | `n_atoms` | (S,) | int | atoms per sample |
//! | `atom_offset` | (S,) | int | first row of the sample in the per-atom arrays |
//! | `hessian_offset` | (S,) | int | first element of the sample in the Hessian array |
//! | `atomic_numbers` | (A,) | int | |
//! | `positions`, `forces` | (A, 3) | float | Å, eV/Å |
//! | `energy` | (S,) | float | eV |
//! | `hessian_triu` *or* `hessian` | (Σ 3N(3N+1)/2,) or (Σ (3N)²,) | float | eV/Å²: packed upper triangle (row-major, with diagonal) or full row-major matrices |
//! | `split`, `kind` | (S,) | int | indices into the `split_names` / `kind_names` attributes (JSON lists) |
//! | `molecule_index`, `reaction_index` | (S,) | int | into `molecule_id`/`molecule_smiles` and `reaction_id` (−1: none) |
//! | `sum_rule_residual` | (S,) | float | max over rows of Σ_j H_ij (optional) |
//!
//! Root attributes: `format_name` = `hip-hessian-dataset`, `format_version` = 1,
//! `level_of_theory`, `units` (JSON), and free-form provenance (`generator_settings`, ...).

use std::collections::BTreeMap;

use crate::{Hessian, Molecule};

#[cfg(feature = "hdf5")]
mod h5;
pub mod tables;
#[cfg(feature = "hdf5")]
pub use h5::{Dataset, Filter, KindStats, ReactionSamples, write_dataset};

/// The format name written in the `format_name` attribute.
pub const FORMAT_NAME: &str = "hip-hessian-dataset";
/// The format version this code reads and writes.
pub const FORMAT_VERSION: i64 = 1;
/// Tolerance of the symmetry check for full (`hessian`) storage, eV/Å²: values are usually f32,
/// whose round-off on entries up to ~100 eV/Å² is ~1e-5; a real asymmetry is far larger.
pub const SYMMETRY_TOLERANCE: f64 = 1e-3;

/// Configuration kinds of the generator.
pub const KIND_NAMES: [&str; 5] = ["minimum", "thermal", "displaced", "ts", "path"];
/// Split names.
pub const SPLIT_NAMES: [&str; 3] = ["train", "val", "test"];

/// How the Hessians are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HessianLayout {
    /// `hessian_triu`: packed upper triangles.
    UpperTriangle,
    /// `hessian`: full matrices.
    Full,
}

impl HessianLayout {
    #[cfg(feature = "hdf5")]
    pub(crate) fn dataset(self) -> &'static str {
        match self {
            HessianLayout::UpperTriangle => "hessian_triu",
            HessianLayout::Full => "hessian",
        }
    }
    /// Stored values for an `n`-atom Hessian.
    pub fn len(self, n_atoms: usize) -> usize {
        let d = 3 * n_atoms;
        match self {
            HessianLayout::UpperTriangle => d * (d + 1) / 2,
            HessianLayout::Full => d * d,
        }
    }
}

/// One configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// Index in the file.
    pub index: usize,
    /// Atoms and positions (Å).
    pub molecule: Molecule,
    /// Energy, eV.
    pub energy: f64,
    /// Forces, eV/Å.
    pub forces: Vec<[f64; 3]>,
    /// Hessian, eV/Å².
    pub hessian: Hessian,
    /// `train`, `val` or `test`.
    pub split: String,
    /// `minimum`, `thermal`, `displaced`, `ts` or `path`.
    pub kind: String,
    /// Molecule identifier.
    pub molecule_id: String,
    /// Reaction identifier, if the sample belongs to one.
    pub reaction_id: Option<String>,
}

/// Packed row-major upper triangle (with diagonal) of a `d × d` symmetric matrix → full matrix.
pub fn unpack_upper(packed: &[f64], d: usize) -> Vec<f64> {
    let mut full = vec![0.0; d * d];
    let mut k = 0;
    for r in 0..d {
        for c in r..d {
            full[r * d + c] = packed[k];
            full[c * d + r] = packed[k];
            k += 1;
        }
    }
    full
}

/// Row-major upper triangle (with diagonal) of a `d × d` matrix.
pub fn pack_upper(full: &[f64], d: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity(d * (d + 1) / 2);
    for r in 0..d {
        out.extend_from_slice(&full[r * d + r..(r + 1) * d]);
    }
    out
}

/// What `hip data info` prints.
#[derive(Clone, Debug, PartialEq)]
pub struct Info {
    /// File.
    pub path: String,
    /// Number of samples.
    pub n_samples: usize,
    /// Level of theory.
    pub level_of_theory: String,
    /// Distinct molecules referenced by samples.
    pub n_molecules: usize,
    /// Reactions in the table.
    pub n_reactions: usize,
    /// Samples per split.
    pub by_split: BTreeMap<String, usize>,
    /// Samples per kind.
    pub by_kind: BTreeMap<String, usize>,
    /// Atoms per element, over all samples.
    pub atoms_by_element: BTreeMap<String, usize>,
    /// Smallest sample.
    pub atoms_min: usize,
    /// Mean sample size.
    pub atoms_mean: f64,
    /// Largest sample.
    pub atoms_max: usize,
    /// Hessian storage.
    pub hessian_layout: String,
    /// File size.
    pub file_size_bytes: u64,
}

/// A sample to write.
#[derive(Clone, Debug)]
pub struct Record {
    /// Atoms and positions.
    pub molecule: Molecule,
    /// Energy, eV.
    pub energy: f64,
    /// Forces, eV/Å.
    pub forces: Vec<[f64; 3]>,
    /// Hessian, eV/Å² (symmetrized when packed).
    pub hessian: Hessian,
    /// `train`, `val` or `test`.
    pub split: String,
    /// One of [`KIND_NAMES`].
    pub kind: String,
    /// Molecule identifier (and SMILES, may be empty).
    pub molecule_id: String,
    /// SMILES.
    pub smiles: String,
    /// Reaction identifier.
    pub reaction_id: Option<String>,
}
