//! Training: L1 loss on energies, forces and Hessians (method page, section 4; weights
//! `w_E : w_F : w_H`, default 1 : 25 : 10; `w_H = 0` trains the paper's E+F baseline), optional
//! k-mode subspace loss, AdamW with decoupled weight decay, global gradient-norm clipping, linear
//! warm-up then cosine learning-rate decay, mini-batches of several molecules as one disjoint
//! graph, validation after each epoch, and atomic checkpoints with the optimizer state so that an
//! interrupted run resumes to bitwise the same weights.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
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
    /// Number of lowest reference modes in the subspace loss.
    pub subspace_k: usize,
    /// Data-order seed.
    pub seed: u64,
    /// Use at most this many training samples (0: all).
    pub max_train: usize,
    /// Validate on at most this many samples (0: all).
    pub max_val: usize,
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
            seed: 0,
            max_train: 0,
            max_val: 0,
        }
    }
}

impl TrainConfig {
    /// From TOML text (unknown keys are errors).
    pub fn from_toml(text: &str) -> Result<Self> {
        toml::from_str(text).map_err(|e| Error::Input(format!("training config: {e}")))
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

    /// Restores from `optim.*` tensors.
    pub fn from_state(state: &BTreeMap<String, Tensor>) -> Result<Self> {
        let mut a = AdamW::default();
        for (k, t) in state {
            if let Some(n) = k.strip_prefix("optim.m.") {
                a.m.insert(n.to_string(), t.clone());
            } else if let Some(n) = k.strip_prefix("optim.v.") {
                a.v.insert(n.to_string(), t.clone());
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

fn batch_loss(model: &HipModel, samples: &[&Sample], cfg: &TrainConfig, device: &Device) -> Result<(Tensor, Losses)> {
    let mols: Vec<&hip_core::Molecule> = samples.iter().map(|s| &s.molecule).collect();
    let batch = Batch::new(&mols, &model.config, device)?;
    let need_h = cfg.w_hessian > 0.0 || cfg.w_subspace > 0.0;
    let (out, forces, _) = model.energy_forces(&batch, need_h)?;
    let e_ref = Tensor::from_vec(samples.iter().map(|s| s.energy).collect::<Vec<_>>(), samples.len(), device)?;
    let f_ref: Vec<f64> = samples.iter().flat_map(|s| s.forces.iter().flatten().copied()).collect();
    let f_ref = Tensor::from_vec(f_ref, forces.dims(), device)?;
    let le = (&out.energies - &e_ref)?.abs()?.mean_all()?;
    let lf = (&forces - &f_ref)?.abs()?.mean_all()?;
    let mut total = ((le.clone() * cfg.w_energy)? + (lf.clone() * cfg.w_forces)?)?;
    let mut hessian_mae = f64::NAN;
    if let Some(hp) = &out.hessians {
        let h_ref: Vec<f64> = samples.iter().flat_map(|s| s.hessian.as_slice().iter().copied()).collect();
        let h_ref = Tensor::from_vec(h_ref, hp.dims(), device)?;
        let lh = (hp - &h_ref)?.abs()?.mean_all()?;
        hessian_mae = lh.to_scalar::<f64>()?;
        total = (total + (lh * cfg.w_hessian)?)?;
    }
    if let (Some(hp), true) = (&out.hessians, cfg.w_subspace > 0.0) {
        let mut acc = Tensor::zeros((), DType::F64, device)?;
        for (m, s) in samples.iter().enumerate() {
            let d = 3 * s.molecule.len();
            let k = cfg.subspace_k.min(d);
            let href = nalgebra::DMatrix::from_row_slice(d, d, s.hessian.as_slice());
            let eig = nalgebra::SymmetricEigen::new(href);
            let mut order: Vec<usize> = (0..d).collect();
            order.sort_by(|&a, &b| eig.eigenvalues[a].total_cmp(&eig.eigenvalues[b]));
            let v: Vec<f64> = (0..d)
                .flat_map(|r| order[..k].iter().map(move |&c| (r, c)))
                .map(|(r, c)| eig.eigenvectors[(r, c)])
                .collect();
            let v = Tensor::from_vec(v, (d, k), device)?;
            let lam: Vec<f64> =
                (0..k * k).map(|i| if i / k == i % k { eig.eigenvalues[order[i / k]] } else { 0.0 }).collect();
            let lam = Tensor::from_vec(lam, (k, k), device)?;
            let hm = hp.narrow(0, batch.h_offsets[m], d * d)?.reshape((d, d))?;
            let proj = v.t()?.matmul(&hm)?.matmul(&v)?;
            acc = (acc + (proj - lam)?.abs()?.mean_all()?)?;
        }
        total = (total + ((acc / samples.len() as f64)? * cfg.w_subspace)?)?;
    }
    let losses = Losses {
        energy: le.to_scalar::<f64>()?,
        forces: lf.to_scalar::<f64>()?,
        hessian: hessian_mae,
        total: total.to_scalar::<f64>()?,
    };
    Ok((total, losses))
}

/// Mean losses over `samples` (no gradient step), in batches.
pub fn validate(model: &HipModel, samples: &[&Sample], cfg: &TrainConfig) -> Result<Losses> {
    let mut acc = Losses::default();
    let mut n = 0.0;
    for chunk in samples.chunks(cfg.batch_size.max(1)) {
        let (_, l) = batch_loss(model, chunk, cfg, model.device())?;
        let w = chunk.len() as f64;
        acc.energy += w * l.energy;
        acc.forces += w * l.forces;
        acc.hessian += w * l.hessian;
        acc.total += w * l.total;
        n += w;
    }
    let n = n.max(1.0);
    Ok(Losses { energy: acc.energy / n, forces: acc.forces / n, hessian: acc.hessian / n, total: acc.total / n })
}

/// One epoch's record.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EpochRecord {
    /// Epoch (1-based).
    pub epoch: usize,
    /// Mean training loss.
    pub train_loss: f64,
    /// Validation energy MAE, eV.
    pub val_energy_mae: f64,
    /// Validation force MAE, eV/Å.
    pub val_forces_mae: f64,
    /// Validation Hessian MAE (direct head), eV/Å².
    pub val_hessian_mae: f64,
    /// Wall time so far, s.
    pub wall_s: f64,
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

/// Trains `model` (or the model in the checkpoint when resuming) and returns it with its
/// history. The checkpoint after each epoch holds weights, optimizer state, configs, history.
pub fn train(
    mut model: HipModel,
    train_set: &[Sample],
    val_set: &[Sample],
    cfg: &TrainConfig,
    opts: &RunOptions,
) -> Result<(HipModel, Vec<EpochRecord>)> {
    let device = model.device().clone();
    let mut opt = AdamW::default();
    let mut history: Vec<EpochRecord> = Vec::new();
    let mut start_epoch = 0;
    let mut wall_before = 0.0;
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
        model = ck.model;
        opt = AdamW::from_state(&ck.optimizer)?;
        history = ck.training.get("history").and_then(|v| serde_json::from_value(v.clone()).ok()).unwrap_or_default();
        start_epoch = history.len();
        wall_before = history.last().map_or(0.0, |h| h.wall_s);
    }
    let train_idx: Vec<usize> = if cfg.max_train > 0 {
        (0..train_set.len().min(cfg.max_train)).collect()
    } else {
        (0..train_set.len()).collect()
    };
    let n_val = val_set.len();
    let val: Vec<&Sample> = if cfg.max_val > 0 && cfg.max_val < n_val {
        (0..cfg.max_val).map(|k| &val_set[k * n_val / cfg.max_val]).collect()
    } else {
        val_set.iter().collect()
    };
    let bs = cfg.batch_size.max(1);
    let steps_per_epoch = train_idx.len().div_ceil(bs);
    let total_steps = steps_per_epoch * cfg.epochs;
    let t0 = Instant::now();
    for (ran, epoch) in (start_epoch..cfg.epochs).enumerate() {
        if opts.stop_after > 0 && ran >= opts.stop_after {
            break;
        }
        let mut order = train_idx.clone();
        let mut rng = SplitMix64(cfg.seed.wrapping_mul(0x9E37_79B9).wrapping_add(epoch as u64));
        for i in (1..order.len()).rev() {
            let j = (rng.next_u64() % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
        let bar = if opts.progress {
            let b = indicatif::ProgressBar::new(steps_per_epoch as u64);
            b.set_style(
                indicatif::ProgressStyle::with_template("epoch {prefix} [{bar:30}] {pos}/{len} loss {msg} eta {eta}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            b.set_prefix(format!("{}/{}", epoch + 1, cfg.epochs));
            Some(b)
        } else {
            None
        };
        let mut loss_sum = 0.0;
        for chunk in order.chunks(bs) {
            let samples: Vec<&Sample> = chunk.iter().map(|&i| &train_set[i]).collect();
            let grads_on = crate::params::ParamGrads::enable();
            let (loss, l) = batch_loss(&model, &samples, cfg, &device)?;
            let grads = loss.backward()?;
            drop(grads_on);
            let mut g: BTreeMap<String, Tensor> = BTreeMap::new();
            let mut norm2 = 0.0;
            for (name, var) in model.params.vars() {
                if let Some(t) = grads.get(var.as_tensor()) {
                    let t = t.detach();
                    norm2 += t.sqr()?.sum_all()?.to_scalar::<f64>()?;
                    g.insert(name.clone(), t);
                }
            }
            let norm = norm2.sqrt();
            if norm > cfg.grad_clip {
                let s = cfg.grad_clip / norm;
                for t in g.values_mut() {
                    *t = (&*t * s)?;
                }
            }
            let lr = learning_rate(cfg, opt.step, total_steps);
            opt.update(model.params.vars(), &g, lr, cfg.weight_decay)?;
            loss_sum += l.total * samples.len() as f64;
            if let Some(b) = &bar {
                b.set_message(format!("{:.4}", l.total));
                b.inc(1);
            }
        }
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        let v = validate(&model, &val, cfg)?;
        let rec = EpochRecord {
            epoch: epoch + 1,
            train_loss: loss_sum / train_idx.len().max(1) as f64,
            val_energy_mae: v.energy,
            val_forces_mae: v.forces,
            val_hessian_mae: v.hessian,
            wall_s: wall_before + t0.elapsed().as_secs_f64(),
        };
        if opts.progress {
            eprintln!(
                "epoch {}/{}: train loss {:.4} | val E MAE {:.4} eV, F MAE {:.4} eV/Å, H MAE {:.4} eV/Å² | {:.0} s",
                rec.epoch,
                cfg.epochs,
                rec.train_loss,
                rec.val_energy_mae,
                rec.val_forces_mae,
                rec.val_hessian_mae,
                rec.wall_s
            );
        }
        history.push(rec);
        let training = serde_json::json!({
            "train_config": cfg,
            "history": history,
            "epochs_done": epoch + 1,
            "n_train": train_idx.len(),
            "n_val": val.len(),
            "provenance": opts.provenance,
        });
        checkpoint::save(&opts.checkpoint, &model, &opt.state(&device)?, &training)?;
    }
    Ok((model, history))
}

/// Reads the samples of `split` from a dataset file.
pub fn load_split(path: &Path, split: &str) -> Result<Vec<Sample>> {
    let ds = hip_core::io::dataset::Dataset::open(path)?;
    ds.indices_in_split(split).into_iter().map(|i| ds.sample(i).map_err(Error::from)).collect()
}
