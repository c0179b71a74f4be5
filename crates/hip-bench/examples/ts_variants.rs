//! Transition-state searches of `hip report` (the same TSs, displacements and grader) with a
//! chosen set of Hessian variants: the experiment behind a change of the report's variants.
//!
//! ```text
//! cargo run --release -p hip-bench --example ts_variants -- \
//!     [--model models/hip-default.safetensors] [--max-ts 24] [--out reports/v2/ts-variants.json] \
//!     [--variants hip,hip_secant,autodiff,autodiff_secant,quasi_newton]
//! ```
//!
//! Variants: `hip` (direct Hessian every step, the paper's protocol), `hip_secant` (the same, each
//! fresh direct Hessian secant-corrected with the last step, `TsOptions::secant_update`),
//! `quasi_newton` (direct once, Bofill updates), `autodiff`, `autodiff_secant`. Every endpoint is
//! graded by the model's autodiff Hessian. Prints the summary per variant and writes the runs.

use std::path::PathBuf;
use std::sync::Arc;

use candle_core::Device;
use hip_bench::ts_bench::{self, Variant};
use hip_model::HessianMethod;

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

fn main() -> Result<(), String> {
    hip_model::enable_second_order_autodiff();
    let args: Vec<String> = std::env::args().collect();
    let model_path = PathBuf::from(arg(&args, "--model", "models/hip-default.safetensors"));
    let max_ts: usize = arg(&args, "--max-ts", "24").parse().map_err(|e| format!("--max-ts: {e}"))?;
    let out = PathBuf::from(arg(&args, "--out", "reports/v2/ts-variants.json"));
    let variants = arg(&args, "--variants", "hip,hip_secant").split(',').map(variant).collect::<Result<Vec<_>, _>>()?;
    let model = Arc::new(hip_model::checkpoint::load(&model_path, &Device::Cpu).map_err(|e| e.to_string())?.model);
    let data = [
        (PathBuf::from("datasets/gfn2-train.h5"), "test".to_string()),
        (PathBuf::from("datasets/wb97x-small.h5"), "all".to_string()),
    ];
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
    let runs = ts_bench::ts_searches_with(model, &cases, &[0.05, 0.1], 1, &variants).map_err(|e| e.to_string())?;
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
    let json = serde_json::json!({
        "model": model_path, "max_ts": max_ts, "sigmas": [0.05, 0.1], "wall_s": t0.elapsed().as_secs_f64(),
        "summary": summary, "runs": runs,
    });
    std::fs::write(&out, serde_json::to_string_pretty(&json).map_err(|e| e.to_string())?)
        .map_err(|e| format!("{}: {e}", out.display()))?;
    eprintln!("wrote {}", out.display());
    Ok(())
}
