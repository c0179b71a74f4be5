//! The training settings ([`TrainConfig`], TOML, recorded in every checkpoint) and the
//! learning-rate schedule (linear warm-up, then cosine decay).

use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The norm of the Hessian-entry and subspace losses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HessianLoss {
    /// Mean absolute error.
    #[default]
    L1,
    /// Mean squared error.
    Squared,
}

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
    /// The norm of the Hessian and subspace losses: `l1` (mean absolute error, the default) or
    /// `squared` (mean squared error: the HIP paper's head-only model, 0.1 × full basis + 1.0 ×
    /// k = 8 subspace, both squared Frobenius, where the low modes' errors dominate).
    pub hessian_loss: HessianLoss,
    /// The norm of the subspace loss alone, where it differs from `hessian_loss` (absent: the
    /// same), e.g. `hessian_loss = "l1"` with `subspace_loss = "squared"`: the entries keep the
    /// L1 loss that holds the entry MAE while the low modes' squared errors dominate their own
    /// term (issue 34: the paper's squared loss fixes the reaction mode at 1.7× the entry MAE).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subspace_loss: Option<HessianLoss>,
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
    /// Self-consistency loss weight (0: off; issue 34, hypothesis 1; `head_only` only): the
    /// direct Hessian must agree with the frozen backbone's own surface along the directions
    /// that matter, `mean |H_direct U − T|` (or squared, with `hessian_loss`), where the columns
    /// of `U` are the `subspace_k` lowest vibrational modes of the reference and
    /// `consistency_random` random directions (unit Cartesian norm each) and
    /// `T[:, j] = −(F(x + εu_j) − F(x − εu_j)) / 2ε` with the backbone's forces `F` and
    /// `ε = consistency_eps`: its Hessian-vector products, the autodiff Hessian's knowledge,
    /// fixed because the backbone is, so computed once per sample before training.
    pub w_consistency: f64,
    /// Random directions added to the modes of the self-consistency loss.
    pub consistency_random: usize,
    /// Central-difference step of the self-consistency targets, Å.
    pub consistency_eps: f64,
    /// Samples of these kinds get self-consistency targets (empty: all; each costs
    /// `2 (subspace_k + consistency_random)` force calls before training).
    pub consistency_kinds: Vec<String>,
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
    /// Times each training sample of a data file appears in an epoch, one value per `--data`
    /// file in order, e.g. `data_repeats = [1, 4]` (empty: once each; each value 1..=100;
    /// multiplies `kind_repeats`). Oversamples a small file of new chemistry (the ReactBench
    /// train-half samples) beside a large one. Validation is unweighted.
    pub data_repeats: Vec<usize>,
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
    /// With `hip train --init-from`: before the first step, shift the started model's reference
    /// energies by the per-species least-squares fit of its energy error on the training samples
    /// ([`fit_reference_shift`]). For a fine-tune at another level of theory (GFN2-xTB → ωB97X),
    /// whose total energies differ from the model's by per-element constants.
    pub refit_reference_energies: bool,
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
            hessian_loss: HessianLoss::L1,
            subspace_loss: None,
            subspace_k: 8,
            w_modes: 0.0,
            modes_floor: 0.0,
            w_consistency: 0.0,
            consistency_random: 2,
            consistency_eps: 0.01,
            consistency_kinds: Vec::new(),
            seed: 0,
            max_train: 0,
            max_val: 0,
            head_only: false,
            ema_decay: 0.0,
            time_budget_s: 0.0,
            dtype: crate::Precision::F64,
            kind_repeats: BTreeMap::new(),
            data_repeats: Vec::new(),
            kinds: Vec::new(),
            taylor_sigma: 0.0,
            taylor_fraction: 0.5,
            w_curvature: 0.0,
            curvature_sigma: 0.01,
            curvature_per_batch: 0,
            refit_reference_energies: false,
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
            ("w_consistency", self.w_consistency),
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
        if let Some(r) = self.data_repeats.iter().find(|r| !(1..=100).contains(*r)) {
            return Err(format!("data_repeats: {r} (need 1..=100 each)"));
        }
        if let Some(k) = self.kinds.iter().enumerate().find(|(i, k)| k.is_empty() || self.kinds[..*i].contains(k)) {
            let problem = if k.1.is_empty() { "an empty kind" } else { "listed twice" };
            return Err(format!("kinds: {:?} is {problem}", k.1));
        }
        if self.w_consistency > 0.0 && !self.head_only {
            return Err("w_consistency > 0 needs head_only (its targets come from the frozen backbone)".into());
        }
        if !(self.consistency_eps > 0.0 && self.consistency_eps <= 0.1) {
            return Err(format!("consistency_eps = {} (need 0 < ε <= 0.1 Å)", self.consistency_eps));
        }
        if self.consistency_random > 64 {
            return Err(format!("consistency_random = {} (need <= 64)", self.consistency_random));
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

pub(super) fn cosine(cfg: &TrainConfig, p: f64) -> f64 {
    let f =
        cfg.lr_final_fraction + (1.0 - cfg.lr_final_fraction) * 0.5 * (1.0 + (std::f64::consts::PI * p.min(1.0)).cos());
    cfg.lr * f
}

/// Whether parameter `name` is trained under `cfg` (head-only: the `head.*` parameters).
pub fn is_trained(cfg: &TrainConfig, name: &str) -> bool {
    !cfg.head_only || name.starts_with("head.")
}
