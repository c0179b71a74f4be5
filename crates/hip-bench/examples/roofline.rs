//! Where the time goes, against what one core can do (issue 35, item 1): per candle op kind,
//! calls, seconds, flops (matmul) or elements (the rest), achieved rate, for three jobs of the
//! shipped model — energy + forces and the direct Hessian of a 30-atom alkane, and training
//! passes of the shipped HIP configuration — beside the attainable rates of one core: a large
//! matmul, the model's own matmul shapes, and an element-wise multiply in and out of cache.
//!
//! `RAYON_NUM_THREADS=1 CANDLE_GRAD_DO_NOT_DETACH=1 cargo run --release -p hip-bench --example
//! roofline -- [--atoms 30] [--samples 16] [--dtype f64|f32] [--json OUT] [--by-layout ROWS]`
//!
//! Times are wall time of each op (`candle_core::op_stats`), so run it on a quiet core; the
//! printed `cpu/wall` of each job says how quiet it was (1.00: the job had its core).
//! "outside ops" is the job's wall time not spent in any storage op: graph building, autograd
//! bookkeeping, tensor creation, index building.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use candle_core::op_stats::{self, OpStat};
use candle_core::{DType, Device, Tensor};
use hip_bench::molecules::alkane;
use hip_model::train::{RunOptions, TrainConfig, fit_statistics, load_split_spread};
use hip_model::{HessianMethod, HipModel, ModelConfig, Precision};

fn arg(name: &str) -> Option<String> {
    let a: Vec<String> = std::env::args().collect();
    a.iter().position(|x| x == name).and_then(|k| a.get(k + 1).cloned())
}

fn cpu_s() -> f64 {
    hip_model::train::process_cpu_seconds().unwrap_or(f64::NAN)
}

/// Runs `f` `reps` times with op counting on; returns the counts and (wall, cpu) seconds.
fn measure(reps: usize, mut f: impl FnMut()) -> (BTreeMap<&'static str, OpStat>, f64, f64) {
    f(); // warm-up
    op_stats::take();
    op_stats::enable(true);
    let (t0, c0) = (Instant::now(), cpu_s());
    for _ in 0..reps {
        f();
    }
    let (wall, cpu) = (t0.elapsed().as_secs_f64(), cpu_s() - c0);
    op_stats::enable(false);
    (op_stats::take(), wall, cpu)
}

/// Matmul GFLOP/s of `(m, k) · (k, n)` on this thread, best of a few runs of ≥ 0.2 s.
fn matmul_rate(m: usize, k: usize, n: usize, dtype: DType) -> f64 {
    let a = Tensor::ones((m, k), dtype, &Device::Cpu).expect("a");
    let b = Tensor::ones((k, n), dtype, &Device::Cpu).expect("b");
    let flops = 2.0 * (m * n * k) as f64;
    let reps = ((2e8 / flops).ceil() as usize).max(1);
    (0..3)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..reps {
                let _ = a.matmul(&b).expect("matmul");
            }
            flops * reps as f64 / t.elapsed().as_secs_f64() / 1e9
        })
        .fold(0.0, f64::max)
}

/// Element-wise multiply, G elements/s, for vectors of `len` elements (best of 3).
fn mul_rate(len: usize, dtype: DType) -> f64 {
    let a = Tensor::ones(len, dtype, &Device::Cpu).expect("a");
    let reps = ((5e7 / len as f64).ceil() as usize).max(1);
    (0..3)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..reps {
                let _ = (&a * &a).expect("mul");
            }
            (len * reps) as f64 / t.elapsed().as_secs_f64() / 1e9
        })
        .fold(0.0, f64::max)
}

fn table(job: &str, stats: &BTreeMap<&'static str, OpStat>, wall: f64, cpu: f64, reps: usize) -> serde_json::Value {
    let in_ops: f64 = stats.values().map(|s| s.seconds).sum();
    let mut rows: Vec<(&&str, &OpStat)> = stats.iter().collect();
    rows.sort_by(|a, b| b.1.seconds.total_cmp(&a.1.seconds));
    println!("\n### {job}: {:.2} ms per pass, cpu/wall {:.2}", 1e3 * wall / reps as f64, cpu / wall);
    println!("| op | calls/pass | share of wall | GFLOP/s | G elements/s | mean elements |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    let mut out = Vec::new();
    for (name, s) in rows.iter().take(14) {
        let gf = if s.flops > 0 { format!("{:.2}", s.flops as f64 / s.seconds / 1e9) } else { "–".into() };
        println!(
            "| {name} | {:.0} | {:.1} % | {gf} | {:.3} | {:.0} |",
            s.calls as f64 / reps as f64,
            100.0 * s.seconds / wall,
            s.elements as f64 / s.seconds / 1e9,
            s.elements as f64 / s.calls.max(1) as f64
        );
    }
    for (name, s) in &rows {
        out.push(serde_json::json!({"op": name, "calls": s.calls, "seconds": s.seconds, "flops": s.flops, "elements": s.elements}));
    }
    let calls: u64 = stats.values().map(|s| s.calls).sum();
    let flops: u64 = stats.values().map(|s| s.flops).sum();
    println!(
        "| outside ops | | {:.1} % | | | |\n\n{:.0} ops per pass ({:.1} µs each on average, in ops); matmul flops per pass {:.3} G, {:.2} GFLOP/s over the whole pass",
        100.0 * (wall - in_ops) / wall,
        calls as f64 / reps as f64,
        1e6 * in_ops / calls.max(1) as f64,
        flops as f64 / reps as f64 / 1e9,
        flops as f64 / wall / 1e9
    );
    serde_json::json!({"job": job, "reps": reps, "wall_s": wall, "cpu_s": cpu, "ops": out})
}

/// The `rows` layouts of binary ops and reductions that took the most time in the training
/// passes (`--by-layout ROWS`), with their share of the passes' wall time `wall`.
fn layout_table(layouts: &BTreeMap<String, OpStat>, wall: f64, rows: usize) {
    let mut v: Vec<_> = layouts.iter().collect();
    v.sort_by(|a, b| b.1.seconds.total_cmp(&a.1.seconds));
    println!("\n## Training passes: binary ops and reductions by layout (top {rows})\n");
    println!("| op, shape, strides | calls | share of wall | G elements/s |\n| --- | ---: | ---: | ---: |");
    for (key, s) in v.into_iter().take(rows) {
        let rate = s.elements as f64 / s.seconds.max(1e-12) / 1e9;
        println!("| {key} | {} | {:.1} % | {rate:.2} |", s.calls, 100.0 * s.seconds / wall);
    }
}

fn main() {
    hip_model::enable_second_order_autodiff();
    let atoms: usize = arg("--atoms").map_or(30, |s| s.parse().expect("--atoms: a number of atoms"));
    let n_samples: usize = arg("--samples").map_or(16, |s| s.parse().expect("--samples: a number of samples"));
    let precision: Precision = arg("--dtype").map_or(Precision::F64, |s| s.parse().expect("--dtype: f64 or f32"));
    let dtype = precision.dtype();
    println!("## Attainable on this core ({dtype:?})\n");
    println!("| kernel | rate |\n| --- | ---: |");
    let mut attain = Vec::new();
    for (m, k, n) in [(512, 512, 512), (4096, 16, 16), (4096, 16, 512), (4096, 45, 40), (4096, 9, 9)] {
        let r = matmul_rate(m, k, n, dtype);
        println!("| matmul ({m}×{k})·({k}×{n}) | {r:.2} GFLOP/s |");
        attain.push(serde_json::json!({"kernel": format!("matmul {m}x{k}x{n}"), "gflops": r}));
    }
    for len in [4096usize, 65_536, 4_194_304] {
        let r = mul_rate(len, dtype);
        println!("| multiply, {len} elements | {r:.3} G elements/s |");
        attain.push(serde_json::json!({"kernel": format!("mul {len}"), "gelements": r}));
    }

    let ckpt = hip_model::checkpoint::load(Path::new("models/hip-default.safetensors"), &Device::Cpu).expect("model");
    let model = ckpt.model.to(&Device::Cpu, dtype).expect("dtype");
    let mol = alkane(atoms);
    let mut jobs = Vec::new();
    let (s, w, c) = measure(50, || {
        model.predict_energy_forces(&mol).expect("E+F");
    });
    jobs.push(table(&format!("energy + forces, {atoms} atoms"), &s, w, c, 50));
    let (s, w, c) = measure(50, || {
        model.hessian(&mol, HessianMethod::Direct).expect("direct");
    });
    jobs.push(table(&format!("direct Hessian alone, {atoms} atoms"), &s, w, c, 50));

    // training passes of the shipped HIP configuration over `n_samples` samples
    let read = |p: &str| std::fs::read_to_string(p).expect(p);
    let mut mcfg = ModelConfig::from_toml(&read("models/v2/model-prod.toml")).expect("model config");
    let base = TrainConfig::from_toml(&read("models/v2/train-hip-e2e.toml")).expect("train config");
    let train = load_split_spread(Path::new("datasets/gfn2-train.h5"), "train", n_samples).expect("data");
    let val = vec![train[0].clone()];
    let (refs, scale, nn) = fit_statistics(&train, &mcfg.species, mcfg.cutoff).expect("statistics");
    (mcfg.reference_energies, mcfg.energy_scale, mcfg.avg_num_neighbors) = (refs, scale, nn);
    mcfg.hessian_scale = hip_model::train::fit_hessian_scale(&train);
    let out = std::env::temp_dir().join(format!("hip-roofline-{}.safetensors", std::process::id()));
    let cfg = TrainConfig { epochs: 1, max_train: 0, max_val: 1, time_budget_s: 0.0, dtype: precision, ..base };
    let opts = RunOptions {
        checkpoint: out.clone(),
        resume: false,
        stop_after: 0,
        provenance: serde_json::Value::Null,
        progress: false,
        sample_repeats: Vec::new(),
    };
    let by_layout = arg("--by-layout").map(|s| s.parse::<usize>().expect("--by-layout: a number of rows"));
    op_stats::enable_by_layout(by_layout.is_some());
    let (s, w, c) = measure(3, || {
        let m = HipModel::with_dtype(mcfg.clone(), &Device::Cpu, dtype).expect("model");
        hip_model::train::train(m, &train, &val, &cfg, &opts).expect("train");
    });
    op_stats::enable_by_layout(false);
    let layouts = op_stats::take_by_layout();
    if let Some(rows) = by_layout {
        layout_table(&layouts, w, rows);
    }
    jobs.push(table(
        &format!("training pass over {} samples (batch {}), shipped HIP configuration", train.len(), cfg.batch_size),
        &s,
        w,
        c,
        3,
    ));
    let _ = std::fs::remove_file(&out);
    if let Some(path) = arg("--json") {
        let j = serde_json::json!({"dtype": format!("{dtype:?}"), "attainable": attain, "jobs": jobs,
            "command": std::env::args().collect::<Vec<_>>().join(" ")});
        std::fs::write(&path, serde_json::to_string_pretty(&j).expect("json")).expect("write json");
    }
}
