//! Graphs: the backbone's radius graph (cell list, O(N) for large N), the Hessian graph, and
//! batching of several molecules into one disjoint graph.

use candle_core::{Device, Tensor};
use hip_core::Molecule;

use crate::{ModelConfig, Result};

/// Directed edges `(src, dst)` between atoms closer than `cutoff`, no self-loops. Uses a cell
/// list (cells of side `cutoff`), so the cost is O(N) for bounded density; both directions of
/// each pair are listed. Sorted by `(src, dst)` for determinism.
///
/// ```
/// let p = [[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [5.0, 0.0, 0.0]];
/// assert_eq!(hip_model::graph::radius_graph(&p, 2.0), vec![(0, 1), (1, 0)]);
/// ```
pub fn radius_graph(positions: &[[f64; 3]], cutoff: f64) -> Vec<(usize, usize)> {
    let n = positions.len();
    let c2 = cutoff * cutoff;
    let d2 = |i: usize, j: usize| (0..3).map(|k| (positions[i][k] - positions[j][k]).powi(2)).sum::<f64>();
    let mut edges = Vec::new();
    if n <= 64 {
        for i in 0..n {
            for j in 0..n {
                if i != j && d2(i, j) < c2 {
                    edges.push((i, j));
                }
            }
        }
        return edges;
    }
    let mut lo = [f64::INFINITY; 3];
    for p in positions {
        for k in 0..3 {
            lo[k] = lo[k].min(p[k]);
        }
    }
    let cell = |p: &[f64; 3]| -> [i64; 3] { [0, 1, 2].map(|k| ((p[k] - lo[k]) / cutoff).floor() as i64) };
    let mut cells: std::collections::HashMap<[i64; 3], Vec<usize>> = std::collections::HashMap::new();
    for (i, p) in positions.iter().enumerate() {
        cells.entry(cell(p)).or_default().push(i);
    }
    for i in 0..n {
        let c = cell(&positions[i]);
        for dx in -1..=1 {
            for dy in -1..=1 {
                for dz in -1..=1 {
                    if let Some(list) = cells.get(&[c[0] + dx, c[1] + dy, c[2] + dz]) {
                        for &j in list {
                            if i != j && d2(i, j) < c2 {
                                edges.push((i, j));
                            }
                        }
                    }
                }
            }
        }
    }
    edges.sort_unstable();
    edges
}

/// Several molecules as one disjoint graph, with everything the model needs precomputed.
#[derive(Debug)]
pub struct Batch {
    /// Flat positions `(N, 3)`.
    pub positions: Tensor,
    /// Species index of each atom `(N,)`, u32.
    pub species: Tensor,
    /// Molecule of each atom `(N,)`, u32.
    pub mol_of_atom: Tensor,
    /// Atoms per molecule.
    pub n_atoms: Vec<usize>,
    /// Atomic numbers, concatenated.
    pub numbers: Vec<u8>,
    /// Backbone edges (u32 tensors).
    pub src: Tensor,
    /// Backbone edge receivers.
    pub dst: Tensor,
    /// Number of backbone edges.
    pub n_edges: usize,
    /// Atom pairs `(s, t)`, `s < t` (batch-global atom indices, increasing) of the Hessian
    /// graph: one stored off-diagonal block each.
    pub pairs: Vec<(usize, usize)>,
    /// For each pair, `s` `(P,)`.
    pub pair_src: Tensor,
    /// For each pair, `t` `(P,)`.
    pub pair_dst: Tensor,
    /// First atom of each molecule in the batch.
    pub atom_offsets: Vec<usize>,
    /// Offset of each molecule's Hessian in the flat dense buffer; the last entry is the total
    /// size.
    pub h_offsets: Vec<usize>,
}

impl Batch {
    /// Builds the batch; fails on an element the model does not know.
    pub fn new(mols: &[&Molecule], cfg: &ModelConfig, device: &Device) -> Result<Self> {
        let mut positions = Vec::new();
        let (mut species, mut mol_of_atom, mut n_atoms, mut numbers) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let (mut src, mut dst, mut pairs) = (Vec::new(), Vec::new(), Vec::new());
        let mut h_offsets = vec![0usize];
        let mut atom_offsets = Vec::new();
        let mut atom0 = 0usize;
        for (m, mol) in mols.iter().enumerate() {
            mol.validate()?;
            let n = mol.len();
            for (k, &z) in mol.numbers.iter().enumerate() {
                let s = cfg.species_index(z).ok_or_else(|| {
                    crate::Error::Input(format!(
                        "atom {k}: element Z={z} is not in the model's species {:?}",
                        cfg.species
                    ))
                })?;
                species.push(s as u32);
                mol_of_atom.push(m as u32);
            }
            positions.extend(mol.positions.iter().flatten().copied());
            numbers.extend_from_slice(&mol.numbers);
            for (i, j) in radius_graph(&mol.positions, cfg.cutoff) {
                src.push((atom0 + i) as u32);
                dst.push((atom0 + j) as u32);
            }
            let off = *h_offsets.last().expect("non-empty");
            let d = 3 * n;
            // the Hessian graph lists both directions of each pair, sorted: keep s < t
            let h_edges = radius_graph(&mol.positions, cfg.hessian_cutoff);
            pairs.extend(h_edges.into_iter().filter(|(s, t)| s < t).map(|(s, t)| (atom0 + s, atom0 + t)));
            atom_offsets.push(atom0);
            h_offsets.push(off + d * d);
            n_atoms.push(n);
            atom0 += n;
        }
        let t = |v: Vec<u32>| {
            let len = v.len();
            Tensor::from_vec(v, len, device)
        };
        let n_edges = src.len();
        Ok(Batch {
            positions: Tensor::from_vec(positions, (atom0, 3), device)?,
            species: t(species)?,
            mol_of_atom: t(mol_of_atom)?,
            n_atoms,
            numbers,
            src: t(src)?,
            dst: t(dst)?,
            n_edges,
            pair_src: t(pairs.iter().map(|p| p.0 as u32).collect())?,
            pair_dst: t(pairs.iter().map(|p| p.1 as u32).collect())?,
            pairs,
            atom_offsets,
            h_offsets,
        })
    }

    /// Total atoms.
    pub fn n_total_atoms(&self) -> usize {
        self.n_atoms.iter().sum()
    }
}
