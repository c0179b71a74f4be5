//! Time per Hessian of the three providers on the same random-weight default model.
//!
//! `cargo run --release -p hip-bench --example speed [-- [--fast] [--model CKPT] N1 N2 ...]` (default 5 10 20 30;
//! `--fast` skips autodiff and FD, e.g. to profile the direct path under `perf record`).
//! Molecules are the benchmark alkanes of `hip_bench::molecules`. `hip bench` does this with
//! memory, scaling and reports; this example is the quick look.

use std::time::Instant;

use candle_core::Device;
use hip_bench::molecules::alkane;
use hip_model::{HessianMethod, HipModel, ModelConfig};

fn time<F: FnMut()>(mut f: F, reps: usize) -> f64 {
    f(); // warm-up
    let mut t: Vec<f64> = (0..reps)
        .map(|_| {
            let t0 = Instant::now();
            f();
            t0.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

fn main() {
    hip_model::enable_second_order_autodiff();
    let fast = std::env::args().any(|a| a == "--fast");
    let sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() { vec![5, 10, 20, 30] } else { sizes };
    let args: Vec<String> = std::env::args().collect();
    let model = match args.iter().position(|a| a == "--model") {
        Some(k) => {
            hip_model::checkpoint::load(std::path::Path::new(&args[k + 1]), &Device::Cpu).expect("checkpoint").model
        }
        None => HipModel::new(ModelConfig::default(), &Device::Cpu).expect("model"),
    };
    println!(
        "{:>6} {:>10} {:>10} {:>10} {:>12} {:>12} {:>9} {:>9}",
        "atoms", "E+F ms", "direct ms", "dir+F ms", "autodiff ms", "fd ms", "AD/dir", "FD/dir"
    );
    for n in sizes {
        let mol = alkane(n);
        let reps = if fast {
            200
        } else if n <= 10 {
            7
        } else {
            3
        };
        let ef = time(|| drop(model.predict_energy_forces(&mol).expect("ef")), reps);
        let direct = time(|| drop(model.hessian(&mol, HessianMethod::Direct).expect("direct")), reps);
        let direct_f = time(|| drop(model.predict(&mol, HessianMethod::Direct).expect("direct")), reps);
        let (ad, fd) = if fast {
            (f64::NAN, f64::NAN)
        } else {
            (
                time(|| drop(model.hessian(&mol, HessianMethod::Autodiff).expect("ad")), reps.min(3)),
                time(|| drop(model.hessian(&mol, HessianMethod::FiniteDifference { delta: 0.01 }).expect("fd")), 1),
            )
        };
        println!(
            "{n:>6} {ef:>10.2} {direct:>10.2} {direct_f:>10.2} {ad:>12.1} {fd:>12.1} {:>9.1} {:>9.1}",
            ad / direct,
            fd / direct
        );
    }
}
