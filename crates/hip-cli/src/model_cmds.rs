//! `hip hessian`, `hip opt`, `hip ts`, `hip train`, `hip eval`: the model behind a stable CLI.

use std::path::PathBuf;

use clap::Args;
use hip_core::Potential;
use hip_core::io::matrix::{write_npy, write_text};
use hip_core::io::xyz::write_xyz;
use hip_model::HessianMethod;
use hip_tasks::optimize::{Report, bfgs, fire, rfo, ts};

use crate::input::read_molecule;
use crate::model_io::ComputeArgs;
use crate::surface::PotentialArgs;

type CliResult = Result<(), String>;

fn method(s: &str) -> Result<HessianMethod, String> {
    s.parse::<HessianMethod>().map_err(|e| e.to_string())
}

#[derive(Args, Debug)]
pub struct HessianArgs {
    /// XYZ/extended-XYZ file or FILE.h5:INDEX.
    pub molecule: String,
    #[command(flatten)]
    pub surface: PotentialArgs,
    /// Write the Hessian: .npy, .txt (3N rows of 3N numbers, eV/Å²) or .h5 (a one-sample dataset).
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
    /// JSON output.
    #[arg(long)]
    pub json: bool,
}

pub fn hessian(a: HessianArgs) -> CliResult {
    let mol = read_molecule(&a.molecule).map_err(|e| e.to_string())?.molecule;
    let (surface, warnings) = a.surface.surface(&[&mol])?;
    let label = a.surface.label();
    let t0 = std::time::Instant::now();
    let (ef, hessian) = surface.predict(&mol)?;
    let ms = t0.elapsed().as_secs_f64() * 1e3;
    let p = hip_model::Prediction { energy: ef.energy, forces: ef.forces, hessian };
    let d = 3 * mol.len();
    if let Some(out) = &a.output {
        let ext = out.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
        let r = match ext.as_str() {
            "npy" => write_npy(out, d, d, p.hessian.as_slice()),
            "txt" => write_text(out, d, d, p.hessian.as_slice()),
            "h5" | "hdf5" => hip_core::io::dataset::write_dataset(
                out,
                &format!("hip-rs {} ({label})", surface.name()),
                &[hip_core::io::dataset::Record {
                    molecule: mol.clone(),
                    energy: p.energy,
                    forces: p.forces.clone(),
                    hessian: p.hessian.clone(),
                    split: "test".into(),
                    kind: "minimum".into(),
                    molecule_id: mol.formula(),
                    smiles: String::new(),
                    reaction_id: None,
                }],
                hip_core::io::dataset::HessianLayout::Full,
                "hip hessian",
            ),
            _ => return Err(format!("{}: unknown output format (use .npy, .txt or .h5)", out.display())),
        };
        r.map_err(|e| e.to_string())?;
    }
    if a.json {
        println!(
            "{}",
            serde_json::json!({"method": label, "potential": surface.name(), "energy_ev": p.energy, "forces_ev_a": p.forces, "hessian_ev_a2": p.hessian.as_slice(),
                "n_atoms": mol.len(), "max_asymmetry": p.hessian.max_asymmetry(), "ms": ms, "warnings": warnings})
        );
    } else {
        println!("molecule   {} ({} atoms)", mol.formula(), mol.len());
        println!("method     {} {label} ({ms:.1} ms)", surface.name());
        println!("energy     {:.6} eV", p.energy);
        println!("Hessian    {d}×{d} eV/Å², max |H − Hᵀ| = {:.2e}", p.hessian.max_asymmetry());
        if let Some(o) = &a.output {
            println!("written    {}", o.display());
        }
    }
    Ok(())
}

#[derive(Args, Debug)]
pub struct OptArgs {
    /// XYZ/extended-XYZ file or FILE.h5:INDEX.
    pub molecule: String,
    #[command(flatten)]
    pub surface: PotentialArgs,
    /// rfo, bfgs or fire.
    #[arg(long, default_value = "rfo")]
    pub optimizer: String,
    /// RFO: recompute the Hessian every K steps (1 = every step, 0 = only at the start, BFGS updates in between).
    #[arg(long, default_value_t = 1)]
    pub hessian_every: usize,
    /// Step limit.
    #[arg(long)]
    pub max_steps: Option<usize>,
    /// Write the final geometry (XYZ).
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
    /// JSON output.
    #[arg(long)]
    pub json: bool,
}

fn print_report(r: &Report, json: bool, out: Option<&PathBuf>, warnings: &[String]) -> CliResult {
    if let Some(o) = out {
        write_xyz(o, &r.molecule, &format!("{} converged={} energy={:.8}", r.method, r.converged, r.energy))
            .map_err(|e| e.to_string())?;
    }
    if json {
        let mut v = serde_json::to_value(r).map_err(|e| e.to_string())?;
        v["warnings"] = serde_json::json!(warnings);
        println!("{v}");
        return Ok(());
    }
    println!("method          {}", r.method);
    println!("converged       {}", r.converged);
    println!("steps           {}  (energy+force calls {}, Hessian calls {})", r.steps, r.energy_calls, r.hessian_calls);
    println!("final energy    {:.6} eV", r.energy);
    println!("final forces    max {:.4} / rms {:.4} eV/Å", r.max_force, r.rms_force);
    if let Some(fp) = &r.final_point {
        println!("classification  {} ({} imaginary)", fp.classification.as_str(), fp.n_imaginary);
        if fp.n_imaginary > 0 {
            println!("imaginary mode  {:.1} cm^-1", fp.spectrum[0]);
        }
    }
    if let Some(o) = out {
        println!("written         {}", o.display());
    }
    Ok(())
}

pub fn opt(a: OptArgs) -> CliResult {
    let mol = read_molecule(&a.molecule).map_err(|e| e.to_string())?.molecule;
    let (pot, warnings) = a.surface.surface(&[&mol])?;
    let r = match a.optimizer.as_str() {
        "rfo" => {
            let mut o = rfo::RfoOptions { hessian_every: a.hessian_every, ..Default::default() };
            if let Some(m) = a.max_steps {
                o.max_steps = m;
            }
            rfo::minimize(&pot, &mol, &o)
        }
        "bfgs" => {
            let mut o = bfgs::BfgsOptions::default();
            if let Some(m) = a.max_steps {
                o.max_steps = m;
            }
            bfgs::minimize(&pot, &mol, &o)
        }
        "fire" => {
            let mut o = fire::FireOptions::default();
            if let Some(m) = a.max_steps {
                o.max_steps = m;
            }
            fire::minimize(&pot, &mol, &o)
        }
        other => return Err(format!("unknown optimizer \"{other}\" (rfo, bfgs, fire)")),
    }
    .map_err(|e| e.to_string())?;
    print_report(&r, a.json, a.output.as_ref(), &warnings)
}

#[derive(Args, Debug)]
pub struct TsArgs {
    /// XYZ/extended-XYZ file or FILE.h5:INDEX: the starting guess.
    pub molecule: String,
    #[command(flatten)]
    pub surface: PotentialArgs,
    /// Recompute the Hessian every K steps (Bofill updates in between).
    #[arg(long, default_value_t = 1)]
    pub hessian_every: usize,
    /// Bofill-correct each fresh Hessian with the last step, so that it reproduces the gradient
    /// change just observed (helps an approximate Hessian, e.g. the direct one, converge on the
    /// model's surface; `reports/v2/TS-DIAGNOSIS.md`).
    #[arg(long)]
    pub secant: bool,
    /// Correct each fresh Hessian with K measured Hessian-vector products of the model's
    /// gradient (2 force calls each), along the followed mode and then the lowest modes: those
    /// curvatures then come from the surface the search walks on (`reports/v2/probe/`).
    #[arg(long, default_value_t = 0)]
    pub mode_probes: usize,
    /// Step limit (the paper: 50).
    #[arg(long, default_value_t = 50)]
    pub max_steps: usize,
    /// Write the final geometry (XYZ).
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
    /// JSON output.
    #[arg(long)]
    pub json: bool,
}

pub fn ts(a: TsArgs) -> CliResult {
    let mol = read_molecule(&a.molecule).map_err(|e| e.to_string())?.molecule;
    let (pot, warnings) = a.surface.surface(&[&mol])?;
    let o = ts::TsOptions {
        hessian_every: a.hessian_every,
        max_steps: a.max_steps,
        secant_update: a.secant,
        mode_probes: a.mode_probes,
        ..Default::default()
    };
    let r = ts::search(&pot, &mol, &o).map_err(|e| e.to_string())?;
    print_report(&r, a.json, a.output.as_ref(), &warnings)
}

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Training dataset (HDF5); its `train` split is used, `val` for validation. Repeat to train
    /// on several files (e.g. `--data datasets/gfn2-train.h5 --data datasets/gfn2-rb.h5`): their
    /// train splits are joined (then `max_train` spreads over the joined set), and each file
    /// gives at most `max_val` validation samples; the config's `data_repeats` oversamples a file.
    #[arg(long, required = true)]
    pub data: Vec<PathBuf>,
    /// Read the training samples from the file while training, one window of a thousand or so
    /// at a time (memory bounded whatever the file's size; the epoch's order shuffled by blocks
    /// of neighbouring samples): for files larger than memory. One --data file; a fresh model's
    /// statistics come from 10,000 samples spread over it.
    #[arg(long)]
    pub stream: bool,
    /// Training settings (TOML, see hip_model::train::TrainConfig).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Architecture (TOML, see hip_model::ModelConfig).
    #[arg(long)]
    pub model_config: Option<PathBuf>,
    /// Train on energies and forces only (the E+F baseline: w_H = 0).
    #[arg(long)]
    pub ef_only: bool,
    /// Checkpoint path (written after each epoch).
    #[arg(long)]
    pub out: PathBuf,
    /// Resume from --out if it exists.
    #[arg(long)]
    pub resume: bool,
    /// Override the number of epochs.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Override the number of training samples used.
    #[arg(long)]
    pub max_train: Option<usize>,
    /// Start from the weights (and architecture) of this checkpoint with a fresh optimizer and
    /// schedule: a second training stage. Ignores --model-config.
    #[arg(long, conflicts_with = "model_config")]
    pub init_from: Option<PathBuf>,
    /// Take the backbone (weights and fitted statistics) from this checkpoint and build the head
    /// from --model-config (whose backbone fields must match): with `head_only = true` in the
    /// training config, the paper's protocol of a HIP head on a frozen E+F backbone.
    #[arg(long, conflicts_with = "init_from")]
    pub backbone_from: Option<PathBuf>,
    /// `--dtype` overrides the training config's `dtype`.
    #[command(flatten)]
    pub compute: ComputeArgs,
}

/// The training and validation samples of `files`: with one file, only the `max_train` samples
/// that training would pick are read; with several, each file's train split (of the configured
/// kinds) is read whole and `train` spreads `max_train` over the joined set, and each file gives
/// at most `max_val` validation samples. Also returns how often each training sample appears in
/// an epoch: its file's entry of the config's `data_repeats` (one per file, or none).
fn read_training_data(files: &[PathBuf], cfg: &hip_model::train::TrainConfig) -> Result<TrainingData, String> {
    use hip_model::train::{load_split_of_kinds, load_split_spread};
    if !cfg.data_repeats.is_empty() && cfg.data_repeats.len() != files.len() {
        return Err(format!(
            "training config: data_repeats has {} values for {} --data files (one per file, in order)",
            cfg.data_repeats.len(),
            files.len()
        ));
    }
    let max_train = if files.len() == 1 { cfg.max_train } else { 0 };
    let (mut used, mut val, mut repeats) = (Vec::new(), Vec::new(), Vec::new());
    for (k, p) in files.iter().enumerate() {
        let train = load_split_of_kinds(p, "train", &cfg.kinds, max_train).map_err(|e| e.to_string())?;
        repeats.extend(std::iter::repeat_n(cfg.data_repeats.get(k).copied().unwrap_or(1), train.len()));
        used.extend(train);
        val.extend(load_split_spread(p, "val", cfg.max_val).map_err(|e| e.to_string())?);
    }
    Ok((used, val, repeats))
}

/// Training samples spread over the file that fit a fresh model's statistics (reference
/// energies, scales) in `hip train --stream`.
const STREAM_STATISTICS_SAMPLES: usize = 10_000;

/// `hip train --stream`: the source of one file's training samples, a spread subset of them for
/// the statistics, and the validation samples.
fn streaming_data(
    files: &[PathBuf],
    cfg: &hip_model::train::TrainConfig,
) -> Result<
    (hip_model::train::stream::StreamSource, Vec<hip_core::io::dataset::Sample>, Vec<hip_core::io::dataset::Sample>),
    String,
> {
    let [path] = files else {
        return Err(format!("--stream reads one --data file, got {}", files.len()));
    };
    if cfg.data_repeats.iter().any(|&r| r != 1) {
        return Err("training config: data_repeats needs several --data files, which --stream does not read".into());
    }
    let src = hip_model::train::stream::StreamSource::open(path, cfg).map_err(|e| e.to_string())?;
    let stats = src.spread(STREAM_STATISTICS_SAMPLES).map_err(|e| e.to_string())?;
    let val = hip_model::train::load_split_spread(path, "val", cfg.max_val).map_err(|e| e.to_string())?;
    Ok((src, stats, val))
}

/// `model` with its reference energies shifted to the training samples' level of theory
/// (`refit_reference_energies`); the shift on stderr, and a warning per species that no
/// training sample has (its reference energy stays at the started model's level).
fn refit_reference_energies(
    model: hip_model::HipModel,
    used: &[hip_core::io::dataset::Sample],
) -> Result<hip_model::HipModel, String> {
    let shift = hip_model::train::fit_reference_shift(&model, used).map_err(|e| e.to_string())?;
    for z in &model.config.species {
        if !used.iter().any(|s| s.molecule.numbers.contains(z)) {
            eprintln!(
                "warning: element Z={z} is in no training sample: its reference energy keeps the started model's level"
            );
        }
    }
    eprintln!("reference energies shifted by {shift:?} eV (species {:?})", model.config.species);
    let refs: Vec<f64> = model.config.reference_energies.iter().zip(&shift).map(|(r, d)| r + d).collect();
    model.with_reference_energies(refs).map_err(|e| e.to_string())
}

/// Training samples, validation samples, and the training samples' repeats per epoch.
type TrainingData = (Vec<hip_core::io::dataset::Sample>, Vec<hip_core::io::dataset::Sample>, Vec<usize>);

pub fn train(a: TrainArgs) -> CliResult {
    use hip_model::train::{RunOptions, TrainConfig, fit_statistics};
    let read = |p: &PathBuf| std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()));
    let mut cfg = match &a.config {
        Some(p) => TrainConfig::from_toml(&read(p)?).map_err(|e| format!("{}: {e}", p.display()))?,
        None => TrainConfig::default(),
    };
    if a.ef_only {
        cfg.w_hessian = 0.0;
        cfg.w_subspace = 0.0;
        cfg.w_modes = 0.0;
    }
    if let Some(e) = a.epochs {
        cfg.epochs = e;
    }
    if let Some(m) = a.max_train {
        cfg.max_train = m;
    }
    if let Some(p) = a.compute.precision()? {
        cfg.dtype = p;
    }
    let device = a.compute.device()?;
    let mut mcfg = match &a.model_config {
        Some(p) => hip_model::ModelConfig::from_toml(&read(p)?).map_err(|e| format!("{}: {e}", p.display()))?,
        None => hip_model::ModelConfig::default(),
    };
    // streaming: `used` is a spread subset for the statistics, the source gives the samples
    let (used, val_set, sample_repeats, source) = if a.stream {
        let (src, stats, val) = streaming_data(&a.data, &cfg)?;
        (stats, val, Vec::new(), Some(src))
    } else {
        let (used, val, repeats) = read_training_data(&a.data, &cfg)?;
        (used, val, repeats, None)
    };
    let data_names = a.data.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" + ");
    if used.is_empty() {
        return Err(format!("{data_names}: no training samples of the kinds {:?}", cfg.kinds));
    }
    if cfg.refit_reference_energies && (a.init_from.is_none() || a.stream) {
        return Err("training config: refit_reference_energies needs --init-from (and no --stream)".into());
    }
    let model = match (&a.init_from, &a.backbone_from) {
        (Some(p), _) => {
            let m = crate::model_io::load_model(Some(p))?.to(&device, cfg.dtype.dtype()).map_err(|e| e.to_string())?;
            if cfg.refit_reference_energies { refit_reference_energies(m, &used)? } else { m }
        }
        (None, Some(p)) => {
            let hs = hip_model::train::fit_hessian_scale(&used);
            hip_model::checkpoint::with_backbone_of(p, mcfg, hs, &device).map_err(|e| e.to_string())?
        }
        (None, None) => {
            let (refs, scale, nn) = fit_statistics(&used, &mcfg.species, mcfg.cutoff).map_err(|e| e.to_string())?;
            mcfg.reference_energies = refs;
            mcfg.energy_scale = scale;
            mcfg.avg_num_neighbors = nn;
            mcfg.hessian_scale = hip_model::train::fit_hessian_scale(&used);
            hip_model::HipModel::with_dtype(mcfg, &device, cfg.dtype.dtype()).map_err(|e| e.to_string())?
        }
    };
    eprintln!(
        "training {} parameters on {} samples{} ({} validation) from {}; w_E:w_F:w_H = {}:{}:{}",
        model.params.numel(),
        source.as_ref().map_or(used.len(), |s| s.len()),
        if source.is_some() { ", streamed" } else { "" },
        val_set.len(),
        data_names,
        cfg.w_energy,
        cfg.w_forces,
        cfg.w_hessian
    );
    let mut levels = Vec::new();
    let mut data_samples = 0;
    for p in &a.data {
        let ds = hip_core::io::dataset::Dataset::open(p).map_err(|e| e.to_string())?;
        levels.push(ds.level_of_theory.clone());
        data_samples += ds.len();
    }
    levels.dedup();
    let provenance = serde_json::json!({
        "data": data_names,
        "data_level_of_theory": levels.join(" + "),
        "data_samples": data_samples,
        "hip_version": env!("CARGO_PKG_VERSION"),
        "command": std::env::args().collect::<Vec<_>>().join(" "),
        "init_from": a.init_from.as_ref().map(|p| p.display().to_string()),
        "backbone_from": a.backbone_from.as_ref().map(|p| p.display().to_string()),
    });
    let opts = RunOptions {
        checkpoint: a.out.clone(),
        resume: a.resume,
        stop_after: 0,
        provenance,
        progress: true,
        sample_repeats,
    };
    let (_, hist) = match &source {
        Some(src) => hip_model::train::train_streaming(model, src, &val_set, &cfg, &opts),
        None => hip_model::train::train(model, &used, &val_set, &cfg, &opts),
    }
    .map_err(|e| e.to_string())?;
    if let Some(h) = hist.last() {
        println!(
            "done: {} epochs, val E MAE {:.4} eV, F MAE {:.4} eV/Å, H MAE {:.4} eV/Å², {:.0} s; checkpoint {}",
            h.epoch,
            h.val_energy_mae,
            h.val_forces_mae,
            h.val_hessian_mae,
            h.wall_s,
            a.out.display()
        );
    }
    Ok(())
}

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Dataset (HDF5).
    #[arg(long)]
    pub data: PathBuf,
    /// Split to evaluate.
    #[arg(long, default_value = "test")]
    pub split: String,
    /// Model checkpoint (default: the embedded model).
    #[arg(long)]
    pub model: Option<PathBuf>,
    #[command(flatten)]
    pub compute: ComputeArgs,
    /// direct, autodiff or fd.
    #[arg(long, default_value = "direct")]
    pub method: String,
    /// At most this many samples (spread evenly over the split).
    #[arg(long)]
    pub max: Option<usize>,
    /// JSON output.
    #[arg(long)]
    pub json: bool,
    /// Also write one row per sample (kind, errors, reference λ₁ and λ₂, predicted λ₁, |cos v₁|)
    /// to this tab-separated file, for error analysis.
    #[arg(long)]
    pub per_sample: Option<PathBuf>,
    /// What is graded: `model` (with `--method`) or `gfn2` (GFN2-xTB itself, e.g. against a DFT
    /// dataset: the floor of any model trained on it; its energies are on another scale, so only
    /// forces and Hessian metrics compare).
    #[arg(long, default_value = "model")]
    pub potential: String,
}

pub fn eval(a: EvalArgs) -> CliResult {
    if a.potential != "model" && a.potential != "gfn2" {
        return Err(format!("--potential {}: expected model or gfn2", a.potential));
    }
    if a.potential == "gfn2" && (a.model.is_some() || a.method != "direct") {
        return Err("--potential gfn2 grades GFN2-xTB itself: --model and --method are for the model".into());
    }
    // --max 0 reads one sample (the split must exist) and evaluates none: an error from evaluate,
    // never a perfect score
    let read = a.max.map_or(0, |m| m.max(1));
    let samples = hip_model::train::load_split_spread(&a.data, &a.split, read).map_err(|e| e.to_string())?;
    if samples.is_empty() {
        return Err(format!("{}: no samples in split \"{}\"", a.data.display(), a.split));
    }
    let pick: Vec<&hip_core::io::dataset::Sample> = samples.iter().take(a.max.unwrap_or(usize::MAX)).collect();
    let r = if a.potential == "gfn2" {
        let g = crate::surface::Surface::gfn2()?;
        hip_model::eval::evaluate_with(&pick, "gfn2-xtb", |mol| g.prediction(mol))
    } else {
        let model = a.compute.load(a.model.as_deref())?;
        hip_model::eval::evaluate(&model, &pick, method(&a.method)?)
    }
    .map_err(|e| e.to_string())?;
    if let Some(path) = &a.per_sample {
        hip_core::io::atomic::write_with(path, |f| hip_model::eval::write_sample_table(&r.samples, f))
            .map_err(|e| e.to_string())?;
    }
    if a.json {
        println!("{}", serde_json::to_string(&r).map_err(|e| e.to_string())?);
    } else {
        let h = &r.hessian;
        println!("method {} on {} samples ({} split of {})", r.method, r.n_samples, a.split, a.data.display());
        println!("energy MAE          {:.4} eV", r.energy_mae_ev);
        println!("force MAE           {:.4} eV/Å", r.forces_mae_ev_a);
        println!("Hessian MAE         {:.4} eV/Å²", h.hessian_mae);
        println!("asymmetry           {:.2e} eV/Å²", h.asymmetry);
        println!("eigenvalue MAE      {:.4} eV/(Å² amu)", h.eigenvalue_mae);
        println!("|cos v1|            {:.3}", h.cos_v1);
        println!("λ1 MAE              {:.4}", h.lambda1_mae);
        println!("neg-count agreement {:.3}", h.neg_count_agreement);
        println!("TS agreement        {:.3}", h.ts_agreement);
        println!("frequency MAE       {}", h.frequency_mae_cm.map_or("n/a".into(), |f| format!("{f:.1} cm^-1")));
        println!("ZPE error           {:.4} eV", h.zpe_error_ev);
        println!("time per Hessian    {:.1} ms", r.ms_per_hessian);
        println!(
            "{:<10} {:>5} {:>8} {:>8} {:>8} {:>8} {:>8} {:>6} {:>6} {:>9}",
            "kind", "n", "E MAE", "F MAE", "H MAE", "eig MAE", "λ1 MAE", "|cos|", "neg=", "freq MAE"
        );
        for (k, kr) in &r.by_kind {
            let h = &kr.hessian;
            println!(
                "{k:<10} {:>5} {:>8.4} {:>8.4} {:>8.4} {:>8.4} {:>8.4} {:>6.3} {:>6.3} {:>9}",
                kr.n_samples,
                kr.energy_mae_ev,
                kr.forces_mae_ev_a,
                h.hessian_mae,
                h.eigenvalue_mae,
                h.lambda1_mae,
                h.cos_v1,
                h.neg_count_agreement,
                h.frequency_mae_cm.map_or("n/a".into(), |f| format!("{f:.1}"))
            );
        }
    }
    Ok(())
}
