//! Training: L1 loss on energies, forces and Hessians (method page, section 4; weights
//! `w_E : w_F : w_H`, default 1 : 25 : 10; `w_H = 0` trains the paper's E+F baseline), optional
//! subspace loss on the k lowest *vibrational* modes of the mass-weighted, Eckart-projected
//! reference Hessian, AdamW with decoupled weight decay, global gradient-norm clipping, linear
//! warm-up then cosine learning-rate decay, an exponential moving average (EMA) of the weights
//! for validation and the checkpoint, mini-batches of several molecules as one disjoint graph,
//! validation after each epoch, and atomic checkpoints with the optimizer state so that an
//! interrupted run resumes to bitwise the same weights.
//!
//! Two protocols (method page, section 4): end to end on E, F and H, or `head_only` — the
//! backbone frozen (e.g. the E+F baseline's), its node features computed once per sample, and
//! only the Hessian head trained on H (+ subspace). The second needs no force backward pass and
//! makes HIP direct and autodiff share one backbone.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use candle_core::{DType, Device, Tensor, Var};
use hip_core::io::dataset::Sample;
use irreps::rotation::SplitMix64;
use serde::{Deserialize, Serialize};

use crate::graph::{Batch, radius_graph};
use crate::{Error, HipModel, Result, checkpoint};

/// Training settings (TOML; recorded in every checkpoint).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    /// Passes over the training set.
    pub epochs: usize,
    /// Molecules per mini-batch.
    pub batch_size: usize,
    /// Peak learning rate.
    pub lr: f64,
    /// Final learning rate as a fraction of the peak.
    pub lr_final_fraction: f64,
    /// Fraction of the steps used for linear warm-up.
    pub warmup_fraction: f64,
    /// AdamW decoupled weight decay.
    pub weight_decay: f64,
    /// Clip the global gradient norm to this value.
    pub grad_clip: f64,
    /// Energy loss weight.
    pub w_energy: f64,
    /// Force loss weight.
    pub w_forces: f64,
    /// Hessian loss weight (0: E+F baseline; no Hessian head in the loss).
    pub w_hessian: f64,
    /// Subspace loss weight (0: off).
    pub w_subspace: f64,
    /// Number of lowest reference modes in the subspace and mode-curvature losses.
    pub subspace_k: usize,
    /// Mode-curvature loss weight (0: off): mean over the `subspace_k` lowest reference modes
    /// `u_i` of `|u_iᵀ H_pred u_i − λ_i|` ([`subspace_target`]'s modes, eV/(Å² amu)): the
    /// curvature of the prediction along each low mode, the diagonal of the subspace loss without
    /// its k² − k off-diagonal entries diluting it. At a TS the first is the reaction mode, whose
    /// curvature decides whether a search driven by the Hessian converges
    /// (`hip_tasks::optimize::local`).
    pub w_modes: f64,
    /// With `modes_floor > 0` the mode-curvature loss is relative: each term divided by
    /// `|λ_i| + modes_floor` (eV/(Å² amu)), so a soft mode's curvature counts by its relative
    /// error — what decides whether a Newton step along it overshoots — and not by its tiny
    /// absolute one. 0: absolute.
    pub modes_floor: f64,
    /// Data-order seed.
    pub seed: u64,
    /// Use at most this many training samples (0: all).
    pub max_train: usize,
    /// Validate on at most this many samples (0: all).
    pub max_val: usize,
    /// Train only the Hessian head (parameters named `head.*`) on a frozen backbone.
    pub head_only: bool,
    /// Decay of the exponential moving average of the weights (0: off). The EMA weights are the
    /// ones validated and saved as the model; the raw weights are kept for resuming.
    pub ema_decay: f64,
    /// A CPU-time budget in seconds for the optimizer steps (0: none): this process's user +
    /// system time (from `/proc/self/stat`; wall time where unreadable), so that runs sharing a
    /// busy machine get equal compute. Training stops at the first step past it, and the
    /// learning-rate schedule runs over the budget (the fraction used) instead of over `epochs`.
    /// For ablations at an equal CPU budget; not bitwise reproducible.
    pub time_budget_s: f64,
    /// Precision of the weights, optimizer state and arithmetic while training (`"f64"` or
    /// `"f32"`); checkpoints store f64 either way.
    pub dtype: crate::Precision,
    /// Times each training sample of a kind appears in an epoch, e.g. `kind_repeats = { ts = 5 }`
    /// (kinds not listed: once; each value 1..=100). Oversamples the rare kinds whose lowest mode
    /// matters most: transition states are 2 % of the v2 training samples. Validation is unweighted.
    pub kind_repeats: BTreeMap<String, usize>,
    /// Train only on samples of these kinds, e.g. `kinds = ["ts"]` (empty: all kinds), chosen
    /// before the spread to `max_train`. Validation keeps every kind, so a specialised run shows
    /// what it costs elsewhere. For fit tests ("can the head fit the TSs alone?") and
    /// per-kind fine-tunes.
    pub kinds: Vec<String>,
    /// Hessian-consistent geometry augmentation (0: off): on each visit, a training sample is
    /// displaced with probability [`Self::taylor_fraction`] by `δ ~ N(0, σ²)` per coordinate (σ
    /// in Å, at most 0.1) and its labels are moved to the new geometry to second order with the
    /// reference Hessian `H` ([`taylor_displaced`]): `F' = F − Hδ`, `E' = E − F·δ + ½ δᵀHδ`;
    /// the Hessian and subspace targets are kept. The force loss then constrains the *slope* of
    /// the forces, i.e. the curvature of the learned surface (its autodiff Hessian), which plain
    /// E/F/H training leaves to chance. Needs the force loss (not with `head_only`).
    pub taylor_sigma: f64,
    /// Probability that a visit of a sample is displaced (with `taylor_sigma > 0`).
    pub taylor_fraction: f64,
    /// Weight of the curvature loss (0: off): for molecules of each batch, the central
    /// difference of the model's forces along a random displacement `δ ~ N(0, σ²)` against the
    /// reference Hessian, `mean |(F(x+δ) − F(x−δ))/2 + Hδ| / σ` (eV/Å², [`curvature_loss`]).
    /// The base force error cancels in the difference, so this trains the curvature of the
    /// learned surface (its autodiff Hessian) directly; costs one extra energy+force pass over
    /// twice the chosen molecules. Needs the force path (not with `head_only`).
    pub w_curvature: f64,
    /// σ of the curvature loss's displacement, Å (0 < σ ≤ 0.1).
    pub curvature_sigma: f64,
    /// Molecules of each batch in the curvature loss, the first ones (0: all).
    pub curvature_per_batch: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 10,
            batch_size: 8,
            lr: 5e-3,
            lr_final_fraction: 0.05,
            warmup_fraction: 0.02,
            weight_decay: 1e-6,
            grad_clip: 10.0,
            w_energy: 1.0,
            w_forces: 25.0,
            w_hessian: 10.0,
            w_subspace: 0.0,
            subspace_k: 8,
            w_modes: 0.0,
            modes_floor: 0.0,
            seed: 0,
            max_train: 0,
            max_val: 0,
            head_only: false,
            ema_decay: 0.0,
            time_budget_s: 0.0,
            dtype: crate::Precision::F64,
            kind_repeats: BTreeMap::new(),
            kinds: Vec::new(),
            taylor_sigma: 0.0,
            taylor_fraction: 0.5,
            w_curvature: 0.0,
            curvature_sigma: 0.01,
            curvature_per_batch: 0,
        }
    }
}

impl TrainConfig {
    /// From TOML text (unknown keys are errors, and so is any value [`Self::validate`] refuses).
    pub fn from_toml(text: &str) -> Result<Self> {
        let c: TrainConfig = toml::from_str(text).map_err(|e| Error::Input(format!("training config: {e}")))?;
        c.validate().map_err(|e| Error::Input(format!("training config: {e}")))?;
        Ok(c)
    }

    /// Checks every value: finite non-negative rates and weights, fractions in [0, 1], a batch
    /// of 1..=4096 molecules, at most 10⁶ epochs and 64 subspace modes.
    pub fn validate(&self) -> std::result::Result<(), String> {
        let non_negative = [
            ("lr", self.lr),
            ("weight_decay", self.weight_decay),
            ("grad_clip", self.grad_clip),
            ("w_energy", self.w_energy),
            ("w_forces", self.w_forces),
            ("w_hessian", self.w_hessian),
            ("w_subspace", self.w_subspace),
            ("w_modes", self.w_modes),
            ("modes_floor", self.modes_floor),
            ("time_budget_s", self.time_budget_s),
            ("w_curvature", self.w_curvature),
        ];
        for (name, v) in non_negative {
            if !(v.is_finite() && v >= 0.0) {
                return Err(format!("{name} = {v} (need a finite value >= 0)"));
            }
        }
        for (name, v) in [("lr_final_fraction", self.lr_final_fraction), ("warmup_fraction", self.warmup_fraction)] {
            if !(0.0..=1.0).contains(&v) {
                return Err(format!("{name} = {v} (need 0..=1)"));
            }
        }
        if !(0.0..1.0).contains(&self.ema_decay) {
            return Err(format!("ema_decay = {} (need 0 <= ema_decay < 1)", self.ema_decay));
        }
        if !(1..=4096).contains(&self.batch_size) {
            return Err(format!("batch_size = {} (need 1..=4096)", self.batch_size));
        }
        if self.epochs > 1_000_000 {
            return Err(format!("epochs = {} (need <= 1000000)", self.epochs));
        }
        if self.subspace_k > 64 {
            return Err(format!("subspace_k = {} (need <= 64)", self.subspace_k));
        }
        if let Some((kind, r)) = self.kind_repeats.iter().find(|(_, r)| !(1..=100).contains(*r)) {
            return Err(format!("kind_repeats.{kind} = {r} (need 1..=100)"));
        }
        if let Some(k) = self.kinds.iter().enumerate().find(|(i, k)| k.is_empty() || self.kinds[..*i].contains(k)) {
            let problem = if k.1.is_empty() { "an empty kind" } else { "listed twice" };
            return Err(format!("kinds: {:?} is {problem}", k.1));
        }
        if !(0.0..=0.1).contains(&self.taylor_sigma) {
            return Err(format!("taylor_sigma = {} (need 0..=0.1 Å)", self.taylor_sigma));
        }
        if !(0.0..=1.0).contains(&self.taylor_fraction) {
            return Err(format!("taylor_fraction = {} (need 0..=1)", self.taylor_fraction));
        }
        if self.taylor_sigma > 0.0 && (self.head_only || self.w_forces == 0.0) {
            return Err("taylor_sigma > 0 needs the force loss (w_forces > 0, not head_only)".into());
        }
        if !(self.curvature_sigma > 0.0 && self.curvature_sigma <= 0.1) {
            return Err(format!("curvature_sigma = {} (need 0 < σ <= 0.1 Å)", self.curvature_sigma));
        }
        if self.w_curvature > 0.0 && self.head_only {
            return Err("w_curvature > 0 needs the force path (not head_only)".into());
        }
        Ok(())
    }
}

/// AdamW (Loshchilov & Hutter) with its state exposed for checkpoints.
#[derive(Debug)]
pub struct AdamW {
    /// First moments by parameter name.
    pub m: BTreeMap<String, Tensor>,
    /// Second moments.
    pub v: BTreeMap<String, Tensor>,
    /// Steps taken.
    pub step: usize,
    beta1: f64,
    beta2: f64,
    eps: f64,
}

impl Default for AdamW {
    fn default() -> Self {
        AdamW { m: BTreeMap::new(), v: BTreeMap::new(), step: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8 }
    }
}

impl AdamW {
    /// One update of every variable with gradient `grads[name]`.
    pub fn update(
        &mut self,
        vars: &BTreeMap<String, Var>,
        grads: &BTreeMap<String, Tensor>,
        lr: f64,
        weight_decay: f64,
    ) -> Result<()> {
        self.step += 1;
        let t = self.step as i32;
        let (bc1, bc2) = (1.0 - self.beta1.powi(t), 1.0 - self.beta2.powi(t));
        for (name, var) in vars {
            let Some(g) = grads.get(name) else { continue };
            let m = match self.m.get(name) {
                Some(m) => ((m * self.beta1)? + (g * (1.0 - self.beta1))?)?,
                None => (g * (1.0 - self.beta1))?,
            };
            let v = match self.v.get(name) {
                Some(v) => ((v * self.beta2)? + (g.sqr()? * (1.0 - self.beta2))?)?,
                None => (g.sqr()? * (1.0 - self.beta2))?,
            };
            let update = ((&m / bc1)? / ((&v / bc2)?.sqrt()? + self.eps)?)?;
            let p = var.as_tensor();
            let new = ((p * (1.0 - lr * weight_decay))? - (update * lr)?)?;
            var.set(&new.detach())?;
            self.m.insert(name.clone(), m.detach());
            self.v.insert(name.clone(), v.detach());
        }
        Ok(())
    }

    /// State as `optim.*` tensors (for checkpoints).
    pub fn state(&self, device: &Device) -> Result<BTreeMap<String, Tensor>> {
        let mut out = BTreeMap::new();
        for (k, t) in &self.m {
            out.insert(format!("optim.m.{k}"), t.clone());
        }
        for (k, t) in &self.v {
            out.insert(format!("optim.v.{k}"), t.clone());
        }
        out.insert("optim.step".into(), Tensor::new(&[self.step as f64], device)?);
        Ok(out)
    }

    /// Restores from `optim.*` tensors, the moments in `dtype`.
    pub fn from_state(state: &BTreeMap<String, Tensor>, dtype: DType) -> Result<Self> {
        let mut a = AdamW::default();
        for (k, t) in state {
            if let Some(n) = k.strip_prefix("optim.m.") {
                a.m.insert(n.to_string(), t.to_dtype(dtype)?);
            } else if let Some(n) = k.strip_prefix("optim.v.") {
                a.v.insert(n.to_string(), t.to_dtype(dtype)?);
            } else if k == "optim.step" {
                a.step = t.to_vec1::<f64>()?[0] as usize;
            }
        }
        Ok(a)
    }
}

/// Learning rate at `step` of `total`: linear warm-up, then cosine decay to `lr · final`.
pub fn learning_rate(cfg: &TrainConfig, step: usize, total: usize) -> f64 {
    let warm = ((cfg.warmup_fraction * total as f64).ceil() as usize).max(1);
    if step < warm {
        return cfg.lr * (step + 1) as f64 / warm as f64;
    }
    let p = (step - warm) as f64 / (total.saturating_sub(warm)).max(1) as f64;
    cosine(cfg, p)
}

/// Learning rate when a fraction `f` of the time budget is used (same warm-up and decay).
pub fn learning_rate_at_fraction(cfg: &TrainConfig, f: f64) -> f64 {
    let w = cfg.warmup_fraction.max(1e-9);
    if f < w {
        return cfg.lr * (f / w).max(1e-3);
    }
    cosine(cfg, (f - w) / (1.0 - w).max(1e-9))
}

fn cosine(cfg: &TrainConfig, p: f64) -> f64 {
    let f =
        cfg.lr_final_fraction + (1.0 - cfg.lr_final_fraction) * 0.5 * (1.0 + (std::f64::consts::PI * p.min(1.0)).cos());
    cfg.lr * f
}

/// Per-species reference energies by least squares (`E ≈ Σ_s n_s ε_s`), the RMS force component
/// (readout scale) and the mean number of neighbours within `cutoff`.
pub fn fit_statistics(samples: &[Sample], species: &[u8], cutoff: f64) -> Result<(Vec<f64>, f64, f64)> {
    let k = species.len();
    let mut ata = nalgebra::DMatrix::<f64>::zeros(k, k);
    let mut atb = nalgebra::DVector::<f64>::zeros(k);
    let (mut f2, mut nf, mut neigh, mut atoms) = (0.0, 0usize, 0usize, 0usize);
    for s in samples {
        let mut counts = vec![0.0; k];
        for &z in &s.molecule.numbers {
            let i = species
                .iter()
                .position(|&x| x == z)
                .ok_or_else(|| Error::Input(format!("element Z={z} is not in species {species:?}")))?;
            counts[i] += 1.0;
        }
        for a in 0..k {
            atb[a] += counts[a] * s.energy;
            for b in 0..k {
                ata[(a, b)] += counts[a] * counts[b];
            }
        }
        f2 += s.forces.iter().flatten().map(|x| x * x).sum::<f64>();
        nf += 3 * s.forces.len();
        neigh += radius_graph(&s.molecule.positions, cutoff).len();
        atoms += s.molecule.len();
    }
    for a in 0..k {
        ata[(a, a)] += 1e-8; // species absent from the data get ~0
    }
    let refs = ata.lu().solve(&atb).ok_or_else(|| Error::Input("cannot fit reference energies".into()))?;
    Ok((refs.iter().copied().collect(), (f2 / nf.max(1) as f64).sqrt().max(1e-3), neigh as f64 / atoms.max(1) as f64))
}

/// Mean absolute reference Hessian entry (eV/Å²), the head's output scale (`hessian_scale`).
/// The mean |H|, not the RMS: Hessian entries are heavy-tailed (v1 data: median 0.18, mean 3.5,
/// RMS 23 eV/Å²), and the loss is L1.
pub fn fit_hessian_scale(samples: &[Sample]) -> f64 {
    let (mut s1, mut n) = (0.0, 0usize);
    for s in samples {
        s1 += s.hessian.as_slice().iter().map(|x| x.abs()).sum::<f64>();
        n += s.hessian.as_slice().len();
    }
    if n == 0 { 1.0 } else { (s1 / n as f64).max(1e-3) }
}

/// Indices of at most `max` of `len` samples spread evenly over them (`k · len / max`), or all
/// when `max` is 0 or not smaller than `len`. Datasets are ordered by molecule, so a prefix
/// would see only the first molecules; a spread sees all of them.
pub fn spread_indices(len: usize, max: usize) -> Vec<usize> {
    if max == 0 || max >= len { (0..len).collect() } else { (0..max).map(|k| k * len / max).collect() }
}

/// Positions, in a list of sample kinds, of the samples whose kind is in `kinds` (empty: all),
/// spread to at most `max` with [`spread_indices`]: the one selection rule of
/// [`training_indices`] and [`load_split_of_kinds`].
pub fn kind_spread<'a>(sample_kinds: impl IntoIterator<Item = &'a str>, kinds: &[String], max: usize) -> Vec<usize> {
    let of_kinds: Vec<usize> = sample_kinds
        .into_iter()
        .enumerate()
        .filter(|(_, kind)| kinds.is_empty() || kinds.iter().any(|k| k == kind))
        .map(|(i, _)| i)
        .collect();
    spread_indices(of_kinds.len(), max).into_iter().map(|k| of_kinds[k]).collect()
}

/// Indices of the training samples used: those of [`TrainConfig::kinds`], spread to at most
/// [`TrainConfig::max_train`] ([`kind_spread`]).
pub fn training_indices(samples: &[Sample], cfg: &TrainConfig) -> Vec<usize> {
    kind_spread(samples.iter().map(|s| s.kind.as_str()), &cfg.kinds, cfg.max_train)
}

/// Subspace-loss target of one sample: `U (3N, k)`, the Cartesian displacements of the `k` lowest
/// vibrational modes of the mass-weighted, Eckart-projected reference (mass-weighted eigenvector
/// divided by `√m`, IUPAC masses), and their eigenvalues `Λ (k,)` in eV/(Å² amu); so that
/// `Uᵀ H_pred U` is the predicted mass-weighted Hessian in the reference's mode basis.
#[derive(Clone, Debug)]
pub struct SubspaceTarget {
    /// `(3N, k)`.
    pub modes: Tensor,
    /// `(k, k)`, diagonal `Λ`.
    pub lambda: Tensor,
}

/// The subspace target of `s` with `k` modes (fewer if the molecule has fewer), `None` for a
/// molecule without vibrations.
pub fn subspace_target(s: &Sample, k: usize, device: &Device) -> Result<Option<SubspaceTarget>> {
    let masses = s.molecule.masses(hip_core::MassConvention::Iupac)?;
    let vib = hip_tasks::vibrations::Vibrations::new(&s.molecule, &s.hessian, &masses)?;
    let k = k.min(vib.eigenvalues.len());
    if k == 0 {
        return Ok(None);
    }
    let d = 3 * s.molecule.len();
    let u: Vec<f64> = (0..d).flat_map(|r| (0..k).map(move |c| (r, c))).map(|(r, c)| vib.modes[c][r]).collect();
    let lam: Vec<f64> = (0..k * k).map(|i| if i / k == i % k { vib.eigenvalues[i / k] } else { 0.0 }).collect();
    Ok(Some(SubspaceTarget {
        modes: Tensor::from_vec(u, (d, k), device)?,
        lambda: Tensor::from_vec(lam, (k, k), device)?,
    }))
}

/// `s` displaced by `δ` (Å, flat over (atom, xyz)) with its labels carried to the new geometry
/// by the second-order expansion of its reference surface: `F' = F − Hδ`,
/// `E' = E − F·δ + ½ δᵀHδ`, Hessian unchanged. Exact for a quadratic surface; for a real one the
/// force error is third order, `O(|∂³E| δ²)` (a few meV/Å at δ = 0.02 Å for bond stretches).
pub fn taylor_displaced(s: &Sample, delta: &[f64]) -> Result<Sample> {
    let d = 3 * s.molecule.len();
    if delta.len() != d {
        return Err(Error::Input(format!("taylor_displaced: {} displacements for {d} coordinates", delta.len())));
    }
    let h = s.hessian.as_slice();
    let hd: Vec<f64> = (0..d).map(|r| (0..d).map(|c| h[r * d + c] * delta[c]).sum()).collect();
    let f: Vec<f64> = s.forces.iter().flatten().copied().collect();
    let energy = s.energy - f.iter().zip(delta).map(|(a, b)| a * b).sum::<f64>()
        + 0.5 * delta.iter().zip(&hd).map(|(a, b)| a * b).sum::<f64>();
    let x: Vec<f64> = s.molecule.flat_positions().iter().zip(delta).map(|(a, b)| a + b).collect();
    let forces =
        f.iter().zip(&hd).map(|(a, b)| a - b).collect::<Vec<_>>().chunks(3).map(|c| [c[0], c[1], c[2]]).collect();
    Ok(Sample { molecule: s.molecule.with_flat_positions(&x), energy, forces, ..s.clone() })
}

/// The Taylor-augmented copy of `s` for visit `visit` of `epoch` (`None`: this visit is not
/// displaced), deterministic in (`cfg.seed`, epoch, visit).
fn taylor_visit(s: &Sample, cfg: &TrainConfig, epoch: usize, visit: usize) -> Result<Option<Sample>> {
    if cfg.taylor_sigma <= 0.0 {
        return Ok(None);
    }
    let mut rng = SplitMix64(cfg.seed ^ 0x7A71_0A06 ^ ((epoch as u64) << 32) ^ visit as u64);
    if rng.uniform() >= cfg.taylor_fraction {
        return Ok(None);
    }
    let delta: Vec<f64> = (0..3 * s.molecule.len()).map(|_| cfg.taylor_sigma * rng.normal()).collect();
    taylor_displaced(s, &delta).map(Some)
}

/// The curvature loss of the first `cfg.curvature_per_batch` molecules of `items` (0: all):
/// `mean |(F(x+δ) − F(x−δ))/2 + Hδ| / σ` over their coordinates, with `δ ~ N(0, σ²)` per
/// coordinate drawn from `seed`, `F` the model's forces and `H` the reference Hessian. The
/// central difference is `−Hδ + O(|∂⁴E| δ³)`: the surface's third derivatives cancel, and so does
/// any error the model's forces share at `x±δ`. A scalar tensor in eV/Å² (a Hessian error).
pub fn curvature_loss(model: &HipModel, samples: &[&Sample], cfg: &TrainConfig, seed: u64) -> Result<Tensor> {
    let k = if cfg.curvature_per_batch == 0 { samples.len() } else { cfg.curvature_per_batch.min(samples.len()) };
    let sigma = cfg.curvature_sigma;
    let mut rng = SplitMix64(seed ^ 0xC0A7_0E55);
    let (mut plus, mut minus, mut target) = (Vec::with_capacity(k), Vec::with_capacity(k), Vec::new());
    for s in &samples[..k] {
        let d = 3 * s.molecule.len();
        let delta: Vec<f64> = (0..d).map(|_| sigma * rng.normal()).collect();
        let x = s.molecule.flat_positions();
        plus.push(s.molecule.with_flat_positions(&x.iter().zip(&delta).map(|(a, b)| a + b).collect::<Vec<_>>()));
        minus.push(s.molecule.with_flat_positions(&x.iter().zip(&delta).map(|(a, b)| a - b).collect::<Vec<_>>()));
        let h = s.hessian.as_slice();
        target.extend((0..d).map(|r| -(0..d).map(|c| h[r * d + c] * delta[c]).sum::<f64>()));
    }
    let mols: Vec<&hip_core::Molecule> = plus.iter().chain(&minus).collect();
    let batch = Batch::new(&mols, &model.config, model.device())?;
    let (_, forces, _) = model.energy_forces(&batch, false)?;
    let n = forces.dim(0)? / 2;
    let half = ((forces.narrow(0, 0, n)? - forces.narrow(0, n, n)?)? * 0.5)?;
    let target = Tensor::from_vec(target, half.dims(), model.device())?.to_dtype(half.dtype())?;
    Ok(((half - target)?.abs()?.mean_all()? / sigma)?)
}

/// The items of one batch (`chunk`: indices into `items`), each replaced by its displaced copy
/// where [`taylor_visit`] made one (`moved`, parallel to `chunk`).
fn visit_items<'b>(items: &[Item<'b>], chunk: &[usize], moved: &'b [Option<Sample>]) -> Vec<Item<'b>> {
    chunk
        .iter()
        .zip(moved)
        .map(|(&i, m)| match m {
            Some(m) => Item { sample: m, features: None, subspace: items[i].subspace.clone() },
            None => items[i].clone(),
        })
        .collect()
}

/// Losses of one batch (also the validation numbers).
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Losses {
    /// mean |ΔE| per molecule, eV.
    pub energy: f64,
    /// mean |ΔF| per component, eV/Å.
    pub forces: f64,
    /// mean |ΔH| per entry, eV/Å² (direct Hessian).
    pub hessian: f64,
    /// Weighted total.
    pub total: f64,
}

/// A training or validation sample with what is precomputed for it.
#[derive(Clone)]
struct Item<'a> {
    sample: &'a Sample,
    /// Frozen backbone node features `(N, dim)` (head-only training).
    features: Option<Tensor>,
    subspace: Option<SubspaceTarget>,
}

fn prepare<'a>(model: &HipModel, samples: &[&'a Sample], cfg: &TrainConfig) -> Result<Vec<Item<'a>>> {
    let device = model.device();
    samples
        .iter()
        .map(|&s| {
            let features = if cfg.head_only {
                let batch = Batch::new(&[&s.molecule], &model.config, device)?;
                Some(model.node_features(&batch, &batch.positions)?.detach())
            } else {
                None
            };
            let subspace = if cfg.w_subspace > 0.0 || cfg.w_modes > 0.0 {
                subspace_target(s, cfg.subspace_k, device)?
            } else {
                None
            };
            Ok(Item { sample: s, features, subspace })
        })
        .collect()
}

/// L1 Hessian loss and subspace loss of predicted flat Hessians `hp` of `items`.
fn hessian_terms(hp: &Tensor, items: &[&Item], batch: &Batch, cfg: &TrainConfig) -> Result<(Tensor, f64)> {
    let device = hp.device();
    let h_ref: Vec<f64> = items.iter().flat_map(|it| it.sample.hessian.as_slice().iter().copied()).collect();
    let h_ref = Tensor::from_vec(h_ref, hp.dims(), device)?;
    let lh = (hp - &h_ref)?.abs()?.mean_all()?;
    let mae = lh.to_scalar::<f64>()?;
    let mut total = (lh * cfg.w_hessian)?;
    if cfg.w_subspace > 0.0 || cfg.w_modes > 0.0 {
        let (mut sub, mut modes) = (Tensor::zeros((), DType::F64, device)?, Tensor::zeros((), DType::F64, device)?);
        for (m, it) in items.iter().enumerate() {
            let Some(t) = &it.subspace else { continue };
            let d = 3 * it.sample.molecule.len();
            let hm = hp.narrow(0, batch.h_offsets[m], d * d)?.reshape((d, d))?;
            let err = (t.modes.t()?.matmul(&hm)?.matmul(&t.modes)? - &t.lambda)?;
            if cfg.w_subspace > 0.0 {
                sub = (sub + err.abs()?.mean_all()?)?;
            }
            if cfg.w_modes > 0.0 {
                let k = err.dim(0)?;
                let eye = Tensor::eye(k, DType::F64, device)?;
                let mut diag = (err * eye)?.abs()?;
                if cfg.modes_floor > 0.0 {
                    diag = diag.broadcast_div(&(t.lambda.abs()? + cfg.modes_floor)?)?;
                }
                modes = (modes + diag.sum_all()?.affine(1.0 / k as f64, 0.0)?)?;
            }
        }
        let n = items.len() as f64;
        total = (total + ((sub / n)? * cfg.w_subspace)? + ((modes / n)? * cfg.w_modes)?)?;
    }
    Ok((total, mae))
}

fn batch_loss(model: &HipModel, items: &[&Item], cfg: &TrainConfig, device: &Device) -> Result<(Tensor, Losses)> {
    let mols: Vec<&hip_core::Molecule> = items.iter().map(|it| &it.sample.molecule).collect();
    let batch = Batch::new(&mols, &model.config, device)?;
    if cfg.head_only {
        let feats: Vec<&Tensor> = items.iter().filter_map(|it| it.features.as_ref()).collect();
        let x = Tensor::cat(&feats, 0)?;
        let hp = model.head_hessians(&batch, &x)?;
        let (total, mae) = hessian_terms(&hp, items, &batch, cfg)?;
        let losses = Losses { energy: f64::NAN, forces: f64::NAN, hessian: mae, total: total.to_scalar::<f64>()? };
        return Ok((total, losses));
    }
    let need_h = cfg.w_hessian > 0.0 || cfg.w_subspace > 0.0 || cfg.w_modes > 0.0;
    let (out, forces, _) = model.energy_forces(&batch, need_h)?;
    let e_ref = Tensor::from_vec(items.iter().map(|it| it.sample.energy).collect::<Vec<_>>(), items.len(), device)?;
    let f_ref: Vec<f64> = items.iter().flat_map(|it| it.sample.forces.iter().flatten().copied()).collect();
    let f_ref = Tensor::from_vec(f_ref, forces.dims(), device)?;
    let le = (&out.energies - &e_ref)?.abs()?.mean_all()?;
    let lf = (&forces - &f_ref)?.abs()?.mean_all()?;
    let mut total = ((le.clone() * cfg.w_energy)? + (lf.clone() * cfg.w_forces)?)?;
    let mut hessian_mae = f64::NAN;
    if let Some(hp) = &out.hessians {
        let (th, mae) = hessian_terms(hp, items, &batch, cfg)?;
        hessian_mae = mae;
        total = (total + th)?;
    }
    let losses = Losses {
        energy: le.to_scalar::<f64>()?,
        forces: lf.to_scalar::<f64>()?,
        hessian: hessian_mae,
        total: total.to_scalar::<f64>()?,
    };
    Ok((total, losses))
}

/// Mean losses over `samples` (no gradient step), in batches. An empty set is an error (it has
/// no errors to report, not zero errors).
pub fn validate(model: &HipModel, samples: &[&Sample], cfg: &TrainConfig) -> Result<Losses> {
    let items = prepare(model, samples, cfg)?;
    let mut l = validate_items(model, &items, cfg)?;
    if cfg.head_only {
        let ef = TrainConfig { head_only: false, w_hessian: 0.0, w_subspace: 0.0, w_modes: 0.0, ..cfg.clone() };
        let e = validate_items(model, &prepare(model, samples, &ef)?, &ef)?;
        (l.energy, l.forces) = (e.energy, e.forces);
    }
    Ok(l)
}

fn validate_items(model: &HipModel, items: &[Item], cfg: &TrainConfig) -> Result<Losses> {
    if items.is_empty() {
        return Err(Error::Input("validation set is empty: nothing to evaluate".into()));
    }
    let mut acc = Losses::default();
    let mut n = 0.0;
    let refs: Vec<&Item> = items.iter().collect();
    for chunk in refs.chunks(cfg.batch_size.max(1)) {
        let (_, l) = batch_loss(model, chunk, cfg, model.device())?;
        let w = chunk.len() as f64;
        acc.energy += w * l.energy;
        acc.forces += w * l.forces;
        acc.hessian += w * l.hessian;
        acc.total += w * l.total;
        n += w;
    }
    Ok(Losses { energy: acc.energy / n, forces: acc.forces / n, hessian: acc.hessian / n, total: acc.total / n })
}

/// One epoch's record.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EpochRecord {
    /// Epoch (1-based).
    pub epoch: usize,
    /// Mean training loss.
    pub train_loss: f64,
    /// Validation energy MAE, eV (NaN without validation samples; JSON `null`).
    #[serde(deserialize_with = "nan_if_null")]
    pub val_energy_mae: f64,
    /// Validation force MAE, eV/Å.
    #[serde(deserialize_with = "nan_if_null")]
    pub val_forces_mae: f64,
    /// Validation Hessian MAE (direct head), eV/Å² (NaN when the loss has no Hessian).
    #[serde(deserialize_with = "nan_if_null")]
    pub val_hessian_mae: f64,
    /// Wall time so far, s.
    pub wall_s: f64,
    /// CPU time of the optimization and validation so far (the budget clock: process user +
    /// system time, summed over resumed runs), s; 0 in checkpoints older than this field.
    #[serde(default)]
    pub cpu_s: f64,
}

impl EpochRecord {
    /// The budget clock at the end of this epoch, s: `cpu_s`, or the wall time in checkpoints
    /// older than the CPU clock (`cpu_s` = 0).
    pub fn budget_s(&self) -> f64 {
        if self.cpu_s > 0.0 { self.cpu_s } else { self.wall_s }
    }
}

/// JSON has no NaN: serde_json writes it as `null`, which reads back as NaN here (without this a
/// history with a NaN would not deserialize, and a resumed run would lose its history).
fn nan_if_null<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// Where to write checkpoints and what to record in them.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Checkpoint written after every epoch (atomically).
    pub checkpoint: PathBuf,
    /// Resume from `checkpoint` if it exists.
    pub resume: bool,
    /// Stop after this many epochs *in this invocation* (for tests of resumption; 0: no limit).
    pub stop_after: usize,
    /// Free-form provenance (data file, version...).
    pub provenance: serde_json::Value,
    /// Show a progress bar.
    pub progress: bool,
}

/// Exponential moving average of the trained weights, with the usual warm-up of the decay
/// (`min(decay, (1 + t) / (10 + t))` at update `t`) so early weights do not dominate.
#[derive(Debug, Default)]
struct Ema {
    decay: f64,
    shadow: BTreeMap<String, Tensor>,
}

impl Ema {
    /// Updates the average of the variables for which `trained(name)` holds (a frozen backbone
    /// stays bitwise as it is).
    fn update(&mut self, vars: &BTreeMap<String, Var>, step: usize, trained: impl Fn(&str) -> bool) -> Result<()> {
        if self.decay <= 0.0 {
            return Ok(());
        }
        let d = self.decay.min((1.0 + step as f64) / (10.0 + step as f64));
        for (name, var) in vars.iter().filter(|(n, _)| trained(n)) {
            let p = var.as_tensor().detach();
            let new = match self.shadow.get(name) {
                Some(s) => ((s * d)? + (p * (1.0 - d))?)?,
                None => p.copy()?,
            };
            self.shadow.insert(name.clone(), new);
        }
        Ok(())
    }

    /// Swaps the model's weights with the EMA's (call twice to swap back).
    fn swap(&mut self, vars: &BTreeMap<String, Var>) -> Result<()> {
        for (name, var) in vars {
            if let Some(s) = self.shadow.get_mut(name) {
                let cur = var.as_tensor().copy()?;
                var.set(s)?;
                *s = cur;
            }
        }
        Ok(())
    }
}

/// CPU time (user + system) of this process in seconds, from `/proc/self/stat` (clock ticks of
/// 1/100 s); `None` where it cannot be read.
pub fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // fields after the parenthesized command name: state is field 3, utime 14, stime 15
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let (u, s) = (f.get(11)?.parse::<f64>().ok()?, f.get(12)?.parse::<f64>().ok()?);
    Some((u + s) / 100.0)
}

/// Seconds spent since `start` on the budget clock: CPU time where readable, else wall time.
struct BudgetClock {
    cpu0: Option<f64>,
    wall0: Instant,
}

impl BudgetClock {
    fn start() -> Self {
        BudgetClock { cpu0: process_cpu_seconds(), wall0: Instant::now() }
    }
    fn elapsed(&self) -> f64 {
        match (self.cpu0, process_cpu_seconds()) {
            (Some(a), Some(b)) => b - a,
            _ => self.wall0.elapsed().as_secs_f64(),
        }
    }
}

/// The sample indices of one epoch before shuffling: index `i` appears `repeats[kinds[i]]` times
/// (once for a kind not in `repeats`).
pub fn epoch_pool(kinds: &[&str], repeats: &BTreeMap<String, usize>) -> Vec<usize> {
    kinds.iter().enumerate().flat_map(|(i, k)| std::iter::repeat_n(i, repeats.get(*k).copied().unwrap_or(1))).collect()
}

fn shuffled(idx: &[usize], seed: u64, epoch: usize) -> Vec<usize> {
    let mut order = idx.to_vec();
    let mut rng = SplitMix64(seed.wrapping_mul(0x9E37_79B9).wrapping_add(epoch as u64));
    for i in (1..order.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    order
}

fn progress_bar(show: bool, len: usize, epoch: usize, epochs: usize) -> Option<indicatif::ProgressBar> {
    show.then(|| {
        let b = indicatif::ProgressBar::new(len as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template("epoch {prefix} [{bar:30}] {pos}/{len} loss {msg} eta {eta}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b.set_prefix(format!("{}/{epochs}", epoch + 1));
        b
    })
}

/// Whether parameter `name` is trained under `cfg` (head-only: the `head.*` parameters).
pub fn is_trained(cfg: &TrainConfig, name: &str) -> bool {
    !cfg.head_only || name.starts_with("head.")
}

/// One optimizer step on a batch; returns its losses.
fn train_step(
    model: &HipModel,
    opt: &mut AdamW,
    items: &[&Item],
    cfg: &TrainConfig,
    lr: f64,
    device: &Device,
    curvature_seed: u64,
) -> Result<Losses> {
    let grads_on = crate::params::ParamGrads::enable();
    let (mut loss, l) = batch_loss(model, items, cfg, device)?;
    if cfg.w_curvature > 0.0 {
        let samples: Vec<&Sample> = items.iter().map(|it| it.sample).collect();
        let c = curvature_loss(model, &samples, cfg, curvature_seed)?.to_dtype(loss.dtype())?;
        loss = (loss + (c * cfg.w_curvature)?)?;
    }
    let grads = loss.backward()?;
    drop(grads_on);
    let mut g: BTreeMap<String, Tensor> = BTreeMap::new();
    let mut norm2 = 0.0;
    for (name, var) in model.params.vars() {
        if !is_trained(cfg, name) {
            continue;
        }
        if let Some(t) = grads.get(var.as_tensor()) {
            let t = t.detach();
            norm2 += t.sqr()?.sum_all()?.to_dtype(DType::F64)?.to_scalar::<f64>()?;
            g.insert(name.clone(), t);
        }
    }
    let norm = norm2.sqrt();
    if !norm.is_finite() {
        return Err(Error::Input(format!("non-finite gradient norm ({norm}) at optimizer step {}", opt.step)));
    }
    if norm > cfg.grad_clip {
        let s = cfg.grad_clip / norm;
        for t in g.values_mut() {
            *t = (&*t * s)?;
        }
    }
    opt.update(model.params.vars(), &g, lr, cfg.weight_decay)?;
    Ok(l)
}

/// Trains `model` (or the model in the checkpoint when resuming) and returns it with its
/// history. The checkpoint after each epoch holds weights (the EMA's if on), optimizer state
/// (and the raw weights as `optim.raw.*` with EMA), configs, history.
///
/// Training with force loss needs correct second-order autodiff; [`second_order_self_test`]
/// runs first and a failure is an error (otherwise training would silently get no force
/// gradient).
///
/// [`second_order_self_test`]: crate::providers::second_order_self_test
pub fn train(
    mut model: HipModel,
    train_set: &[Sample],
    val_set: &[Sample],
    cfg: &TrainConfig,
    opts: &RunOptions,
) -> Result<(HipModel, Vec<EpochRecord>)> {
    if !cfg.head_only && cfg.w_forces > 0.0 {
        crate::providers::second_order_self_test()?;
    }
    if train_set.is_empty() {
        return Err(Error::Input("training set is empty".into()));
    }
    let device = model.device().clone();
    let dtype = cfg.dtype.dtype();
    if model.dtype() != dtype {
        model = model.to(&device, dtype)?;
    }
    let mut opt = AdamW::default();
    let mut ema = Ema { decay: cfg.ema_decay, ..Default::default() };
    let mut history: Vec<EpochRecord> = Vec::new();
    let mut start_epoch = 0;
    let mut wall_before = 0.0;
    let mut cpu_before = 0.0; // the time budget counts optimizer time, not preparation
    if opts.resume && opts.checkpoint.exists() {
        let ck = checkpoint::load(&opts.checkpoint, &device)?;
        let saved: TrainConfig =
            ck.training.get("train_config").and_then(|v| serde_json::from_value(v.clone()).ok()).unwrap_or_default();
        if &saved != cfg {
            return Err(Error::Checkpoint(format!(
                "{}: the training config differs from the checkpoint's; cannot resume",
                opts.checkpoint.display()
            )));
        }
        model = ck.model.to(&device, dtype)?;
        let (raw, state): (BTreeMap<_, _>, BTreeMap<_, _>) =
            ck.optimizer.into_iter().partition(|(k, _)| k.starts_with("optim.raw."));
        opt = AdamW::from_state(&state, dtype)?;
        if cfg.ema_decay > 0.0 {
            // the saved model holds the EMA weights; the raw weights continue training
            ema.shadow = model
                .params
                .tensors()
                .into_iter()
                .filter(|(k, _)| is_trained(cfg, k))
                .map(|(k, t)| t.copy().map(|t| (k, t)))
                .collect::<candle_core::Result<BTreeMap<_, _>>>()?;
            for (k, t) in raw {
                if let Some(var) = model.params.vars().get(&k["optim.raw.".len()..]) {
                    var.set(&t.to_dtype(dtype)?)?;
                }
            }
        }
        history = ck.training.get("history").and_then(|v| serde_json::from_value(v.clone()).ok()).unwrap_or_default();
        start_epoch = history.len();
        wall_before = history.last().map_or(0.0, |h| h.wall_s);
        cpu_before = history.last().map_or(0.0, EpochRecord::budget_s);
    }
    let train_idx = training_indices(train_set, cfg);
    if train_idx.is_empty() {
        return Err(Error::Input(format!("no training samples of the kinds {:?}", cfg.kinds)));
    }
    let t_prep = Instant::now();
    let train_refs: Vec<&Sample> = train_idx.iter().map(|&i| &train_set[i]).collect();
    let items = prepare(&model, &train_refs, cfg)?;
    let train_molecules = train_refs.iter().map(|s| &s.molecule_id).collect::<std::collections::BTreeSet<_>>().len();
    let val_refs: Vec<&Sample> = spread_indices(val_set.len(), cfg.max_val).into_iter().map(|k| &val_set[k]).collect();
    let val_items = prepare(&model, &val_refs, cfg)?;
    // without validation samples the validation numbers are NaN (never a perfect 0)
    let val_ef = if cfg.head_only && !val_refs.is_empty() {
        Some(validate(&model, &val_refs, &TrainConfig { head_only: false, ..cfg.clone() })?)
    } else {
        None
    };
    let prep_s = t_prep.elapsed().as_secs_f64();
    wall_before += if start_epoch == 0 { prep_s } else { 0.0 };
    let bs = cfg.batch_size.max(1);
    let kinds: Vec<&str> = items.iter().map(|it| it.sample.kind.as_str()).collect();
    let all = epoch_pool(&kinds, &cfg.kind_repeats);
    let steps_per_epoch = all.len().div_ceil(bs);
    let total_steps = steps_per_epoch * cfg.epochs;
    let t0 = Instant::now();
    let clock = BudgetClock::start();
    for (ran, epoch) in (start_epoch..cfg.epochs).enumerate() {
        if opts.stop_after > 0 && ran >= opts.stop_after {
            break;
        }
        let order = shuffled(&all, cfg.seed, epoch);
        let bar = progress_bar(opts.progress, steps_per_epoch, epoch, cfg.epochs);
        let mut loss_sum = 0.0;
        let mut seen = 0usize;
        let out_of_time = || cfg.time_budget_s > 0.0 && cpu_before + clock.elapsed() >= cfg.time_budget_s;
        for (c, chunk) in order.chunks(bs).enumerate() {
            if out_of_time() {
                break; // the budget ends mid-epoch: validate and save what there is
            }
            seen += chunk.len();
            let moved: Vec<Option<Sample>> = chunk
                .iter()
                .enumerate()
                .map(|(k, &i)| taylor_visit(items[i].sample, cfg, epoch, c * bs + k))
                .collect::<Result<_>>()?;
            let visits = visit_items(&items, chunk, &moved);
            let batch: Vec<&Item> = visits.iter().collect();
            let lr = if cfg.time_budget_s > 0.0 {
                learning_rate_at_fraction(cfg, (cpu_before + clock.elapsed()) / cfg.time_budget_s)
            } else {
                learning_rate(cfg, opt.step, total_steps)
            };
            let curvature_seed = cfg.seed ^ ((epoch as u64) << 32) ^ c as u64;
            let l = train_step(&model, &mut opt, &batch, cfg, lr, &device, curvature_seed)?;
            ema.update(model.params.vars(), opt.step, |n| is_trained(cfg, n))?;
            loss_sum += l.total * batch.len() as f64;
            if let Some(b) = &bar {
                b.set_message(format!("{:.4}", l.total));
                b.inc(1);
            }
        }
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        ema.swap(model.params.vars())?; // validate and save the EMA weights
        let nan = Losses { energy: f64::NAN, forces: f64::NAN, hessian: f64::NAN, total: f64::NAN };
        let mut v = if val_items.is_empty() { nan } else { validate_items(&model, &val_items, cfg)? };
        if let Some(ef) = &val_ef {
            (v.energy, v.forces) = (ef.energy, ef.forces);
        }
        let rec = EpochRecord {
            epoch: epoch + 1,
            train_loss: loss_sum / seen.max(1) as f64,
            val_energy_mae: v.energy,
            val_forces_mae: v.forces,
            val_hessian_mae: v.hessian,
            wall_s: wall_before + t0.elapsed().as_secs_f64(),
            cpu_s: cpu_before + clock.elapsed(),
        };
        if opts.progress {
            eprintln!(
                "epoch {}/{}: train loss {:.4} | val E MAE {:.4} eV, F MAE {:.4} eV/Å, H MAE {:.4} eV/Å² | {:.0} s ({:.0} s CPU)",
                rec.epoch,
                cfg.epochs,
                rec.train_loss,
                rec.val_energy_mae,
                rec.val_forces_mae,
                rec.val_hessian_mae,
                rec.wall_s,
                rec.cpu_s
            );
        }
        history.push(rec);
        let training = serde_json::json!({
            "train_config": cfg,
            "history": history,
            "epochs_done": epoch + 1,
            "n_train": items.len(),
            "epoch_samples": all.len(),
            "train_molecules": train_molecules,
            "n_val": val_items.len(),
            "preparation_s": prep_s,
            "budget_cpu_s": clock.elapsed(),
            "provenance": opts.provenance,
        });
        let mut state = opt.state(&device)?;
        for (k, t) in &ema.shadow {
            state.insert(format!("optim.raw.{k}"), t.clone()); // after the swap: the raw weights
        }
        checkpoint::save(&opts.checkpoint, &model, &state, &training)?;
        ema.swap(model.params.vars())?; // back to the raw weights
        if out_of_time() {
            break;
        }
    }
    if cfg.ema_decay > 0.0 && !ema.shadow.is_empty() {
        ema.swap(model.params.vars())?; // return the EMA weights
    }
    Ok((model, history))
}

/// Reads the samples of `split` from a dataset file (cargo feature `hdf5`).
#[cfg(feature = "hdf5")]
pub fn load_split(path: &std::path::Path, split: &str) -> Result<Vec<Sample>> {
    load_split_spread(path, split, 0)
}

/// At most `max` samples of `split` (0: all), spread evenly over it with [`spread_indices`], read
/// from the file without reading the rest: the same samples as `load_split` followed by the
/// spread, for a fraction of the I/O (a 4,000-sample subset of a 23,000-sample split).
#[cfg(feature = "hdf5")]
pub fn load_split_spread(path: &std::path::Path, split: &str, max: usize) -> Result<Vec<Sample>> {
    load_split_of_kinds(path, split, &[], max)
}

/// At most `max` samples of `split` whose kind is in `kinds` (empty: all), spread evenly over
/// them: what [`training_indices`] picks from the split with `kinds` and `max_train = max`,
/// without reading the other samples.
#[cfg(feature = "hdf5")]
pub fn load_split_of_kinds(path: &std::path::Path, split: &str, kinds: &[String], max: usize) -> Result<Vec<Sample>> {
    let ds = hip_core::io::dataset::Dataset::open(path)?;
    let idx = ds.indices_in_split(split);
    kind_spread(idx.iter().map(|&i| ds.kind_of(i)), kinds, max)
        .into_iter()
        .map(|k| ds.sample(idx[k]).map_err(Error::from))
        .collect()
}
