//! `hip bench batch`: direct Hessians of many Transition1x-sized molecules in one call against
//! one call per molecule and against autodiff Hessians (issue 35, item 4: the batched-inference
//! row). The molecules are the reactant frames of the first `--molecules` ReactBench reactions of
//! `--names` (8–21 atoms). Each repetition times the three ways in turn (wall time of this
//! thread; run it with `RAYON_NUM_THREADS=1` for one core); min / median / max over `--reps`,
//! after one warm-up of each.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use hip_bench::plots::min_median_max;
use hip_bench::reactbench as rb;
use hip_model::HessianMethod;

/// `hip bench batch` options.
#[derive(Args, Debug)]
pub struct BatchBenchArgs {
    /// ReactBench-format set (folder or .tar.gz of two-frame XYZ files).
    #[arg(long, default_value = "datasets/reactbench/ts1x.tar.gz")]
    pub set: PathBuf,
    /// Reaction names (their reactants are the molecules; the train half's, so that timing never
    /// touches the test half).
    #[arg(long, default_value = "datasets/reactbench/gen.txt")]
    pub names: PathBuf,
    /// Molecules per batch.
    #[arg(long, default_value_t = 64)]
    pub molecules: usize,
    /// Repetitions.
    #[arg(long, default_value_t = 5)]
    pub reps: usize,
    /// Model checkpoint (default: the embedded model).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Write the numbers as JSON to this file.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(a: BatchBenchArgs) -> Result<(), String> {
    if a.molecules == 0 || a.reps == 0 {
        return Err("--molecules and --reps must be at least 1".into());
    }
    let names = rb::read_names(&a.names).map_err(|e| e.to_string())?;
    let pick: Vec<String> = names.into_iter().take(a.molecules).collect();
    if pick.len() < a.molecules {
        return Err(format!("{}: fewer than {} reactions", a.names.display(), a.molecules));
    }
    let set = rb::read_set(&a.set, Some(&pick)).map_err(|e| e.to_string())?;
    let mols: Vec<hip_core::Molecule> = set.into_iter().map(|r| r.reactant).collect();
    let refs: Vec<&hip_core::Molecule> = mols.iter().collect();
    let model = crate::model_io::load_model(a.model.as_deref())?;
    let atoms: Vec<usize> = mols.iter().map(|m| m.len()).collect();
    type Way<'a> = (&'static str, Box<dyn Fn() -> Result<(), String> + 'a>);
    let ways: Vec<Way> = vec![
        ("direct, one batched call", Box::new(|| model.hessians_direct(&refs).map(|_| ()).map_err(|e| e.to_string()))),
        (
            "direct, one call per molecule",
            Box::new(|| {
                refs.iter()
                    .try_for_each(|m| model.hessian(m, HessianMethod::Direct).map(|_| ()).map_err(|e| e.to_string()))
            }),
        ),
        (
            "autodiff, one call per molecule",
            Box::new(|| {
                refs.iter()
                    .try_for_each(|m| model.hessian(m, HessianMethod::Autodiff).map(|_| ()).map_err(|e| e.to_string()))
            }),
        ),
    ];
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); ways.len()];
    for rep in 0..=a.reps {
        for (k, (_, f)) in ways.iter().enumerate() {
            let t0 = Instant::now();
            f()?;
            if rep > 0 {
                times[k].push(t0.elapsed().as_secs_f64());
            }
        }
    }
    println!(
        "{} molecules ({}–{} atoms, mean {:.1}) of {}, {} repetitions: wall seconds per batch of all of them",
        mols.len(),
        atoms.iter().min().unwrap_or(&0),
        atoms.iter().max().unwrap_or(&0),
        atoms.iter().sum::<usize>() as f64 / atoms.len() as f64,
        a.names.display(),
        a.reps
    );
    println!("| way | min | median | max | molecules per s (median) |\n| --- | ---: | ---: | ---: | ---: |");
    let mut rows = Vec::new();
    for ((name, _), t) in ways.iter().zip(&times) {
        let [lo, med, hi] = min_median_max(t).unwrap_or([f64::NAN; 3]);
        println!("| {name} | {lo:.3} | {med:.3} | {hi:.3} | {:.1} |", mols.len() as f64 / med);
        rows.push(serde_json::json!({"way": name, "seconds": t, "min": lo, "median": med, "max": hi}));
    }
    let med = |k: usize| min_median_max(&times[k]).map_or(f64::NAN, |s| s[1]);
    println!("batched / single throughput: {:.2}×; autodiff / batched time: {:.1}×", med(1) / med(0), med(2) / med(0));
    if let Some(out) = &a.out {
        let j = serde_json::json!({"molecules": mols.len(), "atoms": atoms, "reps": a.reps, "rows": rows,
            "command": std::env::args().collect::<Vec<_>>().join(" ")});
        hip_core::io::atomic::write(out, serde_json::to_string_pretty(&j).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}
