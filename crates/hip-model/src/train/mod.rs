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
//!
//! Layout: `config` (settings, schedule), `adamw`, `ema`, `statistics`, `data` (selection,
//! shuffling, reading), `losses` (every loss and validation), `record` (the epoch record); this
//! file is the loop.

use crate::{Error, HipModel, Result, checkpoint};
use candle_core::{DType, Device, Tensor};
use hip_core::io::dataset::Sample;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

mod adamw;
mod config;
mod data;
mod ema;
mod losses;
mod record;
mod statistics;
#[cfg(feature = "hdf5")]
pub mod stream;

pub use adamw::*;
pub use config::*;
pub use data::*;
use ema::Ema;
pub use losses::*;
pub use record::*;
pub use statistics::*;

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
    /// Times each sample of the training set appears in an epoch (indexed like the training
    /// set; empty: once each), multiplying `kind_repeats`: how `data_repeats` reaches the loop.
    pub sample_repeats: Vec<usize>,
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
    model: HipModel,
    train_set: &[Sample],
    val_set: &[Sample],
    cfg: &TrainConfig,
    opts: &RunOptions,
) -> Result<(HipModel, Vec<EpochRecord>)> {
    train_from(model, TrainSamples::Memory(train_set), val_set, cfg, opts)
}

/// [`train`] on samples read from the file batch by batch ([`stream`]): memory bounded by one
/// window of samples, the epoch's order shuffled by blocks. `opts.sample_repeats` indexes the
/// source's samples.
#[cfg(feature = "hdf5")]
pub fn train_streaming(
    model: HipModel,
    source: &stream::StreamSource,
    val_set: &[Sample],
    cfg: &TrainConfig,
    opts: &RunOptions,
) -> Result<(HipModel, Vec<EpochRecord>)> {
    train_from(model, TrainSamples::Stream(source), val_set, cfg, opts)
}

/// Where the training samples come from.
enum TrainSamples<'a> {
    /// Read before training (every sample's targets prepared once).
    Memory(&'a [Sample]),
    /// Read from the file window by window.
    #[cfg(feature = "hdf5")]
    Stream(&'a stream::StreamSource),
}

impl TrainSamples<'_> {
    fn is_empty(&self) -> bool {
        match self {
            TrainSamples::Memory(s) => s.is_empty(),
            #[cfg(feature = "hdf5")]
            TrainSamples::Stream(s) => s.is_empty(),
        }
    }
}

fn train_from(
    mut model: HipModel,
    samples: TrainSamples,
    val_set: &[Sample],
    cfg: &TrainConfig,
    opts: &RunOptions,
) -> Result<(HipModel, Vec<EpochRecord>)> {
    if !cfg.head_only && cfg.w_forces > 0.0 {
        crate::providers::second_order_self_test()?;
    }
    if samples.is_empty() {
        return Err(Error::Input("training set is empty".into()));
    }
    if cfg.w_hessian > 0.0 || cfg.w_subspace > 0.0 || cfg.w_modes > 0.0 || cfg.w_consistency > 0.0 {
        model.mark_head_trained(); // an E+F start (`--init-from`) whose head is trained now
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
    let t_prep = Instant::now();
    // the samples used (indices of the set), their prepared targets (in memory only), kinds and
    // molecules
    let (train_idx, items, kinds, train_molecules) = match samples {
        TrainSamples::Memory(set) => {
            let idx = training_indices(set, cfg);
            let refs: Vec<&Sample> = idx.iter().map(|&i| &set[i]).collect();
            let molecules = refs.iter().map(|s| &s.molecule_id).collect::<std::collections::BTreeSet<_>>().len();
            let kinds: Vec<&str> = refs.iter().map(|s| s.kind.as_str()).collect();
            (idx, prepare(&model, &refs, cfg)?, kinds, molecules)
        }
        #[cfg(feature = "hdf5")]
        TrainSamples::Stream(src) => {
            let molecules = (0..src.len()).map(|k| src.molecule(k)).collect::<std::collections::BTreeSet<_>>().len();
            ((0..src.len()).collect(), Vec::new(), (0..src.len()).map(|k| src.kind(k)).collect(), molecules)
        }
    };
    if train_idx.is_empty() {
        return Err(Error::Input(format!("no training samples of the kinds {:?}", cfg.kinds)));
    }
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
    let item_repeats: Vec<usize> =
        train_idx.iter().map(|&i| opts.sample_repeats.get(i).copied().unwrap_or(1)).collect();
    let all = weighted_epoch_pool(&kinds, &cfg.kind_repeats, &item_repeats);
    let steps_per_epoch = all.len().div_ceil(bs);
    let total_steps = steps_per_epoch * cfg.epochs;
    let t0 = Instant::now();
    let clock = BudgetClock::start();
    for (ran, epoch) in (start_epoch..cfg.epochs).enumerate() {
        if opts.stop_after > 0 && ran >= opts.stop_after {
            break;
        }
        let order = match samples {
            TrainSamples::Memory(_) => shuffled(&all, cfg.seed, epoch),
            #[cfg(feature = "hdf5")]
            TrainSamples::Stream(_) => stream::block_shuffled(&all, cfg.seed, epoch, stream::window_len(bs)),
        };
        #[cfg(feature = "hdf5")]
        let mut window = stream::Window::default();
        let bar = progress_bar(opts.progress, steps_per_epoch, epoch, cfg.epochs);
        let mut loss_sum = 0.0;
        let mut seen = 0usize;
        let out_of_time = || cfg.time_budget_s > 0.0 && cpu_before + clock.elapsed() >= cfg.time_budget_s;
        for (c, chunk) in order.chunks(bs).enumerate() {
            if out_of_time() {
                break; // the budget ends mid-epoch: validate and save what there is
            }
            seen += chunk.len();
            let originals: Vec<&Sample> = match samples {
                TrainSamples::Memory(_) => chunk.iter().map(|&i| items[i].sample).collect(),
                #[cfg(feature = "hdf5")]
                TrainSamples::Stream(src) => {
                    window.load(src, &order, c / stream::WINDOW_BATCHES, stream::window_len(bs))?;
                    chunk.iter().map(|&k| window.get(k)).collect::<Result<_>>()?
                }
            };
            let moved: Vec<Option<Sample>> = originals
                .iter()
                .enumerate()
                .map(|(k, s)| taylor_visit(s, cfg, epoch, c * bs + k))
                .collect::<Result<_>>()?;
            // in memory the targets were prepared once; streamed samples are prepared per visit
            let visits = match samples {
                TrainSamples::Memory(_) => visit_items(&items, chunk, &moved),
                #[cfg(feature = "hdf5")]
                TrainSamples::Stream(_) => {
                    let refs: Vec<&Sample> =
                        originals.iter().zip(&moved).map(|(s, m)| m.as_ref().unwrap_or(s)).collect();
                    prepare(&model, &refs, cfg)?
                }
            };
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
            samples: seen,
            peak_rss_mib: peak_rss_mib().unwrap_or(0.0),
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
            "n_train": train_idx.len(),
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
