//! Pair tensor product: for each edge `s → t`, the elementwise (`uuu`) product `h_s ⊗ h_t` of the
//! two atoms' features, channel by channel, along every path whose output type is in `targets`,
//! with per-edge, per-channel weights from a radial MLP. This is the term that makes a HIP pair
//! block depend on both atoms *jointly* (a sum of `h_s ⊗ Y` and `h_t ⊗ Y` cannot).
//!
//! **How it runs.** Paths are grouped by their pair of input blocks `(a, b)` (same multiplicity
//! `m`): one outer product `(E·m, d_a·d_b)` times a constant matrix whose columns are the Wigner
//! 3j of every path of the pair, times its path weight; then one multiplication by the gathered
//! per-edge weights. The output is in the descriptor's order (blocks concatenated), so a
//! following linear layer needs no permutation. [`PairTp::forward`] is tested against the
//! `irreps` reference evaluator.

use candle_core::Tensor;
use irreps::{ConnectionMode, InstructionSpec, Irreps, MulIr, TensorProduct, wigner_3j};

use crate::radial::RadialMlp;
use crate::{Params, Result};

/// Weighted elementwise product of two per-edge feature vectors with the same irreps.
#[derive(Debug)]
pub struct PairTp {
    tp: TensorProduct,
    groups: Vec<PairGroup>,
    /// For each output column (descriptor order), its index in the flat weight vector.
    w_idx: Tensor,
    /// Output columns of each group, concatenated, back to descriptor order.
    perm: Tensor,
    radial: RadialMlp,
}

#[derive(Debug)]
struct PairGroup {
    off1: usize,
    off2: usize,
    mul: usize,
    d1: usize,
    d2: usize,
    /// `(d1·d2, width)`: 3j × path weight of every path of the pair.
    b: Tensor,
}

impl PairTp {
    /// Paths `irreps[i] ⊗ irreps[j] → ir` (`uuu`, weighted) for all blocks `i`, `j` of equal
    /// multiplicity and every `ir` of their product whose type appears in `targets`.
    pub fn new(
        params: &mut Params,
        name: &str,
        irreps: &Irreps,
        targets: &Irreps,
        radial_in: usize,
        hidden: usize,
    ) -> Result<Self> {
        let mut out = Vec::new();
        let mut specs = Vec::new();
        for (i1, a) in irreps.iter().enumerate() {
            for (i2, b) in irreps.iter().enumerate() {
                if a.mul == 0 || a.mul != b.mul {
                    continue;
                }
                for ir in a.ir.tensor(&b.ir) {
                    if targets.iter().any(|t| t.ir == ir) {
                        specs.push(InstructionSpec::new(i1, i2, out.len(), ConnectionMode::Uuu, true));
                        out.push(MulIr { mul: a.mul, ir });
                    }
                }
            }
        }
        if specs.is_empty() {
            return Err(crate::Error::Input(format!("pair tensor product of {irreps}: no path to {targets}")));
        }
        let tp = TensorProduct::new(irreps, irreps, &Irreps(out), &specs, Default::default(), Default::default())?;
        let device = params.device().clone();
        let offs = tp.irreps_in1().offsets();
        let out_offs = tp.irreps_out().offsets();
        let mut groups = Vec::new();
        let mut perm = Vec::new();
        let mut w_idx = vec![0u32; tp.irreps_out().dim()];
        let mut done = vec![false; tp.instructions().len()];
        for k0 in 0..tp.instructions().len() {
            if done[k0] {
                continue;
            }
            let (i1, i2) = (tp.instructions()[k0].i_in1, tp.instructions()[k0].i_in2);
            let paths: Vec<usize> = (k0..tp.instructions().len())
                .filter(|&k| tp.instructions()[k].i_in1 == i1 && tp.instructions()[k].i_in2 == i2)
                .collect();
            let (a, b) = (tp.irreps_in1()[i1], tp.irreps_in2()[i2]);
            let (m, d1, d2) = (a.mul, a.ir.dim(), b.ir.dim());
            let width: usize = paths.iter().map(|&k| tp.irreps_out()[tp.instructions()[k].i_out].ir.dim()).sum();
            let mut mat = vec![0.0; d1 * d2 * width];
            let mut col0 = 0;
            let mut cols: Vec<(usize, usize)> = Vec::new(); // (path, component) of each group column
            for &k in &paths {
                done[k] = true;
                let ins = &tp.instructions()[k];
                let l3 = tp.irreps_out()[ins.i_out].ir.l;
                let d3 = 2 * l3 + 1;
                let c = wigner_3j(a.ir.l, b.ir.l, l3).expect("selection rules checked");
                for i in 0..d1 {
                    for j in 0..d2 {
                        for kk in 0..d3 {
                            mat[(i * d2 + j) * width + col0 + kk] = c[(i * d2 + j) * d3 + kk] * ins.path_weight;
                        }
                    }
                }
                cols.extend((0..d3).map(|kk| (k, kk)));
                col0 += d3;
            }
            // group output (E, m, width) flattened: column u·width + c
            for u in 0..m {
                for &(k, kk) in &cols {
                    let ins = &tp.instructions()[k];
                    let d3 = tp.irreps_out()[ins.i_out].ir.dim();
                    let desc_col = out_offs[ins.i_out] + u * d3 + kk;
                    perm.push(desc_col);
                    w_idx[desc_col] = (tp.weight_offsets()[k] + u) as u32;
                }
            }
            groups.push(PairGroup {
                off1: offs[i1],
                off2: offs[i2],
                mul: m,
                d1,
                d2,
                b: params.constant(mat, &[d1 * d2, width])?,
            });
        }
        // perm[f] = descriptor column of fused column f; we need its inverse for index_select
        let mut inv = vec![0u32; perm.len()];
        for (f, &c) in perm.iter().enumerate() {
            inv[c] = f as u32;
        }
        let n = inv.len();
        let radial = RadialMlp::new(params, &format!("{name}.radial"), radial_in, hidden, tp.weight_numel())?;
        Ok(PairTp {
            tp,
            groups,
            w_idx: Tensor::from_vec(w_idx, n, &device)?,
            perm: Tensor::from_vec(inv, n, &device)?,
            radial,
        })
    }

    /// The descriptor.
    pub fn descriptor(&self) -> &TensorProduct {
        &self.tp
    }

    /// Output irreps (one block per path).
    pub fn irreps_out(&self) -> &Irreps {
        self.tp.irreps_out()
    }

    /// `x1, x2 (E, dim)`, `radial (E, radial_in)` → `(E, dim_out)` in descriptor order.
    pub fn forward_radial(&self, x1: &Tensor, x2: &Tensor, radial: &Tensor) -> Result<Tensor> {
        let w = self.radial.forward_columns(radial, &self.w_idx)?; // (E, dim_out), descriptor order
        Ok(self.product(x1, x2)?.mul(&w)?)
    }

    /// As [`Self::forward_radial`] with explicit weights `w (E, weight_numel)` (tests).
    pub fn forward(&self, x1: &Tensor, x2: &Tensor, w: &Tensor) -> Result<Tensor> {
        Ok(self.product(x1, x2)?.mul(&w.index_select(&self.w_idx, 1)?)?)
    }

    /// The unweighted products of every path, `(E, dim_out)` in descriptor order.
    fn product(&self, x1: &Tensor, x2: &Tensor) -> Result<Tensor> {
        let e = x1.dim(0)?;
        let mut parts = Vec::with_capacity(self.groups.len());
        for g in &self.groups {
            let a = x1.narrow(1, g.off1, g.mul * g.d1)?.reshape((e, g.mul, g.d1, 1))?;
            let b = x2.narrow(1, g.off2, g.mul * g.d2)?.reshape((e, g.mul, 1, g.d2))?;
            let outer = a.broadcast_mul(&b)?.reshape((e * g.mul, g.d1 * g.d2))?;
            let width = g.b.dim(1)?;
            parts.push(outer.matmul(&g.b)?.reshape((e, g.mul * width))?);
        }
        Ok(Tensor::cat(&parts, 1)?.index_select(&self.perm, 1)?)
    }
}
