//! f32 against f64: the same weights in either precision give the same energies, forces and
//! Hessians (direct, autodiff, FD) up to f32 rounding; the interface stays f64; f32 training runs,
//! lowers its loss, and saves f64 checkpoints that resume into f32.

use candle_core::{DType, Device};
use hip_core::Molecule;
use hip_model::train::{RunOptions, TrainConfig, fit_hessian_scale, fit_statistics, train};
use hip_model::{HessianMethod, HipModel, ModelConfig, Precision};
use irreps::rotation::SplitMix64;

/// A v2-type model (odd head inputs, pair product, sum rule + correction, the backbone's node
/// product) with realistic fitted scales, so that outputs have the magnitudes of a trained model's.
fn model() -> HipModel {
    let cfg = ModelConfig {
        node_product: true,
        head_irreps: "4x0e+3x1o+2x1e+2x2e".into(),
        head_pair_tp: true,
        head_radial_scalars: true,
        head_num_bessel: 12,
        sum_rule: true,
        diag_correction: true,
        hessian_scale: 3.0,
        energy_scale: 1.5,
        reference_energies: vec![-13.6, -1029.0, -1485.0, -2040.0],
        seed: 11,
        ..Default::default()
    };
    HipModel::new(cfg, &Device::Cpu).unwrap()
}

fn molecule(seed: u64, n: usize) -> Molecule {
    let mut rng = SplitMix64(seed);
    let z = [8u8, 6, 1, 1, 7, 1, 1, 6, 1, 1];
    let mut pos: Vec<[f64; 3]> = Vec::new();
    while pos.len() < n {
        let p = [1.6 * rng.normal(), 1.2 * rng.normal(), 0.9 * rng.normal()];
        if pos.iter().all(|q| (0..3).map(|k| (p[k] - q[k]).powi(2)).sum::<f64>() > 0.9) {
            pos.push(p);
        }
    }
    Molecule::new(z[..n].to_vec(), pos).unwrap()
}

/// max |a − b| / max(1, max |b|): relative to the output's magnitude, absolute below 1.
fn rel_err(a: &[f64], b: &[f64]) -> f64 {
    let scale = b.iter().fold(1.0f64, |m, x| m.max(x.abs()));
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max) / scale
}

/// f32 rounds each operation to 2⁻²⁴ ≈ 6e-8 relative; through two interaction layers, the head
/// and a backward pass the errors add up over a few hundred operations with cancellation in the
/// sums (measured: up to 3e-7 of the output scale at 3–10 atoms), so 1e-5 is a bound with a 30×
/// margin that still fails if any part silently ran in the wrong precision (errors of order 1)
/// or lost the f64 positions (bonds differenced in f32 at 1e3 Å from the origin move by up to
/// 6e-5 Å — see the next test).
const F32_REL_TOL: f64 = 1e-5;

#[test]
fn f32_agrees_with_f64_for_every_output() {
    let m64 = model();
    let m32 = m64.to(&Device::Cpu, DType::F32).unwrap();
    assert_eq!(m32.dtype(), DType::F32);
    assert_eq!(m64.dtype(), DType::F64);
    for (seed, n) in [(1, 3), (2, 7), (3, 10)] {
        let mol = molecule(seed, n);
        let (e64, f64_) = m64.predict_energy_forces(&mol).unwrap();
        let (e32, f32_) = m32.predict_energy_forces(&mol).unwrap();
        // energies include ~1e3 eV reference energies, summed in f64: the network's part is
        // what f32 rounds, so compare relative to the atomic-energy scale, not the total
        assert!((e64 - e32).abs() <= F32_REL_TOL * n as f64, "{n} atoms: E {e64} vs {e32}");
        let (a, b): (Vec<f64>, Vec<f64>) = (f32_.concat(), f64_.concat());
        assert!(rel_err(&a, &b) < F32_REL_TOL, "{n} atoms: forces {}", rel_err(&a, &b));
        for method in [HessianMethod::Direct, HessianMethod::Autodiff] {
            let h64 = m64.hessian(&mol, method).unwrap();
            let h32 = m32.hessian(&mol, method).unwrap();
            let err = rel_err(h32.as_slice(), h64.as_slice());
            eprintln!("{n} atoms, {method:?}: relative error {err:.2e}");
            assert!(err < F32_REL_TOL, "{n} atoms, {method:?}: {err}");
        }
    }
}

#[test]
fn f32_keeps_positions_in_f64() {
    // a molecule far from the origin: in f32, coordinates near 1e3 Å are spaced 6e-5 Å apart,
    // so differencing them in f32 would move every bond by up to that much; in f64 the
    // translated molecule gives the same outputs to f32 rounding of the network
    let m32 = model().to(&Device::Cpu, DType::F32).unwrap();
    let mol = molecule(4, 6);
    let far =
        Molecule::new(mol.numbers.clone(), mol.positions.iter().map(|p| p.map(|x| x + 1000.0)).collect()).unwrap();
    let h = m32.hessian(&mol, HessianMethod::Direct).unwrap();
    let hf = m32.hessian(&far, HessianMethod::Direct).unwrap();
    assert!(rel_err(hf.as_slice(), h.as_slice()) < F32_REL_TOL);
}

#[test]
fn to_round_trips_weights() {
    let m64 = model();
    let back = m64.to(&Device::Cpu, DType::F32).unwrap().to(&Device::Cpu, DType::F64).unwrap();
    for (name, t) in m64.params.tensors() {
        let a: Vec<f64> = t.flatten_all().unwrap().to_vec1().unwrap();
        let b: Vec<f64> = back.params.tensors()[&name].flatten_all().unwrap().to_vec1().unwrap();
        // one rounding to f32: relative 2^-24 per weight
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() <= x.abs() * 2f64.powi(-24), "{name}: {x} vs {y}");
        }
    }
    assert!(m64.to(&Device::Cpu, DType::BF16).is_err(), "only f64 and f32 are supported");
}

fn smoke_samples() -> Vec<hip_core::io::dataset::Sample> {
    let f = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../hip-core/tests/fixtures/smoke.h5");
    hip_model::train::load_split(&f, "train").unwrap()
}

#[test]
fn f32_training_lowers_the_loss_and_resumes_from_an_f64_checkpoint() {
    let data = smoke_samples();
    let dir = std::env::temp_dir().join(format!("hip-model-precision-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ck = dir.join("f32.safetensors");
    let cfg = TrainConfig {
        epochs: 6,
        batch_size: 4,
        lr: 1e-2,
        w_subspace: 0.0,
        dtype: Precision::F32,
        ..Default::default()
    };
    let opts = RunOptions {
        checkpoint: ck.clone(),
        resume: true,
        stop_after: 3,
        provenance: serde_json::json!({}),
        progress: false,
        sample_repeats: Vec::new(),
    };
    let fresh = || {
        let mut c = model().config.clone();
        let (refs, scale, nn) = fit_statistics(&data, &c.species, c.cutoff).unwrap();
        (c.reference_energies, c.energy_scale, c.avg_num_neighbors) = (refs, scale, nn);
        c.hessian_scale = fit_hessian_scale(&data);
        HipModel::new(c, &Device::Cpu).unwrap()
    };
    let (m, hist) = train(fresh(), &data, &data, &cfg, &opts).unwrap();
    assert_eq!(m.dtype(), DType::F32);
    assert_eq!(hist.len(), 3);
    // the file holds f64 weights (loadable by any f64 reader)
    let bytes = std::fs::read(&ck).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    assert!(st.tensors().iter().all(|(_, v)| v.dtype() == safetensors::Dtype::F64));
    // resume: three more epochs continue the same history in f32
    let (m, hist) = train(fresh(), &data, &data, &cfg, &opts).unwrap();
    assert_eq!(m.dtype(), DType::F32);
    assert_eq!(hist.len(), 6);
    let first = hist.first().unwrap().train_loss;
    let last = hist.last().unwrap().train_loss;
    assert!(last.is_finite() && last < first, "loss {first} -> {last}");
}
