//! `hip bench` (speed, memory, scaling, accuracy, regression check), `hip report` (the main job:
//! accuracy, frequencies, TS searches and speed on shipped defaults) and the hidden memory probe.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;
use hip_bench::{Options, baseline, report};

use crate::model_io::{ComputeArgs, load_model, training_history};

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub sub: Option<BenchCommand>,
    /// Model checkpoint (default: the embedded model).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Device and precision of both models (the memory probe measures the CPU).
    #[command(flatten)]
    pub compute: ComputeArgs,
    /// Quick mode (5, 10, 20 atoms; small accuracy subset): a few minutes on 2 cores.
    #[arg(long)]
    pub quick: bool,
    /// Compare ratios and accuracy with this baseline results.json; exit 1 on a regression.
    #[arg(long)]
    pub check: Option<PathBuf>,
    /// Dataset for the accuracy part (its test split).
    #[arg(long, default_value = "datasets/gfn2-train.h5")]
    pub data: PathBuf,
    /// E+F baseline model for the accuracy comparison.
    #[arg(long)]
    pub ef_model: Option<PathBuf>,
    /// Output directory.
    #[arg(long, default_value = "reports/bench")]
    pub out: PathBuf,
    /// Print results.json to stdout.
    #[arg(long)]
    pub json: bool,
    /// Run the PyTorch/e3nn peer script (needs python3 with torch and e3nn).
    #[arg(long)]
    pub peer: bool,
    /// Sizes (atoms) of the provider comparison, comma-separated [default: 5,10,20,30,50,100;
    /// quick: 5,10,20].
    #[arg(long, value_delimiter = ',')]
    pub sizes: Option<Vec<usize>>,
    /// Sizes of the block-sparse direct runs, comma-separated; 0 for none [default:
    /// 100,200,500,1000,2000,5000; quick: none].
    #[arg(long, value_delimiter = ',')]
    pub large_sizes: Option<Vec<usize>>,
    /// Autodiff and FD only up to this many atoms [default: 50; quick: 20].
    #[arg(long)]
    pub max_slow_atoms: Option<usize>,
}

/// The peer script: `crates/hip-bench/peers/e3nn_peer.py` from the working directory (the repo
/// root), else from the source tree this binary was built from.
fn peer_script() -> PathBuf {
    let rel = PathBuf::from("crates/hip-bench/peers/e3nn_peer.py");
    if rel.exists() {
        rel
    } else {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../hip-bench/peers/e3nn_peer.py"))
    }
}

fn meta(model: &Option<PathBuf>, quick: bool, compute: &crate::model_io::ComputeArgs) -> report::Meta {
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    report::Meta {
        date: utc(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)),
        commit,
        command: std::env::args().collect::<Vec<_>>().join(" "),
        machine: hip_bench::machine(),
        threads: hip_model::num_threads().to_string(),
        model: model
            .as_ref()
            .map_or("embedded default (models/hip-default.safetensors)".into(), |p| p.display().to_string()),
        quick,
        compute: format!(
            "{} {}",
            compute
                .device
                .clone()
                .or_else(|| std::env::var(hip_model::compute::DEVICE_ENV).ok())
                .unwrap_or("cpu".into()),
            compute.dtype.as_deref().unwrap_or("f64")
        ),
    }
}

/// `YYYY-MM-DD HH:MM UTC` from Unix seconds (civil-from-days, Howard Hinnant).
fn utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let (h, m) = ((secs % 86_400) / 3600, (secs % 3600) / 60);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(mo <= 2);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{m:02} UTC")
}

/// Benchmarks with a subcommand of their own.
#[derive(clap::Subcommand, Debug)]
pub enum BenchCommand {
    /// ReactBench-format reactions through the pipeline with each Hessian provider and GFN2-xTB
    /// (resumable, worker processes, per-run time cap; summary.json and summary.md).
    Reactions(crate::reactbench::ReactionsArgs),
    /// Training throughput of the shipped configurations in samples per CPU second, per
    /// precision (interleaved repetitions; min / median / max).
    Train(crate::train_bench::TrainBenchArgs),
    /// Direct Hessians of many Transition1x-sized molecules in one batched call against one call
    /// per molecule and against autodiff (wall time; min / median / max).
    Batch(crate::batch_bench::BatchBenchArgs),
}

pub fn bench(a: BenchArgs) -> Result<(), String> {
    match a.sub {
        Some(BenchCommand::Reactions(r)) => return crate::reactbench::reactions(r),
        Some(BenchCommand::Train(t)) => return crate::train_bench::run(t),
        Some(BenchCommand::Batch(b)) => return crate::batch_bench::run(b),
        None => {}
    }
    let model = Arc::new(a.compute.load(a.model.as_deref())?);
    let ef = match &a.ef_model {
        Some(p) => Some(Arc::new(a.compute.load(Some(p))?)),
        None => None,
    };
    let o = Options {
        sizes: a.sizes.clone().unwrap_or(if a.quick { vec![5, 10, 20] } else { vec![5, 10, 20, 30, 50, 100] }),
        max_slow_atoms: a.max_slow_atoms.unwrap_or(if a.quick { 20 } else { 50 }),
        large_sizes: a.large_sizes.clone().map(|v| v.into_iter().filter(|&n| n > 0).collect()).unwrap_or(if a.quick {
            vec![]
        } else {
            vec![100, 200, 500, 1000, 2000, 5000]
        }),
        peer: a.peer.then(peer_script),
        reps: if a.quick { 5 } else { 7 },
        budget_s: if a.quick { 1.0 } else { 3.0 },
        // the probe measures this process's RSS: meaningful on the CPU only
        memory: a.compute.device()?.is_cpu(),
        exe: std::env::current_exe().ok(),
        model_path: a.model.clone(),
        accuracy: a.data.exists().then(|| (a.data.clone(), "test".to_string(), if a.quick { 12 } else { 60 })),
        ef_model: ef,
        freq_data: None,
        ts_data: vec![],
        ts_autodiff: false,
        max_ts: 0,
        reaction_data: None,
        max_reactions: 0,
        opt_data: None,
        zpe_data: None,
        learning_curves: vec![],
        out_dir: a.out.clone(),
        meta: meta(&a.model, a.quick, &a.compute),
        verbose: true,
        sections: vec![],
    };
    let r = hip_bench::run(model, &o)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&r).map_err(|e| e.to_string())?);
    } else {
        eprintln!("wrote {}/REPORT.md and results.json", a.out.display());
    }
    if let Some(b) = &a.check {
        let text = std::fs::read_to_string(b).map_err(|e| format!("{}: {e}", b.display()))?;
        let base: report::Results = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", b.display()))?;
        let checks = baseline::compare(&r, &base);
        print!("{}", baseline::table(&checks));
        let bad = checks.iter().filter(|c| !c.ok).count();
        if bad > 0 {
            return Err(format!("{bad} regression(s) against {}", b.display()));
        }
        println!("no regression against {} ({} checks)", b.display(), checks.len());
    }
    Ok(())
}

#[derive(Args, Debug)]
pub struct ProbeArgs {
    /// energy_forces, direct, autodiff or fd.
    #[arg(long)]
    pub provider: String,
    /// Atoms in the alkane.
    #[arg(long)]
    pub atoms: usize,
    /// Model checkpoint.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Precision (the probe measures the CPU: `--device` must be cpu).
    #[command(flatten)]
    pub compute: ComputeArgs,
}

pub fn probe(a: ProbeArgs) -> Result<(), String> {
    let model = a.compute.load(a.model.as_deref())?;
    let (b, p) = hip_bench::memory_probe(&model, &a.provider, a.atoms)?;
    println!("{}", serde_json::json!({"baseline_kb": b, "peak_kb": p}));
    Ok(())
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Model checkpoint (default: the embedded model).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Device and precision of both models.
    #[command(flatten)]
    pub compute: ComputeArgs,
    /// E+F baseline model.
    #[arg(long, default_value = "models/ef-baseline.safetensors")]
    pub ef_model: PathBuf,
    /// Training-level dataset (its test split).
    #[arg(long, default_value = "datasets/gfn2-train.h5")]
    pub data: PathBuf,
    /// High-level dataset (minima and transition states).
    #[arg(long, default_value = "datasets/wb97x-small.h5")]
    pub high_level: PathBuf,
    /// Test samples for the accuracy part.
    #[arg(long, default_value_t = 40)]
    pub max: usize,
    /// Include autodiff-Hessian TS searches (slow).
    #[arg(long)]
    pub ts_autodiff: bool,
    /// Transition states of the test split searched from (spread evenly over its reactions;
    /// 0: all, 104 in data v2).
    #[arg(long, default_value_t = 24)]
    pub max_ts: usize,
    /// Test-split reactions (with stored IRC ends) run through the reactant → product pipeline
    /// with each Hessian (spread evenly; 0: all).
    #[arg(long, default_value_t = 6)]
    pub max_reactions: usize,
    /// Test-split minima of the geometry-optimization study (each displaced by σ = 0.03 and
    /// 0.1 Å: twice as many starts; 0: none).
    #[arg(long, default_value_t = 20)]
    pub max_opt_minima: usize,
    /// Test-split reactions of the ΔZPE comparison (spread; 0: all).
    #[arg(long, default_value_t = 40)]
    pub max_zpe: usize,
    /// Also run the PyTorch/e3nn peer (needs python3 with torch and e3nn).
    #[arg(long)]
    pub peer: bool,
    /// The first N reactions of ReactBench's test half through `hip bench reactions` with the
    /// model's direct, direct + probes and autodiff Hessians and GFN2-xTB (0: none).
    #[arg(long, default_value_t = 4)]
    pub reactbench: usize,
    /// HORM's public sample imported to HDF5: the DFT check's first set (skipped if absent).
    #[arg(long, default_value = "datasets/horm/sample_100.h5")]
    pub horm: PathBuf,
    /// Output directory.
    #[arg(long, default_value = "reports")]
    pub out: PathBuf,
    /// The MACE reference's state (`scripts/mace_budget.py`): its validation curve is shown beside
    /// the models' and the E+F baseline is graded against it, if it was trained on `--data`
    #[arg(long, default_value = "models/mace-ref-v2/state.json")]
    pub mace_state: PathBuf,
}

/// The MACE reference curve at `state` for the report, when it exists, was trained on `data` and
/// finished its budget (else empty, with a note on stderr when it exists).
fn mace_reference_curve(state: &Path, data: &Path) -> Result<Vec<hip_model::train::EpochRecord>, String> {
    if !state.exists() {
        return Ok(Vec::new());
    }
    let curve = hip_bench::reference_curve::read_mace_state(state)?;
    if !curve.done {
        eprintln!(
            "note: {}: the MACE reference has not finished its {:.0}-CPU-s budget; it is left out of the report",
            state.display(),
            curve.budget_s
        );
        return Ok(Vec::new());
    }
    let train = hip_core::io::dataset::Dataset::open(data).map_err(|e| e.to_string())?.indices_in_split("train").len();
    if !hip_bench::reference_curve::same_data(&curve, data, train) {
        eprintln!(
            "note: {}: the MACE reference was trained on {} ({} training samples), not {} ({train}); it is left out of the report",
            state.display(),
            curve.data,
            curve.train_samples,
            data.display()
        );
        return Ok(Vec::new());
    }
    Ok(curve.history)
}

/// The main job on shipped defaults.
pub fn report_cmd(a: ReportArgs) -> Result<(), String> {
    let model = Arc::new(a.compute.load(a.model.as_deref())?);
    let ef = if a.ef_model.exists() { Some(Arc::new(a.compute.load(Some(&a.ef_model))?)) } else { None };
    let mut sections = Vec::new();
    sections.extend(crate::report_sections::dft(&a, &model)?);
    sections.extend(crate::report_sections::reactbench(&a)?);
    let mut ts_data = vec![(a.data.clone(), "test".to_string())];
    if a.high_level.exists() {
        ts_data.push((a.high_level.clone(), "all".to_string()));
    }
    let o = Options {
        sizes: vec![5, 10, 20, 30, 50],
        max_slow_atoms: 50,
        large_sizes: vec![100, 200, 500, 1000, 2000, 5000],
        peer: a.peer.then(peer_script),
        reps: 7,
        budget_s: 3.0,
        memory: a.compute.device()?.is_cpu(),
        exe: std::env::current_exe().ok(),
        model_path: a.model.clone(),
        accuracy: Some((a.data.clone(), "test".into(), a.max)),
        ef_model: ef,
        freq_data: a.high_level.exists().then(|| a.high_level.clone()),
        ts_data,
        ts_autodiff: a.ts_autodiff,
        max_ts: a.max_ts,
        reaction_data: Some(a.data.clone()),
        max_reactions: a.max_reactions,
        opt_data: (a.max_opt_minima > 0).then(|| (a.data.clone(), a.max_opt_minima)),
        zpe_data: Some((a.data.clone(), a.max_zpe)),
        learning_curves: vec![
            ("HIP".into(), training_history(a.model.as_deref())?),
            (
                hip_bench::report::EF_LABEL.into(),
                if a.ef_model.exists() { training_history(Some(&a.ef_model))? } else { vec![] },
            ),
            (hip_bench::reference_curve::MACE_LABEL.into(), mace_reference_curve(&a.mace_state, &a.data)?),
        ],
        out_dir: a.out.clone(),
        meta: meta(&a.model, false, &a.compute),
        verbose: true,
        sections,
    };
    let r = hip_bench::run(model, &o)?;
    let get = |p: &str, k: &str| {
        r.accuracy.get(p).and_then(|v| v.get("hessian")).and_then(|h| h.get(k)).and_then(|x| x.as_f64())
    };
    println!("report written to {}/REPORT.md (numbers in results.json)", a.out.display());
    for p in ["direct", "autodiff", "ef_baseline_autodiff"] {
        if let Some(mae) = get(p, "hessian_mae") {
            println!(
                "  {p:<22} Hessian MAE {mae:.4} eV/Å²  eigenvalue MAE {:.4}  |cos v1| {:.3}",
                get(p, "eigenvalue_mae").unwrap_or(f64::NAN),
                get(p, "cos_v1").unwrap_or(f64::NAN)
            );
        }
    }
    if let Some(ts) = &r.ts_search {
        for (k, s) in &ts.summary {
            println!("  TS search ({k}): {}/{} converged with one imaginary mode", s.success, s.runs);
        }
    }
    for row in &r.ratios {
        println!(
            "  {} atoms: AD/(direct+forces) {:.1}×, FD/(direct+forces) {:.1}× (like for like; Hessian only: AD/direct {:.1}×)",
            row.n_atoms,
            row.autodiff_over_direct_with_forces.unwrap_or(f64::NAN),
            row.fd_over_direct_with_forces.unwrap_or(f64::NAN),
            row.autodiff_over_direct.unwrap_or(f64::NAN)
        );
    }
    Ok(())
}

#[derive(Args, Debug)]
pub struct DeviceCheckArgs {
    /// Model checkpoint (default: the embedded model).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Device to check: cuda, cuda:N or cpu.
    #[arg(long, default_value = "cuda")]
    pub device: String,
    /// Precisions to check, comma-separated.
    #[arg(long, default_value = "f64,f32")]
    pub dtypes: String,
    /// Atoms of the alkane checked beside water.
    #[arg(long, default_value_t = 30)]
    pub atoms: usize,
    /// Write device_check.json into this folder.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// JSON on stdout instead of the table.
    #[arg(long)]
    pub json: bool,
}

pub fn device_check(a: DeviceCheckArgs) -> Result<(), String> {
    let device = hip_model::compute::device(Some(&a.device)).map_err(|e| e.to_string())?;
    let precisions = a
        .dtypes
        .split(',')
        .map(|s| s.parse::<hip_model::Precision>().map_err(|e| format!("--dtypes: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let model = load_model(a.model.as_deref())?;
    if !(2..=500).contains(&a.atoms) {
        return Err(format!("--atoms {}: use 2..=500", a.atoms));
    }
    let c = hip_bench::device_check::run(&model, &device, &precisions, a.atoms).map_err(|e| e.to_string())?;
    let json = serde_json::to_string_pretty(&c).map_err(|e| e.to_string())?;
    if let Some(dir) = &a.out {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let path = dir.join("device_check.json");
        hip_core::io::atomic::write(&path, &json).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    if a.json {
        println!("{json}");
    } else {
        print!("{}", hip_bench::device_check::table(&c));
    }
    if c.ok {
        Ok(())
    } else {
        let bad = c.rows.iter().filter(|r| !r.ok).count();
        Err(format!("device check: {bad} of {} comparisons outside tolerance on {}", c.rows.len(), a.device))
    }
}
