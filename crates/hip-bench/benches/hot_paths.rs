//! Criterion benches of the hot paths: backbone forward, Hessian head + assembly, one autodiff
//! row, one finite-difference displacement (random-weight default model, a 20-atom alkane), and a
//! block-sparse direct Hessian of a 500-atom alkane bundle.

use candle_core::{Device, Var};
use criterion::{Criterion, criterion_group, criterion_main};
use hip_bench::molecules::{alkane, alkane_bundle};
use hip_model::graph::Batch;
use hip_model::{HipModel, ModelConfig};

fn benches(c: &mut Criterion) {
    hip_model::enable_second_order_autodiff();
    let model = HipModel::new(ModelConfig::default(), &Device::Cpu).unwrap();
    let mol = alkane(20);
    let batch = Batch::new(&[&mol], &model.config, &Device::Cpu).unwrap();
    c.bench_function("backbone_forward_20", |b| b.iter(|| model.node_features(&batch, &batch.positions).unwrap()));
    c.bench_function("energy_plus_head_forward_20", |b| {
        b.iter(|| model.forward(&batch, &batch.positions, true).unwrap())
    });
    c.bench_function("energy_forward_20", |b| b.iter(|| model.forward(&batch, &batch.positions, false).unwrap()));
    c.bench_function("autodiff_one_row_20", |b| {
        b.iter(|| {
            let pos = Var::from_tensor(&batch.positions).unwrap();
            let out = model.forward(&batch, pos.as_tensor(), false).unwrap();
            let g = out.energies.sum_all().unwrap().backward().unwrap().get(pos.as_tensor()).unwrap().clone();
            g.flatten_all().unwrap().narrow(0, 0, 1).unwrap().sum_all().unwrap().backward().unwrap()
        })
    });
    c.bench_function("fd_one_displacement_20", |b| b.iter(|| model.predict_energy_forces(&mol).unwrap()));
    let big = alkane_bundle(500);
    let mut g = c.benchmark_group("large");
    g.sample_size(10);
    g.bench_function("block_sparse_direct_500", |b| b.iter(|| model.hessian_blocks(&big).unwrap()));
    g.finish();
}

criterion_group!(hot, benches);
criterion_main!(hot);
