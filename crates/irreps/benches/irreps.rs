//! Criterion benches: spherical harmonics of 10⁵ vectors (lmax 2 and 4) and one realistic
//! tensor product (32x0e+16x1o+8x2e ⊗ 0e+1o+2e, reference evaluator).

use criterion::{Criterion, criterion_group, criterion_main};
use irreps::rotation::SplitMix64;
use irreps::{Irreps, Normalization, SphericalHarmonics, TensorProduct};
use std::hint::black_box;

fn bench_sh(c: &mut Criterion) {
    let mut rng = SplitMix64(1);
    let vectors: Vec<[f64; 3]> = (0..100_000).map(|_| [rng.normal(), rng.normal(), rng.normal()]).collect();
    for lmax in [2, 4] {
        let sh = SphericalHarmonics::up_to(lmax, true, Normalization::Component);
        c.bench_function(&format!("sh_1e5_vectors_lmax{lmax}"), |b| {
            b.iter(|| black_box(sh.compute(black_box(&vectors))))
        });
        c.bench_function(&format!("sh_jacobian_1e5_vectors_lmax{lmax}"), |b| {
            b.iter(|| black_box(sh.compute_with_jacobian(black_box(&vectors))))
        });
    }
}

fn bench_tp(c: &mut Criterion) {
    let in1: Irreps = "32x0e+16x1o+8x2e".parse().unwrap();
    let in2: Irreps = "0e+1o+2e".parse().unwrap();
    let tp = TensorProduct::fully_connected(&in1, &in2, &in1).unwrap();
    let mut rng = SplitMix64(2);
    let x1: Vec<f64> = (0..in1.dim()).map(|_| rng.normal()).collect();
    let x2: Vec<f64> = (0..in2.dim()).map(|_| rng.normal()).collect();
    let w: Vec<f64> = (0..tp.weight_numel()).map(|_| rng.normal()).collect();
    c.bench_function("tp_fc_32x0e+16x1o+8x2e_x_0e+1o+2e_one_sample", |b| {
        b.iter(|| black_box(tp.forward(black_box(&x1), black_box(&x2), black_box(&w)).unwrap()))
    });
}

criterion_group!(benches, bench_sh, bench_tp);
criterion_main!(benches);
