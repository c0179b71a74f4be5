//! **Where the Hessian is assembled.** The HIP head (method page, section 2):
//!
//! 1. Node features `x_i` of the backbone are mapped to the head's irreps, `h_i`.
//! 2. On every directed edge `s → t` of the Hessian graph (all pairs closer than
//!    `hessian_cutoff`), a raw message is built from both endpoints and the edge direction:
//!    `m_{s→t} = h_s ⊗ Y(r̂_st) ⊕ h_t ⊗ Y(r̂_st)` (two `uvu` tensor products with radial-MLP
//!    weights), then projected by an equivariant linear layer onto **one channel per degree**
//!    of `0e + 1e + 2e`: nine numbers `a_e` (bias on `0e` only).
//! 3. Irreps → 3×3 with the Clebsch–Gordan change of basis of the `irreps` crate,
//!    `M_e[a, b] = Σ_k a_e[k] Q[k, a, b]`, `Q^{(L)} = √(2L+1) w3j(1, 1, L)`.
//! 4. Blocks ([`HessianHead::blocks`]): both directions of each pair are edges, and the pair
//!    block is `H_st = M_{s→t} + M_{t→s}ᵀ` for `s < t` (`H_ts = H_stᵀ` is not stored). Diagonal
//!    blocks: `H_ii = N_i + N_iᵀ` with `N_i` from `h_i` projected to `0e+1e+2e`; or, with
//!    `sum_rule`, `H_ii = −sym(Σ_{j≠i} H_ij)`, which makes the translational sum rule exact for
//!    the symmetric part of the row sums. This is the block-sparse Hessian
//!    ([`hip_core::BlockHessian`]): O(atoms + pairs) memory, what large systems use.
//! 5. Dense assembly ([`HessianHead::forward`]) on a flat buffer with `index_add` (no per-element
//!    loop): each pair block is added at `(s, t)` and, transposed, at `(t, s)` — the same
//!    numbers, so `H` is **bitwise** symmetric.
//!
//! Equivariance follows because every step is equivariant and `Q` intertwines `D¹⊗D¹` with
//! `D⁰⊕D¹⊕D²` (tested in the `irreps` crate and end to end in `tests/`).

use candle_core::{DType, Tensor};
use irreps::{Irreps, Rank2};

use crate::graph::Batch;
use crate::layers::{conv::EdgeTp, linear::EquiLinear};
use crate::model::chunks;
use crate::radial::bessel_envelope;
use crate::sh::spherical_harmonics;
use crate::{ModelConfig, Params, Result};

/// The head's output as blocks (see the module docs), batch-global.
#[derive(Debug)]
pub struct HeadBlocks {
    /// `H_st` of each pair of [`Batch::pairs`], `(P, 9)` row-major.
    pub pairs: Tensor,
    /// `H_ii` of each atom, `(N, 9)` row-major, symmetric.
    pub diag: Tensor,
}

fn transpose_blocks(m: &Tensor) -> Result<Tensor> {
    let k = m.dim(0)?;
    Ok(m.reshape((k, 3, 3))?.transpose(1, 2)?.contiguous()?.reshape((k, 9))?)
}

/// The HIP head.
#[derive(Debug)]
pub struct HessianHead {
    to_head: EquiLinear,
    tp_src: EdgeTp,
    tp_dst: EdgeTp,
    edge_proj: EquiLinear,
    node_proj: EquiLinear,
    /// Rows of `edge_proj` for the fused outputs of `tp_src` then `tp_dst`.
    rows: Tensor,
    q: Tensor,
    cutoff: f64,
    num_bessel: usize,
    p: usize,
    lmax: usize,
    sum_rule: bool,
}

impl HessianHead {
    /// Builds the head for backbone features `hidden`.
    pub fn new(params: &mut Params, cfg: &ModelConfig, hidden: &Irreps, sh: &Irreps) -> Result<Self> {
        let head: Irreps = cfg.head_irreps.parse()?;
        let target = Rank2::General.irreps(); // 1x0e+1x1e+1x2e
        let to_head = EquiLinear::new(params, "head.in", hidden, &head, true)?;
        let tp_src = EdgeTp::new(params, "head.tp_src", &head, sh, &target, cfg.num_bessel, cfg.radial_hidden)?;
        let tp_dst = EdgeTp::new(params, "head.tp_dst", &head, sh, &target, cfg.num_bessel, cfg.radial_hidden)?;
        let mid = tp_src.irreps_out().concat(tp_dst.irreps_out());
        let edge_proj = EquiLinear::new(params, "head.edge_proj", &mid, &target, true)?;
        let node_proj = EquiLinear::new(params, "head.node_proj", &head, &target, true)?;
        let q = Tensor::from_vec(Rank2::General.change_of_basis(), (9, 9), params.device())?;
        let w_src = tp_src.irreps_out().dim() as u32;
        let rows: Vec<u32> = tp_src
            .fused_to_descriptor()
            .iter()
            .copied()
            .chain(tp_dst.fused_to_descriptor().iter().map(|r| r + w_src))
            .collect();
        let rows = Tensor::from_vec(rows.clone(), rows.len(), params.device())?;
        Ok(HessianHead {
            to_head,
            tp_src,
            tp_dst,
            edge_proj,
            node_proj,
            rows,
            q,
            cutoff: cfg.hessian_cutoff,
            num_bessel: cfg.num_bessel,
            p: cfg.envelope_p,
            lmax: cfg.lmax,
            sum_rule: cfg.sum_rule,
        })
    }

    /// Pair and diagonal blocks of the batch, eV/Å².
    pub fn blocks(&self, batch: &Batch, positions: &Tensor, x: &Tensor) -> Result<HeadBlocks> {
        let n = batch.n_total_atoms();
        let h = self.to_head.forward(x)?;
        let mut pair_blocks = Vec::new();
        // pairs in chunks (see `model::EDGE_CHUNK`); each pair's two directed edges together:
        // s → t for the first `len` rows, t → s for the rest
        for (start, len) in chunks(batch.pairs.len()) {
            let (ps, pt) = (batch.pair_src.narrow(0, start, len)?, batch.pair_dst.narrow(0, start, len)?);
            let (src, dst) = (Tensor::cat(&[&ps, &pt], 0)?, Tensor::cat(&[&pt, &ps], 0)?);
            let vec = (positions.index_select(&dst, 0)? - positions.index_select(&src, 0)?)?;
            let r = vec.sqr()?.sum_keepdim(1)?.sqrt()?;
            let sh = spherical_harmonics(&vec, self.lmax)?;
            let radial = bessel_envelope(&r, self.cutoff, self.num_bessel, self.p)?;
            let mut pieces =
                self.tp_src.forward_fused(&h.index_select(&src, 0)?, &sh, &self.tp_src.weights_fused(&radial)?)?;
            pieces.extend(self.tp_dst.forward_fused(
                &h.index_select(&dst, 0)?,
                &sh,
                &self.tp_dst.weights_fused(&radial)?,
            )?);
            let a = self.edge_proj.forward_permuted(&pieces, &self.rows)?; // (2·len, 9) irreps coefficients
            let m = a.matmul(&self.q)?; // (2·len, 9) = row-major 3×3 blocks M_{s→t}, then M_{t→s}
            pair_blocks.push((m.narrow(0, 0, len)? + transpose_blocks(&m.narrow(0, len, len)?)?)?);
        }
        let pairs = match pair_blocks.len() {
            0 => Tensor::zeros((0, 9), DType::F64, x.device())?,
            1 => pair_blocks.pop().expect("one"),
            _ => Tensor::cat(&pair_blocks, 0)?,
        };
        let diag = if self.sum_rule {
            let mut s = Tensor::zeros((n, 9), DType::F64, x.device())?;
            if pairs.dim(0)? > 0 {
                s = s.index_add(&batch.pair_src, &pairs, 0)?.index_add(
                    &batch.pair_dst,
                    &transpose_blocks(&pairs)?,
                    0,
                )?;
            }
            ((&s + transpose_blocks(&s)?)? * -0.5)?
        } else {
            let nb = self.node_proj.forward(&h)?.matmul(&self.q)?;
            (&nb + transpose_blocks(&nb)?)?
        };
        Ok(HeadBlocks { pairs, diag })
    }

    /// Flat dense Hessians of the batch (molecule after molecule, `(3N)²` each, row-major), eV/Å².
    pub fn forward(&self, batch: &Batch, positions: &Tensor, x: &Tensor) -> Result<Tensor> {
        let total = *batch.h_offsets.last().expect("offsets");
        if total > u32::MAX as usize {
            return Err(crate::Error::Input(format!(
                "a dense Hessian of {total} entries does not fit 32-bit indices: use block-sparse Hessians"
            )));
        }
        let b = self.blocks(batch, positions, x)?;
        let (st, ts, ii) = dense_indices(batch);
        let dev = x.device();
        let t = |v: Vec<u32>| {
            let len = v.len();
            Tensor::from_vec(v, len, dev)
        };
        let mut flat = Tensor::zeros(total, DType::F64, dev)?;
        if !st.is_empty() {
            let pf = b.pairs.flatten_all()?;
            flat = flat.index_add(&t(st)?, &pf, 0)?.index_add(&t(ts)?, &pf, 0)?;
        }
        Ok(flat.index_add(&t(ii)?, &b.diag.flatten_all()?, 0)?)
    }
}

/// Flat positions in the dense buffer: for each pair and `(a, b)`, of `H[3s+a, 3t+b]` and of
/// `H[3t+b, 3s+a]`; for each atom and `(a, b)`, of `H[3i+a, 3i+b]`.
fn dense_indices(batch: &Batch) -> (Vec<u32>, Vec<u32>, Vec<u32>) {
    let mol_of = |atom: usize| batch.atom_offsets.partition_point(|&o| o <= atom) - 1;
    let (mut st, mut ts, mut ii) = (Vec::new(), Vec::new(), Vec::new());
    for &(s, t) in &batch.pairs {
        let m = mol_of(s);
        let (off, a0, d) = (batch.h_offsets[m], batch.atom_offsets[m], 3 * batch.n_atoms[m]);
        let (s, t) = (s - a0, t - a0);
        for a in 0..3 {
            for b in 0..3 {
                st.push((off + (3 * s + a) * d + 3 * t + b) as u32);
                ts.push((off + (3 * t + b) * d + 3 * s + a) as u32);
            }
        }
    }
    for (m, &n) in batch.n_atoms.iter().enumerate() {
        let (off, d) = (batch.h_offsets[m], 3 * n);
        for i in 0..n {
            for a in 0..3 {
                for b in 0..3 {
                    ii.push((off + (3 * i + a) * d + 3 * i + b) as u32);
                }
            }
        }
    }
    (st, ts, ii)
}
