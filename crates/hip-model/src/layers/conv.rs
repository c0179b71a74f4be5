//! Tensor-product convolution: for each edge `j → i`, `x_j ⊗ Y(r̂_ij)` along the paths of an
//! [`irreps::TensorProduct`] descriptor in `uvu` mode (one output block per path, weights per
//! edge and channel from a radial MLP), summed over neighbours with `index_add`.
//!
//! **How it runs.** The descriptor says *what* is computed; execution groups the paths by their
//! first input block. For block `a` (`m` channels of dimension `d₁`) every path reading it is one
//! column range of a constant matrix `B_a` (`d₁·dim(sh) × Σ d₃`: the path's Wigner 3j, times its
//! path weight, placed at the rows of its `sh` block), so all of them are one outer product and
//! one matmul: `(E·m, d₁·dim(sh)) · B_a`. Per-edge weights are gathered to the same layout with
//! the radial MLP's last layer directly (its weight columns are gathered, not its output).
//! The result stays in this *fused* column order: the model aggregates each block over
//! neighbours and folds the permutation back to the descriptor's order into the rows of the
//! linear layer that follows ([`EdgeTp::fused_to_descriptor`]), so no per-edge permutation is
//! ever materialized. [`EdgeTp::forward`] returns the descriptor order (tests, reuse).
//! That is about five tensor ops per input block instead of about ten per path — on small
//! molecules the cost is op dispatch and memory traffic, not arithmetic.

use candle_core::Tensor;
use irreps::{ConnectionMode, InstructionSpec, Irreps, MulIr, TensorProduct, wigner_3j};

use crate::radial::RadialMlp;
use crate::{Params, Result};

/// Per-edge `uvu` tensor product with radial weights.
#[derive(Debug)]
pub struct EdgeTp {
    tp: TensorProduct,
    blocks: Vec<InputBlock>,
    /// For each descriptor output column, its fused column.
    perm: Tensor,
    /// For each fused column, its descriptor output column.
    perm_inv: Vec<u32>,
    /// For each fused column `(block, u, col)`, its index in the flat weight vector.
    w_idx: Tensor,
    radial: RadialMlp,
}

/// The paths reading one input block, fused.
#[derive(Debug)]
struct InputBlock {
    offset: usize,
    mul: usize,
    dim: usize,
    /// `(dim · dim_sh, width)`: Wigner 3j × path weight of every path of this block.
    b: Tensor,
    /// First fused column of this block.
    fused_offset: usize,
}

impl EdgeTp {
    /// Paths `irreps_in[i] ⊗ sh[j] → ir` for every `ir` in `i ⊗ j` whose type appears in
    /// `targets` (e.g. the next layer's irreps), each with its own `mul_in × ir` output block.
    pub fn new(
        params: &mut Params,
        name: &str,
        irreps_in: &Irreps,
        sh: &Irreps,
        targets: &Irreps,
        num_basis: usize,
        hidden: usize,
    ) -> Result<Self> {
        let mut out = Vec::new();
        let mut specs = Vec::new();
        for (i1, a) in irreps_in.iter().enumerate() {
            for (i2, b) in sh.iter().enumerate() {
                for ir in a.ir.tensor(&b.ir) {
                    if a.mul > 0 && targets.iter().any(|t| t.ir == ir) {
                        specs.push(InstructionSpec::new(i1, i2, out.len(), ConnectionMode::Uvu, true));
                        out.push(MulIr { mul: a.mul, ir });
                    }
                }
            }
        }
        let tp = TensorProduct::new(irreps_in, sh, &Irreps(out), &specs, Default::default(), Default::default())?;
        let device = params.device().clone();
        let (o1, o2) = (tp.irreps_in1().offsets(), tp.irreps_in2().offsets());
        let dim_sh = tp.irreps_in2().dim();
        let mut blocks = Vec::new();
        // fused position of (instruction, u, k), to build the output permutation
        let mut fused_pos: Vec<Vec<usize>> = vec![Vec::new(); tp.instructions().len()];
        let mut fused_off = 0;
        let mut w_idx: Vec<u32> = Vec::new();
        for (i1, a) in tp.irreps_in1().iter().enumerate() {
            let paths: Vec<usize> =
                (0..tp.instructions().len()).filter(|&k| tp.instructions()[k].i_in1 == i1).collect();
            if paths.is_empty() || a.mul == 0 {
                continue;
            }
            let (m, d1) = (a.mul, a.ir.dim());
            let width: usize = paths.iter().map(|&k| tp.irreps_out()[tp.instructions()[k].i_out].ir.dim()).sum();
            let mut b = vec![0.0; d1 * dim_sh * width];
            let mut col_path = Vec::with_capacity(width); // the path of each column
            let mut col0 = 0;
            for &k in &paths {
                let ins = &tp.instructions()[k];
                let (l1, l2) = (a.ir.l, tp.irreps_in2()[ins.i_in2].ir.l);
                let l3 = tp.irreps_out()[ins.i_out].ir.l;
                let (d2, d3) = (2 * l2 + 1, 2 * l3 + 1);
                let c = wigner_3j(l1, l2, l3).expect("selection rules checked");
                for i in 0..d1 {
                    for j in 0..d2 {
                        for kk in 0..d3 {
                            b[(i * dim_sh + o2[ins.i_in2] + j) * width + col0 + kk] =
                                c[(i * d2 + j) * d3 + kk] * ins.path_weight;
                        }
                    }
                }
                for u in 0..m {
                    fused_pos[k].extend((0..d3).map(|kk| fused_off + u * width + col0 + kk));
                }
                col_path.extend(std::iter::repeat_n(k, d3));
                col0 += d3;
            }
            for u in 0..m {
                w_idx.extend(col_path.iter().map(|&k| (tp.weight_offsets()[k] + u) as u32));
            }
            blocks.push(InputBlock {
                offset: o1[i1],
                mul: m,
                dim: d1,
                b: params.constant(b, &[d1 * dim_sh, width])?,
                fused_offset: fused_off,
            });
            fused_off += m * width;
        }
        let perm: Vec<u32> = fused_pos.into_iter().flatten().map(|p| p as u32).collect();
        let mut perm_inv = vec![0u32; perm.len()];
        for (c, &f) in perm.iter().enumerate() {
            perm_inv[f as usize] = c as u32;
        }
        let perm = Tensor::from_vec(perm, perm_inv.len(), &device)?;
        let w_idx = Tensor::from_vec(w_idx, perm_inv.len(), &device)?;
        let radial = RadialMlp::new(params, &format!("{name}.radial"), num_basis, hidden, tp.weight_numel())?;
        Ok(EdgeTp { tp, blocks, perm, perm_inv, w_idx, radial })
    }

    /// The descriptor.
    pub fn descriptor(&self) -> &TensorProduct {
        &self.tp
    }

    /// Output irreps (one block per path).
    pub fn irreps_out(&self) -> &Irreps {
        self.tp.irreps_out()
    }

    /// Per-edge weights `(E, weight_numel)` from radial features (descriptor layout).
    pub fn weights(&self, radial: &Tensor) -> Result<Tensor> {
        self.radial.forward(radial)
    }

    /// Per-edge weights already in the fused column layout `(E, dim_out)`, straight from the
    /// radial MLP (input of [`Self::forward_fused`]).
    pub fn weights_fused(&self, radial: &Tensor) -> Result<Tensor> {
        self.radial.forward_columns(radial, &self.w_idx)
    }

    /// For each fused column, its descriptor output column: `y_desc[:, perm_inv[f]] = y_fused[:, f]`.
    /// A linear map `W` on descriptor-ordered input acts on fused input as `W` with rows
    /// `index_select(perm_inv)`.
    pub fn fused_to_descriptor(&self) -> &[u32] {
        &self.perm_inv
    }

    /// The fused product, one tensor per input block `(E, mul · width)` in fused column order
    /// (concatenated, they are the output with columns permuted by [`Self::fused_to_descriptor`]).
    /// `w_fused` comes from [`Self::weights_fused`].
    pub fn forward_fused(&self, x_edge: &Tensor, sh: &Tensor, w_fused: &Tensor) -> Result<Vec<Tensor>> {
        let e = x_edge.dim(0)?;
        let dim_sh = sh.dim(1)?;
        let y = sh.reshape((e, 1, 1, dim_sh))?;
        let mut parts = Vec::with_capacity(self.blocks.len());
        for blk in &self.blocks {
            let (m, width) = (blk.mul, blk.b.dim(1)?);
            let x1 = x_edge.narrow(1, blk.offset, m * blk.dim)?.reshape((e, m, blk.dim, 1))?;
            let outer = x1.broadcast_mul(&y)?.reshape((e * m, blk.dim * dim_sh))?;
            let coupled = outer.matmul(&blk.b)?.reshape((e, m * width))?;
            parts.push(coupled.mul(&w_fused.narrow(1, blk.fused_offset, m * width)?)?);
        }
        Ok(parts)
    }

    /// `x_edge (E, dim_in)`, `sh (E, dim_sh)`, `w (E, weight_numel)` → `(E, dim_out)`, in the
    /// descriptor's output order.
    pub fn forward(&self, x_edge: &Tensor, sh: &Tensor, w: &Tensor) -> Result<Tensor> {
        let parts = self.forward_fused(x_edge, sh, &w.index_select(&self.w_idx, 1)?)?;
        Ok(Tensor::cat(&parts, 1)?.index_select(&self.perm, 1)?)
    }
}
