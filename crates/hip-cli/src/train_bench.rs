//! `hip bench train`: training throughput of the shipped configurations, in samples per CPU
//! second (issue 35, item 4). Each run trains a fresh model over the same `--samples` training
//! samples (spread over the molecules of the training split), as many passes as last about a CPU
//! second, each validating one sample; the number is samples × passes / the process CPU time of
//! those passes (data loading, statistics and preparation excluded). Precisions are
//! interleaved within each repetition, so that slow phases of a busy machine hit every precision
//! alike; min / median / max over `--reps` repetitions, after one warm-up pass of each.

use std::path::PathBuf;

use clap::Args;
use hip_bench::plots::min_median_max;
use hip_model::train::{RunOptions, TrainConfig, fit_statistics, load_split_spread};
use hip_model::{ModelConfig, Precision};

/// `hip bench train` options.
#[derive(Args, Debug)]
pub struct TrainBenchArgs {
    /// Training data (HDF5; its train split).
    #[arg(long, default_value = "datasets/gfn2-train.h5")]
    pub data: PathBuf,
    /// Architecture (the shipped HIP model's).
    #[arg(long, default_value = "models/v2/model-prod.toml")]
    pub model_config: PathBuf,
    /// Training settings (the shipped end-to-end HIP run's: E, F, H and subspace losses).
    #[arg(long, default_value = "models/v2/train-hip-e2e.toml")]
    pub config: PathBuf,
    /// Training samples per pass.
    #[arg(long, default_value_t = 64)]
    pub samples: usize,
    /// Repetitions (each runs every precision once).
    #[arg(long, default_value_t = 5)]
    pub reps: usize,
    /// Precisions, comma-separated.
    #[arg(long, default_value = "f64,f32", value_delimiter = ',')]
    pub dtypes: Vec<String>,
    /// Write the numbers as JSON to this file.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// CPU seconds a measurement should last at least.
const MIN_CPU_S: f64 = 1.0;

pub fn run(a: TrainBenchArgs) -> Result<(), String> {
    if a.samples == 0 || a.reps == 0 {
        return Err("--samples and --reps must be at least 1".into());
    }
    let precisions: Vec<Precision> = a
        .dtypes
        .iter()
        .map(|d| d.parse::<Precision>().map_err(|e| format!("--dtypes: {e}")))
        .collect::<Result<_, _>>()?;
    let read = |p: &PathBuf| std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()));
    let mut mcfg = ModelConfig::from_toml(&read(&a.model_config)?)?;
    let base = TrainConfig::from_toml(&read(&a.config)?).map_err(|e| e.to_string())?;
    let train = load_split_spread(&a.data, "train", a.samples).map_err(|e| e.to_string())?;
    if train.len() < a.samples {
        return Err(format!("{}: fewer than {} training samples", a.data.display(), a.samples));
    }
    // one validation sample (its cost is part of every pass alike): the val split's, or a
    // training sample where the file has no val split
    let mut val = load_split_spread(&a.data, "val", 1).unwrap_or_default();
    if val.is_empty() {
        val.push(train[0].clone());
    }
    let (refs, scale, nn) = fit_statistics(&train, &mcfg.species, mcfg.cutoff).map_err(|e| e.to_string())?;
    (mcfg.reference_energies, mcfg.energy_scale, mcfg.avg_num_neighbors) = (refs, scale, nn);
    mcfg.hessian_scale = hip_model::train::fit_hessian_scale(&train);
    let ckpt = std::env::temp_dir().join(format!("hip-bench-train-{}.safetensors", std::process::id()));
    let mut rates: Vec<Vec<f64>> = vec![Vec::new(); precisions.len()];
    // passes per measurement: enough for about MIN_CPU_S of CPU time (the process clock ticks in
    // 10 ms), set from the warm-up pass
    let mut passes = vec![1usize; precisions.len()];
    // repetition 0 is a warm-up of every precision (first-touch allocations, lazy set-up), not
    // recorded
    for rep in 0..=a.reps {
        for (k, p) in precisions.iter().enumerate() {
            let cfg = TrainConfig {
                epochs: passes[k],
                max_train: 0,
                max_val: 1,
                time_budget_s: 0.0,
                dtype: *p,
                ..base.clone()
            };
            let model = hip_model::HipModel::with_dtype(mcfg.clone(), &candle_core::Device::Cpu, p.dtype())
                .map_err(|e| e.to_string())?;
            let opts = RunOptions {
                checkpoint: ckpt.clone(),
                resume: false,
                stop_after: 0,
                provenance: serde_json::Value::Null,
                progress: false,
                sample_repeats: Vec::new(),
            };
            let (_, hist) = hip_model::train::train(model, &train, &val, &cfg, &opts).map_err(|e| e.to_string())?;
            let cpu = hist.last().map_or(f64::NAN, |h| h.cpu_s);
            if rep == 0 {
                passes[k] = (MIN_CPU_S / cpu.max(0.01)).ceil().clamp(1.0, 1000.0) as usize;
                continue;
            }
            let rate = (train.len() * passes[k]) as f64 / cpu;
            if !rate.is_finite() {
                return Err(format!("{p}: {} passes took no measurable CPU time", passes[k]));
            }
            rates[k].push(rate);
            eprintln!("rep {rep}/{} {p}: {rate:.1} samples per CPU s ({} passes)", a.reps, passes[k]);
        }
    }
    let _ = std::fs::remove_file(&ckpt);
    println!(
        "training throughput: {} samples of {}, {} + {}, {} repetitions (samples per CPU second)",
        train.len(),
        a.data.display(),
        a.model_config.display(),
        a.config.display(),
        a.reps
    );
    println!("| precision | min | median | max |\n| --- | ---: | ---: | ---: |");
    let mut rows = Vec::new();
    for (p, r) in precisions.iter().zip(&rates) {
        let [lo, med, hi] = min_median_max(r).unwrap_or([f64::NAN; 3]);
        println!("| {} | {lo:.1} | {med:.1} | {hi:.1} |", p);
        rows.push(serde_json::json!({"precision": p, "samples_per_cpu_s": r, "min": lo, "median": med, "max": hi}));
    }
    if let Some(out) = &a.out {
        let j = serde_json::json!({
            "data": a.data, "model_config": a.model_config, "config": a.config, "samples": train.len(),
            "reps": a.reps, "rows": rows, "command": std::env::args().collect::<Vec<_>>().join(" "),
        });
        hip_core::io::atomic::write(out, serde_json::to_string_pretty(&j).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}
