//! Training on a tiny dataset: the loss goes down, and an interrupted run resumes to bitwise the
//! same weights as an uninterrupted one.

use std::path::PathBuf;

use candle_core::Device;
use hip_model::train::{RunOptions, TrainConfig, fit_statistics, load_split, train};
use hip_model::{HipModel, ModelConfig, checkpoint};

fn data() -> Vec<hip_core::io::dataset::Sample> {
    let f = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../hip-core/tests/fixtures/smoke.h5");
    let mut all = load_split(&f, "train").unwrap();
    all.extend(load_split(&f, "test").unwrap());
    all
}

fn fresh(samples: &[hip_core::io::dataset::Sample]) -> HipModel {
    let mut cfg = ModelConfig {
        hidden_irreps: "8x0e+4x1o+2x1e+2x2e".into(),
        head_irreps: "4x0e+2x1e+2x2e".into(),
        ..Default::default()
    };
    let (refs, scale, nn) = fit_statistics(samples, &cfg.species, cfg.cutoff).unwrap();
    cfg.reference_energies = refs;
    cfg.energy_scale = scale;
    cfg.avg_num_neighbors = nn;
    HipModel::new(cfg, &Device::Cpu).unwrap()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("hip-model-train-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

#[test]
fn loss_decreases_and_resume_is_bitwise_identical() {
    let samples = data();
    let (train_set, val_set) = samples.split_at(16);
    let cfg = TrainConfig { epochs: 12, batch_size: 4, lr: 1e-2, ..Default::default() };
    let opts = |name: &str, stop_after: usize| RunOptions {
        checkpoint: tmp(name),
        resume: true,
        stop_after,
        provenance: serde_json::json!({"test": true}),
        progress: false,
    };
    let (full, hist) = train(fresh(&samples), train_set, val_set, &cfg, &opts("full.safetensors", 0)).unwrap();
    assert_eq!(hist.len(), 12);
    eprintln!("{hist:?}");
    let late = hist[6..].iter().map(|h| h.train_loss).fold(f64::INFINITY, f64::min);
    assert!(late < 0.9 * hist[0].train_loss, "loss did not decrease: {hist:?}");
    // interrupted after 2 epochs, then resumed from the checkpoint
    let _ = train(fresh(&samples), train_set, val_set, &cfg, &opts("part.safetensors", 5)).unwrap();
    let (resumed, hist2) = train(fresh(&samples), train_set, val_set, &cfg, &opts("part.safetensors", 0)).unwrap();
    assert_eq!(hist2.len(), 12);
    let (a, b) = (full.params.tensors(), resumed.params.tensors());
    for (name, t) in &a {
        let (x, y) = (
            t.flatten_all().unwrap().to_vec1::<f64>().unwrap(),
            b[name].flatten_all().unwrap().to_vec1::<f64>().unwrap(),
        );
        assert!(x.iter().zip(&y).all(|(p, q)| p.to_bits() == q.to_bits()), "parameter {name} differs after resume");
    }
    // the checkpoint loads back to the same model, and a mismatched config is refused
    let ck = checkpoint::load(&tmp("full.safetensors"), &Device::Cpu).unwrap();
    assert_eq!(ck.model.config, full.config);
    let other = ModelConfig { hidden_irreps: "4x0e".into(), ..full.config.clone() };
    let e = checkpoint::load_expecting(&tmp("full.safetensors"), &other, &Device::Cpu).unwrap_err().to_string();
    assert!(e.contains("hidden_irreps"), "{e}");
    // corrupt files are clear errors
    std::fs::write(tmp("bad.safetensors"), b"garbage").unwrap();
    let e = checkpoint::load(&tmp("bad.safetensors"), &Device::Cpu).unwrap_err().to_string();
    assert!(e.contains("bad.safetensors"), "{e}");
}
