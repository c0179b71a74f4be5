//! Transition-state searches of `hip report` (the same TSs, displacements and grader) with a
//! chosen set of Hessian variants: the experiment behind a change of the report's variants.
//!
//! ```text
//! cargo run --release -p hip-bench --example ts_variants -- \
//!     [--model models/hip-default.safetensors] [--max-ts 24] [--out reports/v2/ts-variants.json] \
//!     [--variants hip,hip_secant,autodiff,autodiff_secant,quasi_newton] [--split test] [--consistency]
//! ```
//!
//! `--split` picks the TSs of `datasets/gfn2-train.h5` (`test`, as `hip report`, or `val` to
//! choose between models without touching the test split); the `wb97x-small.h5` TSs are
//! searched only with `test`.
//!
//! Variants: `hip` (direct Hessian every step, the paper's protocol), `hip_secant` (the same, each
//! fresh direct Hessian secant-corrected with the last step, `TsOptions::secant_update`),
//! `quasi_newton` (direct once, Bofill updates), `autodiff`, `autodiff_secant`. Every endpoint is
//! graded by the model's autodiff Hessian. Prints the summary per variant and writes the runs.
//!
//! `--consistency` also measures, at every start and every reference TS, how far the direct
//! Hessian is from the curvature of the model's own surface (its autodiff Hessian): Hessian MAE,
//! |Δλ₁|, |cos v₁| and whether both see one imaginary mode; per start, beside whether the `hip`
//! search from it succeeded.

use std::path::PathBuf;
use std::sync::Arc;

use candle_core::Device;
use hip_bench::ts_bench::{self, Variant};
use hip_core::{MassConvention, Molecule};
use hip_model::{HessianMethod, HipModel};
use hip_tasks::metrics::{self, HessianMetrics};

fn arg(args: &[String], name: &str, default: &str) -> String {
    args.iter().position(|a| a == name).and_then(|k| args.get(k + 1)).cloned().unwrap_or_else(|| default.into())
}

fn variant(label: &str) -> Result<Variant, String> {
    let (method, every, secant) = match label {
        "hip" => (HessianMethod::Direct, 1, false),
        "hip_secant" => (HessianMethod::Direct, 1, true),
        "quasi_newton" => (HessianMethod::Direct, usize::MAX, false),
        "autodiff" => (HessianMethod::Autodiff, 1, false),
        "autodiff_secant" => (HessianMethod::Autodiff, 1, true),
        other => return Err(format!("unknown variant {other:?}")),
    };
    let label: &'static str = Box::leak(label.to_string().into_boxed_str());
    Ok(Variant { label, method, every, secant })
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

fn main() -> Result<(), String> {
    hip_model::enable_second_order_autodiff();
    let args: Vec<String> = std::env::args().collect();
    let model_path = PathBuf::from(arg(&args, "--model", "models/hip-default.safetensors"));
    let max_ts: usize = arg(&args, "--max-ts", "24").parse().map_err(|e| format!("--max-ts: {e}"))?;
    let out = PathBuf::from(arg(&args, "--out", "reports/v2/ts-variants.json"));
    let variants = arg(&args, "--variants", "hip,hip_secant").split(',').map(variant).collect::<Result<Vec<_>, _>>()?;
    let model = Arc::new(hip_model::checkpoint::load(&model_path, &Device::Cpu).map_err(|e| e.to_string())?.model);
    let split = arg(&args, "--split", "test");
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
        "| variant | runs | converged | 1 imaginary (graded) | matches reference | own agrees | mean steps (converged) |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for v in &variants {
        let s = ts_bench::summarize(&runs, v.label);
        println!(
            "| {} | {} | {} | {} | {} | {} | {:.1} |",
            v.label, s.runs, s.converged, s.success, s.matches_reference, s.own_agrees, s.mean_steps
        );
        summary.insert(v.label.into(), serde_json::to_value(&s).map_err(|e| e.to_string())?);
    }
    let consistency = if args.iter().any(|a| a == "--consistency") {
        consistency(&model, &cases, &runs)?
    } else {
        serde_json::Value::Null
    };
    let json = serde_json::json!({
        "model": model_path, "split": split, "max_ts": max_ts, "sigmas": [0.05, 0.1], "wall_s": t0.elapsed().as_secs_f64(),
        "summary": summary, "runs": runs, "direct_vs_autodiff": consistency,
    });
    std::fs::write(&out, serde_json::to_string_pretty(&json).map_err(|e| e.to_string())?)
        .map_err(|e| format!("{}: {e}", out.display()))?;
    eprintln!("wrote {}", out.display());
    Ok(())
}
