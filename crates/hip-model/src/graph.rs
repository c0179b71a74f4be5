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
    /// Hessian-graph edges.
    pub h_src: Tensor,
    /// Hessian-graph receivers.
    pub h_dst: Tensor,
    /// Number of Hessian edges.
    pub n_h_edges: usize,
    /// For each Hessian edge `e = (s→t)` and `(a, b)`: flat index of `H[3s+a, 3t+b]` (`E·9`).
    pub idx_st: Tensor,
    /// Flat index of `H[3t+b, 3s+a]` (the transposed block).
    pub idx_ts: Tensor,
    /// For each atom and `(a, b)`: flat index of `H[3i+a, 3i+b]`.
    pub idx_ii: Tensor,
    /// Flat index of `H[3i+b, 3i+a]`.
    pub idx_ii_t: Tensor,
    /// Hessian-edge source and receiver as plain vectors (for the sum-rule variant).
    pub h_pairs: Vec<(usize, usize)>,
    /// Offset of each molecule's Hessian in the flat buffer; the last entry is the total size.
    pub h_offsets: Vec<usize>,
}

impl Batch {
    /// Builds the batch; fails on an element the model does not know.
    pub fn new(mols: &[&Molecule], cfg: &ModelConfig, device: &Device) -> Result<Self> {
        let mut positions = Vec::new();
        let (mut species, mut mol_of_atom, mut n_atoms, mut numbers) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let (mut src, mut dst, mut hs, mut hd) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let (mut idx_st, mut idx_ts, mut idx_ii, mut idx_ii_t) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut h_offsets = vec![0usize];
        let mut h_pairs = Vec::new();
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
            for (s, t) in radius_graph(&mol.positions, cfg.hessian_cutoff) {
                hs.push((atom0 + s) as u32);
                hd.push((atom0 + t) as u32);
                h_pairs.push((atom0 + s, atom0 + t));
                for a in 0..3 {
                    for b in 0..3 {
                        idx_st.push((off + (3 * s + a) * d + 3 * t + b) as u32);
                        idx_ts.push((off + (3 * t + b) * d + 3 * s + a) as u32);
                    }
                }
            }
            for i in 0..n {
                for a in 0..3 {
                    for b in 0..3 {
                        idx_ii.push((off + (3 * i + a) * d + 3 * i + b) as u32);
                        idx_ii_t.push((off + (3 * i + b) * d + 3 * i + a) as u32);
                    }
                }
            }
            h_offsets.push(off + d * d);
            n_atoms.push(n);
            atom0 += n;
        }
        let t = |v: Vec<u32>| Tensor::from_vec(v.clone(), v.len(), device);
        let (n_edges, n_h_edges) = (src.len(), hs.len());
        Ok(Batch {
            positions: Tensor::from_vec(positions, (atom0, 3), device)?,
            species: t(species)?,
            mol_of_atom: t(mol_of_atom)?,
            n_atoms,
            numbers,
            src: t(src)?,
            dst: t(dst)?,
            n_edges,
            h_src: t(hs)?,
            h_dst: t(hd)?,
            n_h_edges,
            idx_st: t(idx_st)?,
            idx_ts: t(idx_ts)?,
            idx_ii: t(idx_ii)?,
            idx_ii_t: t(idx_ii_t)?,
            h_pairs,
            h_offsets,
        })
    }

    /// Total atoms.
    pub fn n_total_atoms(&self) -> usize {
        self.n_atoms.iter().sum()
    }
}
