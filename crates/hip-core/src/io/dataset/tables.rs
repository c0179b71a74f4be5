//! The per-sample index tables of a dataset and their checks, apart from HDF5: counts, offsets
//! and indices as stored (signed integers) are checked against what they index into, with
//! overflow-free arithmetic, before anything is read or allocated by them. `Dataset::open` runs
//! this on every file; the `dataset_tables` fuzz target runs it on arbitrary tables.

use super::HessianLayout;
use crate::{Error, Result};

/// The tables as stored, before any check.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RawTables {
    /// Atoms per sample.
    pub n_atoms: Vec<i64>,
    /// First row of each sample in the per-atom arrays.
    pub atom_offset: Vec<i64>,
    /// First value of each sample in the Hessian array.
    pub hessian_offset: Vec<i64>,
    /// Index into the split names.
    pub split: Vec<i64>,
    /// Index into the kind names (absent: all 0).
    pub kind: Option<Vec<i64>>,
    /// Index into the molecule table.
    pub molecule_index: Vec<i64>,
    /// Index into the reaction table, negative for none (absent: none).
    pub reaction_index: Option<Vec<i64>>,
    /// Length of the energy array.
    pub n_energies: usize,
}

/// What the tables index into.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Extents {
    /// Rows of the per-atom arrays.
    pub total_atoms: usize,
    /// Values of the Hessian array.
    pub total_hessian: usize,
    /// How Hessians are stored.
    pub layout: HessianLayout,
    /// Split names.
    pub n_splits: usize,
    /// Kind names.
    pub n_kinds: usize,
    /// Molecules.
    pub n_molecules: usize,
    /// Reactions.
    pub n_reactions: usize,
}

/// Checked tables: every sample's atoms and Hessian lie inside the arrays, contiguously and
/// covering them exactly, and every index is in range.
#[derive(Clone, Debug, PartialEq)]
pub struct Tables {
    /// Atoms per sample (≥ 1).
    pub n_atoms: Vec<usize>,
    /// First atom row of each sample.
    pub atom_offset: Vec<usize>,
    /// First Hessian value of each sample.
    pub hessian_offset: Vec<usize>,
    /// Split index of each sample.
    pub split: Vec<usize>,
    /// Kind index of each sample.
    pub kind: Vec<usize>,
    /// Molecule index of each sample.
    pub molecule_index: Vec<usize>,
    /// Reaction index of each sample, if any.
    pub reaction_index: Vec<Option<usize>>,
}

fn to_usize(ctx: &str, name: &str, v: Vec<i64>) -> Result<Vec<usize>> {
    v.into_iter()
        .enumerate()
        .map(|(i, x)| usize::try_from(x).map_err(|_| Error::invalid(ctx, format!("{name}[{i}] = {x} is negative"))))
        .collect()
}

impl Tables {
    /// Checks `raw` against `ext`; `ctx` (the file) starts every error message.
    pub fn check(ctx: &str, raw: RawTables, ext: &Extents) -> Result<Tables> {
        let n_atoms = to_usize(ctx, "n_atoms", raw.n_atoms)?;
        let s = n_atoms.len();
        let atom_offset = to_usize(ctx, "atom_offset", raw.atom_offset)?;
        let hessian_offset = to_usize(ctx, "hessian_offset", raw.hessian_offset)?;
        let split = to_usize(ctx, "split", raw.split)?;
        let kind = match raw.kind {
            Some(k) => to_usize(ctx, "kind", k)?,
            None => vec![0; s],
        };
        let molecule_index = to_usize(ctx, "molecule_index", raw.molecule_index)?;
        let reaction_index: Vec<Option<usize>> = match raw.reaction_index {
            Some(r) => r.into_iter().map(|r| usize::try_from(r).ok()).collect(),
            None => vec![None; s],
        };
        for (name, len) in [
            ("atom_offset", atom_offset.len()),
            ("hessian_offset", hessian_offset.len()),
            ("energy", raw.n_energies),
            ("split", split.len()),
            ("kind", kind.len()),
            ("molecule_index", molecule_index.len()),
            ("reaction_index", reaction_index.len()),
        ] {
            if len != s {
                return Err(Error::invalid(ctx, format!("{name} has {len} entries but n_atoms has {s}")));
            }
        }
        let (mut next_atom, mut next_h) = (0usize, 0usize);
        for i in 0..s {
            let n = n_atoms[i];
            if n == 0 {
                return Err(Error::invalid(ctx, format!("sample {i}: n_atoms is 0")));
            }
            // next_atom ≤ total_atoms here, so neither sum overflows once n ≤ total_atoms
            if n > ext.total_atoms || atom_offset[i] != next_atom || next_atom + n > ext.total_atoms {
                return Err(Error::invalid(
                    ctx,
                    format!(
                        "sample {i}: {n} atoms at atom_offset {} out of range or not contiguous (expected {next_atom}, {} atoms stored)",
                        atom_offset[i], ext.total_atoms
                    ),
                ));
            }
            // (3n)² must fit in usize before the layout's length is taken; the end of the
            // sample's block must not overflow either
            let hl = 3usize.checked_mul(n).and_then(|d| d.checked_mul(d)).map(|_| ext.layout.len(n));
            let end = hl.and_then(|hl| next_h.checked_add(hl));
            let Some(hl) = hl.filter(|_| hessian_offset[i] == next_h && end.is_some_and(|e| e <= ext.total_hessian))
            else {
                return Err(Error::invalid(
                    ctx,
                    format!(
                        "sample {i}: hessian_offset {} out of range or not contiguous (expected {next_h}, {} values stored)",
                        hessian_offset[i], ext.total_hessian
                    ),
                ));
            };
            next_atom += n;
            next_h += hl;
        }
        if next_atom != ext.total_atoms || next_h != ext.total_hessian {
            return Err(Error::invalid(
                ctx,
                format!(
                    "the per-sample counts cover {next_atom} atoms / {next_h} Hessian values, the file stores {} / {}",
                    ext.total_atoms, ext.total_hessian
                ),
            ));
        }
        for i in 0..s {
            if split[i] >= ext.n_splits {
                return Err(Error::invalid(
                    ctx,
                    format!("sample {i}: split {} is not an index into the {} split names", split[i], ext.n_splits),
                ));
            }
            if kind[i] >= ext.n_kinds {
                return Err(Error::invalid(
                    ctx,
                    format!("sample {i}: kind {} is not an index into the {} kind names", kind[i], ext.n_kinds),
                ));
            }
            if molecule_index[i] >= ext.n_molecules {
                return Err(Error::invalid(
                    ctx,
                    format!(
                        "sample {i}: molecule_index {} out of range ({} molecules)",
                        molecule_index[i], ext.n_molecules
                    ),
                ));
            }
            if let Some(r) = reaction_index[i]
                && r >= ext.n_reactions
            {
                return Err(Error::invalid(
                    ctx,
                    format!("sample {i}: reaction_index {r} out of range ({} reactions)", ext.n_reactions),
                ));
            }
        }
        Ok(Tables { n_atoms, atom_offset, hessian_offset, split, kind, molecule_index, reaction_index })
    }
}
