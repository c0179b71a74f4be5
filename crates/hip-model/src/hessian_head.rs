//! **Where the Hessian is assembled.** The HIP head (method page, section 2):
//!
//! 1. Node features `x_i` of the backbone (odd-parity channels included) are mapped to the head's
//!    irreps, `h_i` (e.g. `8x0e+8x1o+8x1e+8x2e`), then refined by `head_layers` extra
//!    message-passing layers on the Hessian graph (the paper's 1–3; [`HeadLayer`]).
//! 2. On every directed edge `s → t` of the Hessian graph (all pairs closer than
//!    `hessian_cutoff`), a raw message is built from both endpoints and the edge direction:
//!    `m_{s→t} = h_s ⊗ Y(r̂_st) ⊕ h_t ⊗ Y(r̂_st) [⊕ h_s ⊗ h_t]` (two `uvu` tensor products and,
//!    with `head_pair_tp`, an elementwise `uuu` product that couples the two atoms; all with
//!    radial-MLP weights from the head's own Bessel basis of `head_num_bessel` functions, and with
//!    `head_radial_scalars` also from the scalar features of both atoms), then projected by an
//!    equivariant linear layer onto **one channel per degree** of `0e + 1e + 2e`: nine numbers
//!    `a_e` (bias on `0e` only). `1o ⊗ Y¹` and `1o ⊗ 1o` are paths to all three degrees.
//! 3. Irreps → 3×3 with the Clebsch–Gordan change of basis of the `irreps` crate,
//!    `M_e[a, b] = s · Σ_k a_e[k] Q[k, a, b]`, `Q^{(L)} = √(2L+1) w3j(1, 1, L)`, with the fitted
//!    output scale `s = hessian_scale` (eV/Å²) and, with `head_envelope`, times the smooth cutoff
//!    envelope `u(r_st / hessian_cutoff)`.
//! 4. Blocks ([`HessianHead::blocks`]): both directions of each pair are edges, and the pair
//!    block is `H_st = M_{s→t} + M_{t→s}ᵀ` for `s < t` (`H_ts = H_stᵀ` is not stored); with
//!    `head_pair_potential`, plus the exact pair block of a Morse energy whose parameters an MLP
//!    reads from both atoms' scalar head features ([`morse_blocks`]). Diagonal
//!    blocks: `H_ii = N_i + N_iᵀ` with `N_i` from `h_i` projected to `0e+1e+2e`; or, with
//!    `sum_rule`, `H_ii = −sym(Σ_{j≠i} H_ij)`, which makes the translational sum rule exact for
//!    the symmetric part of the row sums; or, with `sum_rule` and `diag_correction`, the sum-rule
//!    diagonal plus `N_i + N_iᵀ`. This is the block-sparse Hessian
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
use crate::layers::{conv::EdgeTp, gate::Gate, linear::EquiLinear, pair_tp::PairTp};
use crate::model::chunks;
use crate::radial::{RadialMlp, bessel_envelope, envelope, sigmoid};
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

/// One message-passing layer of the head on the Hessian graph: `h_t ← h_t + gate(W·mean_s(h_s ⊗
/// Y(r̂_st)) + W_self·h_t)`, the `uvu` convolution with radial weights from the head's basis.
#[derive(Debug)]
pub struct HeadLayer {
    conv: EdgeTp,
    rows: Tensor,
    lin: EquiLinear,
    self_int: EquiLinear,
    gate: Gate,
}

impl HeadLayer {
    fn new(params: &mut Params, name: &str, head: &Irreps, sh: &Irreps, nb: usize, hidden: usize) -> Result<Self> {
        let gate = Gate::new(head);
        let conv = EdgeTp::new(params, &format!("{name}.conv"), head, sh, &gate.irreps_in, nb, hidden)?;
        let lin = EquiLinear::new(params, &format!("{name}.lin"), conv.irreps_out(), &gate.irreps_in, false)?;
        let self_int = EquiLinear::new(params, &format!("{name}.self"), head, &gate.irreps_in, true)?;
        let rows = Tensor::from_vec(conv.fused_to_descriptor().to_vec(), conv.irreps_out().dim(), params.device())?;
        Ok(HeadLayer { conv, rows, lin, self_int, gate })
    }

    /// `h (N, dim)` → `(N, dim)`; `edges`: directed `(src, dst, sh, radial)` chunks of the
    /// Hessian graph; `inv_degree (N, 1)`: 1 / number of neighbours (0 for none).
    fn forward(&self, h: &Tensor, edges: &[EdgeChunk], inv_degree: &Tensor) -> Result<Tensor> {
        let mut aggs: Vec<Tensor> = Vec::new();
        for e in edges {
            let w = self.conv.weights_fused(&e.radial)?;
            let msgs = self.conv.forward_fused(&h.index_select(&e.src, 0)?, &e.sh, &w)?;
            for (k, msg) in msgs.iter().enumerate() {
                if k == aggs.len() {
                    aggs.push(Tensor::zeros((h.dim(0)?, msg.dim(1)?), h.dtype(), h.device())?);
                }
                aggs[k] = aggs[k].index_add(&e.dst, msg, 0)?;
            }
        }
        let aggs = aggs.iter().map(|a| a.broadcast_mul(inv_degree)).collect::<candle_core::Result<Vec<_>>>()?;
        let mixed = if aggs.is_empty() {
            self.self_int.forward(h)?
        } else {
            (self.lin.forward_permuted(&aggs, &self.rows)? + self.self_int.forward(h)?)?
        };
        Ok((self.gate.forward(&mixed)? + h)?)
    }
}

/// Per-edge geometry of one chunk of Hessian-graph pairs, both directions: `s → t` for the
/// first `len` rows, `t → s` for the rest.
#[derive(Debug)]
struct EdgeChunk {
    src: Tensor,
    dst: Tensor,
    /// `|r_st|`, `(2·len, 1)`.
    r: Tensor,
    sh: Tensor,
    /// The head's Bessel basis × envelope, `(2·len, num_bessel)`.
    radial: Tensor,
}

/// The HIP head.
#[derive(Debug)]
pub struct HessianHead {
    to_head: EquiLinear,
    layers: Vec<HeadLayer>,
    tp_src: EdgeTp,
    tp_dst: EdgeTp,
    pair_tp: Option<PairTp>,
    edge_proj: EquiLinear,
    node_proj: EquiLinear,
    /// Rows of `edge_proj` for the fused outputs of `tp_src`, `tp_dst` (then `pair_tp`, in
    /// descriptor order).
    rows: Tensor,
    q: Tensor,
    cutoff: f64,
    num_bessel: usize,
    p: usize,
    lmax: usize,
    sum_rule: bool,
    diag_correction: bool,
    /// `(offset, count)` of the scalar head features fed to the radial MLPs, if any.
    radial_scalars: Option<(usize, usize)>,
    /// The Morse pair term's parameter MLP and the `(offset, count)` of the scalars it reads.
    pair_potential: Option<(RadialMlp, (usize, usize))>,
    envelope: bool,
    scale: f64,
}

impl HessianHead {
    /// Builds the head for backbone features `hidden`.
    pub fn new(params: &mut Params, cfg: &ModelConfig, hidden: &Irreps, sh: &Irreps) -> Result<Self> {
        let head: Irreps = cfg.head_irreps.parse()?;
        let target = Rank2::General.irreps(); // 1x0e+1x1e+1x2e
        let scalars = |option: &str| -> Result<(usize, usize)> {
            let offs = head.offsets();
            let k = head
                .iter()
                .position(|m| m.ir.is_scalar() && m.mul > 0)
                .ok_or_else(|| crate::Error::Input(format!("{option} needs 0e channels in head_irreps \"{head}\"")))?;
            Ok((offs[k], head[k].mul))
        };
        let radial_scalars = if cfg.head_radial_scalars { Some(scalars("head_radial_scalars")?) } else { None };
        let pair_potential = if cfg.head_pair_potential {
            let (off, k) = scalars("head_pair_potential")?;
            Some((RadialMlp::new(params, "head.pair_potential", 2 * k, cfg.head_hidden(), 3)?, (off, k)))
        } else {
            None
        };
        let (nb, hidden_w) = (cfg.head_bessel(), cfg.head_hidden());
        let radial_in = nb + radial_scalars.map_or(0, |(_, c)| 2 * c);
        let to_head = EquiLinear::new(params, "head.in", hidden, &head, true)?;
        let layers = (0..cfg.head_layers)
            .map(|k| HeadLayer::new(params, &format!("head.mp{k}"), &head, sh, nb, hidden_w))
            .collect::<Result<Vec<_>>>()?;
        let tp_src = EdgeTp::new(params, "head.tp_src", &head, sh, &target, radial_in, hidden_w)?;
        let tp_dst = EdgeTp::new(params, "head.tp_dst", &head, sh, &target, radial_in, hidden_w)?;
        let pair_tp = if cfg.head_pair_tp {
            Some(PairTp::new(params, "head.tp_pair", &head, &target, radial_in, hidden_w)?)
        } else {
            None
        };
        let mut mid = tp_src.irreps_out().concat(tp_dst.irreps_out());
        if let Some(pt) = &pair_tp {
            mid = mid.concat(pt.irreps_out());
        }
        let edge_proj = EquiLinear::new(params, "head.edge_proj", &mid, &target, true)?;
        let node_proj = EquiLinear::new(params, "head.node_proj", &head, &target, true)?;
        let q = params.constant(Rank2::General.change_of_basis(), &[9, 9])?;
        let w_src = tp_src.irreps_out().dim() as u32;
        let w_dst = tp_dst.irreps_out().dim() as u32;
        let mut rows: Vec<u32> = tp_src
            .fused_to_descriptor()
            .iter()
            .copied()
            .chain(tp_dst.fused_to_descriptor().iter().map(|r| r + w_src))
            .collect();
        if let Some(pt) = &pair_tp {
            rows.extend((0..pt.irreps_out().dim() as u32).map(|r| r + w_src + w_dst));
        }
        let rows = Tensor::from_vec(rows.clone(), rows.len(), params.device())?;
        Ok(HessianHead {
            to_head,
            layers,
            tp_src,
            tp_dst,
            pair_tp,
            edge_proj,
            node_proj,
            rows,
            q,
            cutoff: cfg.hessian_cutoff,
            num_bessel: nb,
            p: cfg.envelope_p,
            lmax: cfg.lmax,
            sum_rule: cfg.sum_rule,
            diag_correction: cfg.diag_correction,
            radial_scalars,
            pair_potential,
            envelope: cfg.head_envelope,
            scale: cfg.hessian_scale,
        })
    }

    /// The edge geometry of pairs `start..start + len`, both directions.
    fn edge_chunk(&self, batch: &Batch, positions: &Tensor, start: usize, len: usize) -> Result<EdgeChunk> {
        let (ps, pt) = (batch.pair_src.narrow(0, start, len)?, batch.pair_dst.narrow(0, start, len)?);
        let (src, dst) = (Tensor::cat(&[&ps, &pt], 0)?, Tensor::cat(&[&pt, &ps], 0)?);
        // differences of the (f64) positions, then the model's dtype (that of `q`)
        let vec = (positions.index_select(&dst, 0)? - positions.index_select(&src, 0)?)?.to_dtype(self.q.dtype())?;
        let r = vec.sqr()?.sum_keepdim(1)?.sqrt()?;
        let sh = spherical_harmonics(&vec, self.lmax)?;
        let radial = bessel_envelope(&r, self.cutoff, self.num_bessel, self.p)?;
        Ok(EdgeChunk { src, dst, r, sh, radial })
    }

    /// Head features: `x` mapped to the head irreps, then the head's message-passing layers,
    /// with the edge chunks those layers built (reused by the blocks; without layers none are
    /// kept, so per-edge tensors are freed chunk by chunk).
    fn head_features(&self, batch: &Batch, positions: &Tensor, x: &Tensor) -> Result<(Tensor, Vec<EdgeChunk>)> {
        let mut h = self.to_head.forward(x)?;
        if self.layers.is_empty() {
            return Ok((h, Vec::new()));
        }
        let n = batch.n_total_atoms();
        let mut degree = vec![0.0f64; n];
        for &(s, t) in &batch.pairs {
            degree[s] += 1.0;
            degree[t] += 1.0;
        }
        let inv: Vec<f64> = degree.iter().map(|&d| if d > 0.0 { 1.0 / d } else { 0.0 }).collect();
        let inv_degree = Tensor::from_vec(inv, (n, 1), x.device())?.to_dtype(x.dtype())?;
        let edges = chunks(batch.pairs.len())
            .map(|(start, len)| self.edge_chunk(batch, positions, start, len))
            .collect::<Result<Vec<_>>>()?;
        for layer in &self.layers {
            h = layer.forward(&h, &edges, &inv_degree)?;
        }
        Ok((h, edges))
    }

    /// Row-major 3×3 blocks `M_e` `(E, 9)` of directed edges `src → dst` (step 2–3).
    fn edge_blocks(&self, h: &Tensor, e: &EdgeChunk) -> Result<Tensor> {
        let (sh, r) = (&e.sh, &e.r);
        let (hs, ht) = (h.index_select(&e.src, 0)?, h.index_select(&e.dst, 0)?);
        let mut radial = e.radial.clone();
        if let Some((off, k)) = self.radial_scalars {
            radial = Tensor::cat(&[&radial, &hs.narrow(1, off, k)?, &ht.narrow(1, off, k)?], 1)?;
        }
        let mut pieces = self.tp_src.forward_fused(&hs, sh, &self.tp_src.weights_fused(&radial)?)?;
        pieces.extend(self.tp_dst.forward_fused(&ht, sh, &self.tp_dst.weights_fused(&radial)?)?);
        if let Some(pt) = &self.pair_tp {
            pieces.push(pt.forward_radial(&hs, &ht, &radial)?);
        }
        let a = self.edge_proj.forward_permuted(&pieces, &self.rows)?; // (E, 9) irreps coefficients
        let m = (a.matmul(&self.q)? * self.scale)?; // (E, 9) row-major 3×3 blocks
        if self.envelope { Ok(m.broadcast_mul(&envelope(r, self.cutoff, self.p)?)?) } else { Ok(m) }
    }

    /// The Morse pair blocks `(len, 9)` of the `len` pairs of chunk `e` (its `s → t` rows), if
    /// the head has the term: parameters from the MLP on `[h_s + h_t, h_s ⊙ h_t]` of the scalar
    /// channels (symmetric in the two atoms), `D = 10 σ(o₀ − 4)` eV (small at initialization),
    /// `a = 0.5 + 2.5 σ(o₁)` Å⁻¹, `r₀ = 0.6 + 2.4 σ(o₂)` Å; times the envelope with
    /// `head_envelope`.
    fn pair_potential_blocks(
        &self,
        h: &Tensor,
        e: &EdgeChunk,
        positions: &Tensor,
        len: usize,
    ) -> Result<Option<Tensor>> {
        let Some((mlp, (off, k))) = &self.pair_potential else { return Ok(None) };
        let (ps, pt) = (e.src.narrow(0, 0, len)?, e.dst.narrow(0, 0, len)?);
        let (hs, ht) = (h.index_select(&ps, 0)?.narrow(1, *off, *k)?, h.index_select(&pt, 0)?.narrow(1, *off, *k)?);
        let o = mlp.forward(&Tensor::cat(&[(&hs + &ht)?, (&hs * &ht)?], 1)?)?;
        let d = (sigmoid(&(o.narrow(1, 0, 1)? - 4.0)?)? * 10.0)?;
        let a = ((sigmoid(&o.narrow(1, 1, 1)?)? * 2.5)? + 0.5)?;
        let r0 = ((sigmoid(&o.narrow(1, 2, 1)?)? * 2.4)? + 0.6)?;
        let vec = (positions.index_select(&pt, 0)? - positions.index_select(&ps, 0)?)?.to_dtype(self.q.dtype())?;
        let b = morse_blocks(&vec, &d, &a, &r0)?;
        if !self.envelope {
            return Ok(Some(b));
        }
        Ok(Some(b.broadcast_mul(&envelope(&e.r.narrow(0, 0, len)?, self.cutoff, self.p)?)?))
    }

    /// Pair and diagonal blocks of the batch, eV/Å², f64 whatever the model's dtype.
    pub fn blocks(&self, batch: &Batch, positions: &Tensor, x: &Tensor) -> Result<HeadBlocks> {
        let n = batch.n_total_atoms();
        let (h, built) = self.head_features(batch, positions, x)?;
        let mut pair_blocks = Vec::new();
        // pairs in chunks (see `model::EDGE_CHUNK`); each pair's two directed edges together:
        // s → t for the first `len` rows, t → s for the rest
        for (k, (start, len)) in chunks(batch.pairs.len()).enumerate() {
            let fresh;
            let e = match built.get(k) {
                Some(e) => e,
                None => {
                    fresh = self.edge_chunk(batch, positions, start, len)?;
                    &fresh
                }
            };
            let m = self.edge_blocks(&h, e)?; // M_{s→t}, then M_{t→s}
            let mut block = (m.narrow(0, 0, len)? + transpose_blocks(&m.narrow(0, len, len)?)?)?;
            if let Some(morse) = self.pair_potential_blocks(&h, e, positions, len)? {
                block = (block + morse)?;
            }
            pair_blocks.push(block);
        }
        let pairs = match pair_blocks.len() {
            0 => Tensor::zeros((0, 9), x.dtype(), x.device())?,
            1 => pair_blocks.pop().expect("one"),
            _ => Tensor::cat(&pair_blocks, 0)?,
        };
        let learned = || -> Result<Tensor> {
            let nb = (self.node_proj.forward(&h)?.matmul(&self.q)? * self.scale)?;
            Ok((&nb + transpose_blocks(&nb)?)?)
        };
        let diag = if self.sum_rule {
            let mut s = Tensor::zeros((n, 9), x.dtype(), x.device())?;
            if pairs.dim(0)? > 0 {
                s = s.index_add(&batch.pair_src, &pairs, 0)?.index_add(
                    &batch.pair_dst,
                    &transpose_blocks(&pairs)?,
                    0,
                )?;
            }
            let d = ((&s + transpose_blocks(&s)?)? * -0.5)?;
            if self.diag_correction { (d + learned()?)? } else { d }
        } else {
            learned()?
        };
        Ok(HeadBlocks { pairs: pairs.to_dtype(DType::F64)?, diag: diag.to_dtype(DType::F64)? })
    }

    /// Flat dense Hessians of the batch (molecule after molecule, `(3N)²` each, row-major), eV/Å²,
    /// f64.
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

/// Largest exponent `a (r₀ − r)` of the Morse term: pairs far inside `r₀` get the curvature of
/// `r = r₀ − 3/a` instead of one that grows without bound (no real geometry comes near it).
pub const MORSE_MAX_EXPONENT: f64 = 3.0;

/// The pair block `∂²φ/∂x_s∂x_t` `(P, 9)` (row-major, eV/Å²) of Morse energies
/// `φ(r) = D (1 − u)²`, `u = e^{−a(r−r₀)}`, of pairs with separation vectors `vec (P, 3)` (Å) and
/// parameters `d, a, r0 (P, 1)`: `−[φ''(r) r̂r̂ᵀ + φ'(r)/r (I − r̂r̂ᵀ)]` with
/// `φ' = 2Da u(1 − u)`, `φ'' = 2Da² u(2u − 1)` (`u` capped at `e^{MORSE_MAX_EXPONENT}`). Symmetric,
/// equivariant, and the same for `vec` and `−vec`.
pub fn morse_blocks(vec: &Tensor, d: &Tensor, a: &Tensor, r0: &Tensor) -> Result<Tensor> {
    let r = vec.sqr()?.sum_keepdim(1)?.sqrt()?; // (P, 1)
    let u = (r0 - &r)?.mul(a)?.clamp(f64::NEG_INFINITY, MORSE_MAX_EXPONENT)?.exp()?;
    let two_da_u = (d.mul(a)? * 2.0)?.mul(&u)?;
    let d1 = two_da_u.mul(&(1.0 - &u)?)?; // φ'
    let d2 = two_da_u.mul(a)?.mul(&((&u * 2.0)? - 1.0)?)?; // φ''
    let rhat = vec.broadcast_div(&r)?;
    let p = rhat.dim(0)?;
    let outer = rhat.unsqueeze(2)?.broadcast_mul(&rhat.unsqueeze(1)?)?.reshape((p, 9))?; // r̂r̂ᵀ
    let eye = Tensor::from_vec(vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0], (1, 9), vec.device())?
        .to_dtype(vec.dtype())?;
    let transverse = eye.broadcast_sub(&outer)?; // I − r̂r̂ᵀ
    let b = (outer.broadcast_mul(&d2)? + transverse.broadcast_mul(&d1.broadcast_div(&r)?)?)?;
    Ok(b.neg()?)
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
