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
//! 4. Assembly on a flat buffer with `index_add` (no per-element loop): every edge adds `M_e` at
//!    block `(s, t)` and `M_eᵀ` at block `(t, s)`. Since both directions of each pair are edges,
//!    `H_st = M_{s→t} + M_{t→s}ᵀ`, and `H_ts = M_{t→s} + M_{s→t}ᵀ = H_stᵀ` — the same two numbers
//!    added, so `H` is **bitwise** symmetric. Diagonal blocks: `H_ii = N_i + N_iᵀ` with `N_i` from
//!    `h_i` projected to `0e+1e+2e`; or, with `sum_rule`, `H_ii = −sym(Σ_{j≠i} H_ij)`, which makes
//!    the translational sum rule exact for the symmetric part of the row sums.
//!
//! Equivariance follows because every step is equivariant and `Q` intertwines `D¹⊗D¹` with
//! `D⁰⊕D¹⊕D²` (tested in the `irreps` crate and end to end in `tests/`).

use candle_core::{DType, Tensor};
use irreps::{Irreps, Rank2};

use crate::graph::Batch;
use crate::layers::{conv::EdgeTp, linear::EquiLinear};
use crate::radial::bessel_envelope;
use crate::sh::spherical_harmonics;
use crate::{ModelConfig, Params, Result};

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

    /// Flat Hessians of the batch (molecule after molecule, `(3N)²` each, row-major), eV/Å².
    pub fn forward(&self, batch: &Batch, positions: &Tensor, x: &Tensor) -> Result<Tensor> {
        let total = *batch.h_offsets.last().expect("offsets");
        let n = batch.n_total_atoms();
        let h = self.to_head.forward(x)?;
        let mut flat = Tensor::zeros(total, DType::F64, x.device())?;
        // off-diagonal blocks
        let m_edges = if batch.n_h_edges > 0 {
            let vec = (positions.index_select(&batch.h_dst, 0)? - positions.index_select(&batch.h_src, 0)?)?;
            let r = vec.sqr()?.sum_keepdim(1)?.sqrt()?;
            let sh = spherical_harmonics(&vec, self.lmax)?;
            let radial = bessel_envelope(&r, self.cutoff, self.num_bessel, self.p)?;
            let mut pieces = self.tp_src.forward_fused(
                &h.index_select(&batch.h_src, 0)?,
                &sh,
                &self.tp_src.weights_fused(&radial)?,
            )?;
            pieces.extend(self.tp_dst.forward_fused(
                &h.index_select(&batch.h_dst, 0)?,
                &sh,
                &self.tp_dst.weights_fused(&radial)?,
            )?);
            let a = self.edge_proj.forward_permuted(&pieces, &self.rows)?; // (E, 9) irreps coefficients
            let m = a.matmul(&self.q)?; // (E, 9) = row-major 3×3 blocks
            let mf = m.flatten_all()?;
            flat = flat.index_add(&batch.idx_st, &mf, 0)?.index_add(&batch.idx_ts, &mf, 0)?;
            Some(m)
        } else {
            None
        };
        // diagonal blocks
        if self.sum_rule {
            let mut s = Tensor::zeros((n, 9), DType::F64, x.device())?;
            if let Some(m) = &m_edges {
                let e = m.dim(0)?;
                let mt = m.reshape((e, 3, 3))?.transpose(1, 2)?.contiguous()?.reshape((e, 9))?;
                s = s.index_add(&batch.h_src, m, 0)?.index_add(&batch.h_dst, &mt, 0)?;
            }
            let st = s.reshape((n, 3, 3))?.transpose(1, 2)?.contiguous()?.reshape((n, 9))?;
            let d = ((s + st)? * -0.5)?;
            flat = flat.index_add(&batch.idx_ii, &d.flatten_all()?, 0)?;
        } else {
            let nb = self.node_proj.forward(&h)?.matmul(&self.q)?.flatten_all()?;
            flat = flat.index_add(&batch.idx_ii, &nb, 0)?.index_add(&batch.idx_ii_t, &nb, 0)?;
        }
        Ok(flat)
    }
}
