//! Time per Hessian of the three providers on the same random-weight default model.
//!
//! `cargo run --release -p hip-model --example speed [-- N1 N2 ...]` (default 5 10 20 30).
//! Molecules are zig-zag alkane chains truncated to N atoms (carbons first).

use std::time::Instant;

use candle_core::Device;
use hip_core::Molecule;
use hip_model::{HessianMethod, HipModel, ModelConfig};

/// A zig-zag C_nH_{2n+2} chain with exactly `n_atoms` atoms (carbons first, then hydrogens).
fn alkane(n_atoms: usize) -> Molecule {
    let n_c = (n_atoms.saturating_sub(2)).div_ceil(3).max(1);
    let mut z = Vec::new();
    let mut p = Vec::new();
    for i in 0..n_c {
        z.push(6u8);
        p.push([1.27 * i as f64, if i % 2 == 0 { 0.0 } else { 0.89 }, 0.0]);
    }
    for i in 0..n_c {
        let c = p[i];
        let up = if i % 2 == 0 { -1.0 } else { 1.0 };
        for s in [-1.0, 1.0] {
            z.push(1);
            p.push([c[0], c[1] + 0.63 * up, 0.89 * s]);
        }
    }
    z.push(1);
    p.push([-1.0, -0.4, 0.0]);
    z.push(1);
    p.push([1.27 * n_c as f64, if n_c % 2 == 0 { -0.4 } else { 1.3 }, 0.0]);
    let mut atoms: Vec<(u8, [f64; 3])> = z.into_iter().zip(p).collect();
    atoms.truncate(n_atoms);
    Molecule::new(atoms.iter().map(|a| a.0).collect(), atoms.iter().map(|a| a.1).collect()).expect("valid")
}

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
    let sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() { vec![5, 10, 20, 30] } else { sizes };
    let model = HipModel::new(ModelConfig::default(), &Device::Cpu).expect("model");
    println!(
        "{:>6} {:>12} {:>12} {:>12} {:>12} {:>9} {:>9}",
        "atoms", "E+F ms", "direct ms", "autodiff ms", "fd ms", "AD/dir", "FD/dir"
    );
    for n in sizes {
        let mol = alkane(n);
        let reps = if n <= 10 { 7 } else { 3 };
        let ef = time(|| drop(model.predict_energy_forces(&mol).expect("ef")), reps);
        let direct = time(|| drop(model.predict(&mol, HessianMethod::Direct).expect("direct")), reps);
        let ad = time(|| drop(model.predict(&mol, HessianMethod::Autodiff).expect("ad")), reps.min(3));
        let fd = time(|| drop(model.predict(&mol, HessianMethod::FiniteDifference { delta: 0.01 }).expect("fd")), 1);
        println!("{n:>6} {ef:>12.2} {direct:>12.2} {ad:>12.1} {fd:>12.1} {:>9.1} {:>9.1}", ad / direct, fd / direct);
    }
}
