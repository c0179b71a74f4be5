//! Transition-state searches of `hip report` (the same TSs, displacements and grader) with a
//! chosen set of Hessian variants: the experiment behind a change of the report's variants.
//!
//! ```text
//! cargo run --release -p hip-bench --example ts_variants -- \
//!     [--model models/hip-default.safetensors] [--max-ts 24] [--out reports/v2/ts-variants.json] \
//!     [--variants hip,hip_secant,autodiff,autodiff_secant,quasi_newton] [--split test] [--consistency] [--saddles]
//! ```
//!
//! `--split` picks the TSs of `datasets/gfn2-train.h5` (`test`, as `hip report`, or `val` to
//! choose between models without touching the test split); the `wb97x-small.h5` TSs are
//! searched only with `test`.
//!
//! Variants: `hip` (direct Hessian every step, the paper's protocol), `hip_secant` (the same, each
//! fresh direct Hessian secant-corrected with the last step, `TsOptions::secant_update`),
//! `quasi_newton` (direct once, Bofill updates), `hip_probeK` (direct every step, each corrected
//! along the followed and the lowest modes by K Hessian-vector products of the model's gradient,
//! `TsOptions::mode_probes`), `hip_secant_probeK` (both corrections), `autodiff`,
//! `autodiff_secant`. Every endpoint is graded by the model's autodiff Hessian. Prints the
//! summary per variant and writes the runs.
//!
//! `--saddles` locates the model's own saddle near each reference TS (autodiff RS-P-RFO from the
//! TS itself) and there evaluates the local theory of the direct-Hessian search
//! (`hip_tasks::optimize::local`): the rate of Newton steps with the direct Hessian on the
//! model's surface and the direct Hessian's count of negative modes, beside whether the `hip`
//! searches toward that TS succeeded.
//!
//! `--reference-rates KIND` skips the searches and, at every sample of that kind (`ts` or
//! `minimum`) in the split, evaluates the same local theory on the *reference* surface: would
//! Newton steps with the direct (or the autodiff) Hessian converge to this reference stationary
//! point if the gradients were the reference's (the reference Hessian as the exact one)?
//!
//! `--consistency` also measures, at every start and every reference TS, how far the direct
//! Hessian is from the curvature of the model's own surface (its autodiff Hessian): Hessian MAE,
//! |Δλ₁|, |cos v₁| and whether both see one imaginary mode; per start, beside whether the `hip`
//! search from it succeeded.

use std::path::PathBuf;
use std::sync::Arc;

use candle_core::Device;
use clap::Parser;
use hip_bench::ts_bench::{self, Variant};
use hip_core::{MassConvention, Molecule};
use hip_model::{HessianMethod, HipModel};
use hip_tasks::metrics::{self, HessianMetrics};
use hip_tasks::optimize::{local, ts};

// clap rejects anything else, so a typo or `--help` never starts a run that overwrites `--out`.
/// Transition-state searches of `hip report` with chosen Hessian variants (the example's module
/// docs describe the variants and options).
#[derive(Parser)]
struct Args {
    #[arg(long, default_value = "models/hip-default.safetensors")]
    model: PathBuf,
    #[arg(long, default_value_t = 24)]
    max_ts: usize,
    #[arg(long, default_value = "reports/v2/ts-variants.json")]
    out: PathBuf,
    /// Comma-separated variant labels.
    #[arg(long, default_value = "hip,hip_secant")]
    variants: String,
    #[arg(long, default_value = "test")]
    split: String,
    /// `ts` or `minimum`: skip the searches, evaluate the local theory on the reference surface.
    #[arg(long)]
    reference_rates: Option<String>,
    #[arg(long)]
    consistency: bool,
    #[arg(long)]
    saddles: bool,
}

fn variant(label: &str) -> Result<Variant, String> {
    let (method, every, secant, probes) = match label {
        "hip" => (HessianMethod::Direct, 1, false, 0),
        "hip_secant" => (HessianMethod::Direct, 1, true, 0),
        "quasi_newton" => (HessianMethod::Direct, usize::MAX, false, 0),
        "autodiff" => (HessianMethod::Autodiff, 1, false, 0),
        "autodiff_secant" => (HessianMethod::Autodiff, 1, true, 0),
        other => {
            let probes = |prefix: &str| other.strip_prefix(prefix).and_then(|k| k.parse::<usize>().ok());
            match (probes("hip_probe"), probes("hip_secant_probe")) {
                (Some(k), _) => (HessianMethod::Direct, 1, false, k),
                (_, Some(k)) => (HessianMethod::Direct, 1, true, k),
                _ => return Err(format!("unknown variant {other:?}")),
            }
        }
    };
    let label: &'static str = Box::leak(label.to_string().into_boxed_str());
    Ok(Variant { label, method, every, secant, probes })
}

/// The direct Hessian of `model` at `mol` graded against its autodiff Hessian (IUPAC masses).
fn direct_vs_autodiff(model: &HipModel, mol: &Molecule) -> Result<HessianMetrics, String> {
    let d = model.hessian(mol, HessianMethod::Direct).map_err(|e| e.to_string())?;
    let a = model.hessian(mol, HessianMethod::Autodiff).map_err(|e| e.to_string())?;
    let masses = mol.masses(MassConvention::Iupac).map_err(|e| e.to_string())?;
    metrics::compare(mol, &masses, &d, &a).map_err(|e| e.to_string())
}

fn mean(xs: impl Iterator<Item = f64>) -> f64 {
    let v: Vec<f64> = xs.collect();
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

/// Direct against autodiff at every start (joined with the `hip` run from it) and every TS.
fn consistency(
    model: &HipModel,
    cases: &[(String, Molecule)],
    runs: &[ts_bench::TsRun],
) -> Result<serde_json::Value, String> {
    let mut rows = Vec::new();
    for (name, ts0) in cases {
        let at_ts = direct_vs_autodiff(model, ts0)?;
        for sigma in [0.05, 0.1] {
            let m = direct_vs_autodiff(model, &ts_bench::displaced_start(ts0, sigma, 0))?;
            let hip = runs.iter().find(|r| r.name == *name && r.sigma == sigma && r.hessian == "hip");
            let success = hip.is_some_and(|r| r.converged && r.n_imaginary == 1);
            rows.push(serde_json::json!({"name": name, "sigma": sigma, "hip_success": success,
                "start": m, "reference_ts": at_ts}));
        }
    }
    println!(
        "\nDirect vs autodiff Hessian of the same model (mean over starts; grouped by the `hip` search's outcome):\n"
    );
    println!("| starts | n | H MAE (eV/Å²) | \\|Δλ₁\\| | \\|cos v₁\\| | both 1 imaginary / agree |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for (label, want) in [("hip succeeded", Some(true)), ("hip failed", Some(false)), ("all", None)] {
        let sel: Vec<&serde_json::Value> =
            rows.iter().filter(|r| want.is_none_or(|w| r["hip_success"].as_bool() == Some(w))).collect();
        let f = |k: &str| mean(sel.iter().filter_map(|r| r["start"][k].as_f64()));
        println!(
            "| {label} | {} | {:.3} | {:.3} | {:.3} | {:.2} |",
            sel.len(),
            f("hessian_mae"),
            f("lambda1_mae"),
            f("cos_v1"),
            f("ts_agreement")
        );
    }
    Ok(serde_json::Value::Array(rows))
}

/// The model's saddle near each reference TS and the direct Hessian's Newton rate there.
fn saddles(
    model: &Arc<HipModel>,
    cases: &[(String, Molecule)],
    runs: &[ts_bench::TsRun],
) -> Result<serde_json::Value, String> {
    let pot = hip_model::ModelPotential { model: model.clone(), method: HessianMethod::Autodiff };
    let mut rows = Vec::new();
    for (name, ts0) in cases {
        let r = ts::search(&pot, ts0, &ts::TsOptions::default()).map_err(|e| e.to_string())?;
        let found = r.converged && r.final_point.as_ref().is_some_and(|f| f.n_imaginary == 1);
        let hip_successes =
            runs.iter().filter(|x| x.name == *name && x.hessian == "hip" && x.converged && x.n_imaginary == 1).count();
        let hip_runs = runs.iter().filter(|x| x.name == *name && x.hessian == "hip").count();
        let mut row = serde_json::json!({"name": name, "model_saddle_found": found,
            "rmsd_to_reference": align_rmsd(ts0, &r.molecule)?, "hip_successes": hip_successes, "hip_runs": hip_runs});
        if found {
            let d = model.hessian(&r.molecule, HessianMethod::Direct).map_err(|e| e.to_string())?;
            let a = model.hessian(&r.molecule, HessianMethod::Autodiff).map_err(|e| e.to_string())?;
            let nl = local::newton_local(&r.molecule, &d, &a, true).map_err(|e| e.to_string())?;
            row["newton"] = serde_json::to_value(nl).map_err(|e| e.to_string())?;
            row["direct_search_converges_locally"] = nl.saddle_search_converges().into();
        }
        rows.push(row);
    }
    let found: Vec<&serde_json::Value> = rows.iter().filter(|r| r["model_saddle_found"] == true).collect();
    let local_ok = |r: &serde_json::Value| r["direct_search_converges_locally"] == true;
    let succ = |r: &serde_json::Value| r["hip_successes"].as_u64().unwrap_or(0) > 0;
    let median = median(found.iter().filter_map(|r| r["newton"]["rate"].as_f64()).collect());
    let one_neg = found.iter().filter(|r| r["newton"]["approx_negative"] == 1).count();
    println!(
        "\nThe model's saddle near each reference TS (autodiff search from the TS) and the direct Hessian there:\n"
    );
    println!(
        "| TSs | model saddle found | direct: 1 negative mode | Newton rate < 1 and 1 negative mode | median rate |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: |");
    println!(
        "| {} | {} | {one_neg} | {} | {median:.2} |",
        rows.len(),
        found.len(),
        found.iter().filter(|r| local_ok(r)).count()
    );
    println!("\n`hip` searches toward saddles where the local theory says converge / not converge:");
    for (label, want) in [("converges locally", true), ("does not", false)] {
        let sel: Vec<&&serde_json::Value> = found.iter().filter(|r| local_ok(r) == want).collect();
        let s: u64 = sel.iter().map(|r| r["hip_successes"].as_u64().unwrap_or(0)).sum();
        let n: u64 = sel.iter().map(|r| r["hip_runs"].as_u64().unwrap_or(0)).sum();
        println!(
            "- {label}: {} TSs, {s} of {n} `hip` searches succeeded, TSs with any success: {}",
            sel.len(),
            sel.iter().filter(|r| succ(r)).count()
        );
    }
    Ok(serde_json::Value::Array(rows))
}

/// The upper median (NaN for none).
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn align_rmsd(a: &Molecule, b: &Molecule) -> Result<f64, String> {
    hip_tasks::reaction::align::rmsd(a, b).map_err(|e| e.to_string())
}

/// At each reference stationary point of `kind` in `split`: the Newton rate of the direct and the
/// autodiff Hessian against the reference Hessian, and whether the negative-mode count is right.
fn reference_rates(model: &HipModel, split: &str, kind: &str) -> Result<(), String> {
    let want_negative = match kind {
        "ts" => 1,
        "minimum" => 0,
        other => return Err(format!("--reference-rates: kind must be ts or minimum, not {other:?}")),
    };
    let ds = hip_core::io::dataset::Dataset::open(std::path::Path::new("datasets/gfn2-train.h5"))
        .map_err(|e| e.to_string())?;
    let mut rows: Vec<(f64, usize, f64, usize)> = Vec::new();
    let mut modes: Vec<(f64, f64, f64)> = Vec::new(); // (λ_ref, ratio direct, ratio autodiff)
    for i in (0..ds.len()).filter(|&i| ds.kind_of(i) == kind && ds.split_of(i) == split) {
        let s = ds.sample(i).map_err(|e| e.to_string())?;
        let d = model.hessian(&s.molecule, HessianMethod::Direct).map_err(|e| e.to_string())?;
        let a = model.hessian(&s.molecule, HessianMethod::Autodiff).map_err(|e| e.to_string())?;
        let nd = local::newton_local(&s.molecule, &d, &s.hessian, true).map_err(|e| e.to_string())?;
        let na = local::newton_local(&s.molecule, &a, &s.hessian, true).map_err(|e| e.to_string())?;
        if nd.exact_negative != want_negative {
            continue; // not a clean stationary point of that kind by its own Hessian
        }
        rows.push((nd.rate, nd.approx_negative, na.rate, na.approx_negative));
        let rd = local::mode_curvature_ratios(&s.molecule, &d, &s.hessian, true).map_err(|e| e.to_string())?;
        let ra = local::mode_curvature_ratios(&s.molecule, &a, &s.hessian, true).map_err(|e| e.to_string())?;
        modes.extend(rd.iter().zip(&ra).map(|(x, y)| (x.0, x.1, y.1)));
    }
    let n = rows.len();
    println!("{n} reference {kind}s of the {split} split ({want_negative} negative modes by the reference):\n");
    println!("| Hessian | right negative count | rate < 1 | both | median rate |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    for (label, pick) in [("direct", 0), ("autodiff", 1)] {
        let (rate, neg): (Vec<f64>, Vec<usize>) =
            rows.iter().map(|r| if pick == 0 { (r.0, r.1) } else { (r.2, r.3) }).unzip();
        let right = neg.iter().filter(|&&k| k == want_negative).count();
        let fast = rate.iter().filter(|&&r| r < 1.0).count();
        let both = rate.iter().zip(&neg).filter(|&(&r, &k)| r < 1.0 && k == want_negative).count();
        println!("| {label} | {right} | {fast} | {both} | {:.2} |", median(rate));
    }
    println!("\nPer reference mode (unit-mass internal eigenvectors v, λ = vᵀH_ref v): share of modes whose");
    println!("curvature vᵀBv is below half of λ or of the other sign (a Newton step there overshoots 2× or more):\n");
    println!(
        "| λ_ref (eV/Å²) | modes | median λ_ref | direct | autodiff | median ratio direct | median ratio autodiff |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    // the last three rows split the negative modes (at TSs: the reaction modes) by how strongly
    // negative: bond rearrangements tend to the left, torsions and ring flips to the right
    let bins = [
        (f64::NEG_INFINITY, 0.0),
        (0.0, 0.5),
        (0.5, 2.0),
        (2.0, 10.0),
        (10.0, f64::INFINITY),
        (f64::NEG_INFINITY, -1.0),
        (-1.0, -0.3),
        (-0.3, 0.0),
    ];
    for (lo, hi) in bins {
        let sel: Vec<&(f64, f64, f64)> = modes.iter().filter(|m| m.0 >= lo && m.0 < hi).collect();
        let bad =
            |f: fn(&(f64, f64, f64)) -> f64| sel.iter().filter(|m| f(m) < 0.5).count() as f64 / sel.len().max(1) as f64;
        let med = |f: fn(&(f64, f64, f64)) -> f64| median(sel.iter().map(|m| f(m)).collect());
        println!(
            "| [{lo}, {hi}) | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
            sel.len(),
            med(|m| m.0),
            bad(|m| m.1),
            bad(|m| m.2),
            med(|m| m.1),
            med(|m| m.2)
        );
    }
    Ok(())
}

fn main() -> Result<(), String> {
    hip_model::enable_second_order_autodiff();
    let args = Args::parse();
    let (model_path, max_ts, out, split) = (args.model, args.max_ts, args.out, args.split);
    let variants = args.variants.split(',').map(variant).collect::<Result<Vec<_>, _>>()?;
    let model = Arc::new(hip_model::checkpoint::load(&model_path, &Device::Cpu).map_err(|e| e.to_string())?.model);
    if let Some(kind) = &args.reference_rates {
        return reference_rates(&model, &split, kind);
    }
    let mut data = vec![(PathBuf::from("datasets/gfn2-train.h5"), split.clone())];
    if split == "test" {
        data.push((PathBuf::from("datasets/wb97x-small.h5"), "all".to_string()));
    }
    let (cases, notes) = ts_bench::cases(&model, &data, max_ts);
    for n in notes {
        eprintln!("{n}");
    }
    eprintln!(
        "{} transition states, σ = 0.05 and 0.1 Å, variants {:?}",
        cases.len(),
        variants.iter().map(|v| v.label).collect::<Vec<_>>()
    );
    let t0 = std::time::Instant::now();
    let runs =
        ts_bench::ts_searches_with(model.clone(), &cases, &[0.05, 0.1], 1, &variants).map_err(|e| e.to_string())?;
    let mut summary = serde_json::Map::new();
    println!(
        "| variant | runs | converged | 1 imaginary (graded) | matches reference | own agrees | mean steps (converged) | stopped by an error |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for v in &variants {
        let s = ts_bench::summarize(&runs, v.label);
        println!(
            "| {} | {} | {} | {} | {} | {} | {:.1} | {} |",
            v.label, s.runs, s.converged, s.success, s.matches_reference, s.own_agrees, s.mean_steps, s.errors
        );
        summary.insert(v.label.into(), serde_json::to_value(&s).map_err(|e| e.to_string())?);
    }
    let consistency = if args.consistency { consistency(&model, &cases, &runs)? } else { serde_json::Value::Null };
    let saddles = if args.saddles { saddles(&model, &cases, &runs)? } else { serde_json::Value::Null };
    let json = serde_json::json!({
        "model": model_path, "split": split, "max_ts": max_ts, "sigmas": [0.05, 0.1], "wall_s": t0.elapsed().as_secs_f64(),
        "summary": summary, "runs": runs, "direct_vs_autodiff": consistency, "model_saddles": saddles,
    });
    std::fs::write(&out, serde_json::to_string_pretty(&json).map_err(|e| e.to_string())?)
        .map_err(|e| format!("{}: {e}", out.display()))?;
    eprintln!("wrote {}", out.display());
    Ok(())
}
