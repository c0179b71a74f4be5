//! Block-sparse direct Hessians of large alkane bundles: time, stored pairs and memory of the
//! blocks, at the model's Hessian cutoff or another one.
//!
//! `cargo run --release -p hip-bench --example large [-- --cutoff 5 N1 N2 ...]`
//! (default sizes 100 200 500 1000 2000; default cutoff: the model's `hessian_cutoff`).

use std::time::Instant;

use candle_core::Device;
use hip_bench::molecules::alkane_bundle;
use hip_model::{HipModel, ModelConfig};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut cfg = ModelConfig::default();
    let mut sizes = Vec::new();
    let mut k = 0;
    while k < args.len() {
        if args[k] == "--cutoff" {
            cfg.hessian_cutoff = args[k + 1].parse().expect("cutoff in Å");
            k += 2;
        } else {
            sizes.push(args[k].parse::<usize>().expect("atom count"));
            k += 1;
        }
    }
    if sizes.is_empty() {
        sizes = vec![100, 200, 500, 1000, 2000];
    }
    let model = HipModel::new(cfg.clone(), &Device::Cpu).expect("model");
    println!("hessian_cutoff {} Å", cfg.hessian_cutoff);
    println!("{:>7} {:>10} {:>12} {:>12} {:>10}", "atoms", "ms", "pairs", "pairs/atom", "blocks MB");
    for n in sizes {
        let mol = alkane_bundle(n);
        let t0 = Instant::now();
        let h = model.hessian_blocks(&mol).expect("blocks");
        let ms = t0.elapsed().as_secs_f64() * 1e3;
        let p = h.pairs().len();
        println!("{n:>7} {ms:>10.1} {p:>12} {:>12.1} {:>10.1}", p as f64 / n as f64, h.bytes() as f64 / 1e6);
    }
}
