//! Replays the committed fuzz corpora (`fuzz/corpus/<target>`: seeds, the inputs the fuzzers
//! kept, and every crash they found, after its fix) through the same checks as the fuzz targets
//! (`fuzz/fuzz_targets/model_checks.rs`), on stable and in seconds. A panic is a failure.

use std::path::PathBuf;

#[path = "../../../fuzz/fuzz_targets/model_checks.rs"]
mod model_checks;

#[path = "../../../fuzz/fuzz_targets/replay.rs"]
mod replay;
use replay::replay;

#[test]
fn model_config_corpus_gives_clean_results() {
    replay("model_config", model_checks::model_config);
}

#[test]
fn train_config_corpus_gives_clean_results() {
    replay("train_config", model_checks::train_config);
}

#[test]
fn checkpoint_corpus_gives_clean_results() {
    replay("checkpoint", model_checks::checkpoint);
}

#[test]
fn a_tiny_checkpoint_and_its_corruptions_load_or_fail_cleanly() {
    // A small real checkpoint (the checkpoint fuzzer's seed: set HIP_WRITE_FUZZ_SEEDS=DIR to
    // write it there), then every 61st truncation and every 7th single-byte corruption of it.
    use candle_core::Device;
    use hip_model::{HipModel, ModelConfig, checkpoint};
    let cfg = ModelConfig {
        species: vec![1, 8],
        reference_energies: vec![0.0; 2],
        hidden_irreps: "4x0e+2x1o+2x1e+1x2e".into(),
        head_irreps: "2x0e+2x1e+2x2e".into(),
        num_layers: 1,
        radial_hidden: 4,
        num_bessel: 4,
        ..Default::default()
    };
    let model = HipModel::new(cfg, &Device::Cpu).expect("a valid config");
    let dir = std::env::temp_dir().join(format!("hip-tiny-ckpt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("tiny.safetensors");
    checkpoint::save(&path, &model, &Default::default(), &serde_json::json!({})).expect("saved");
    let bytes = std::fs::read(&path).expect("written");
    assert!(checkpoint::load_bytes(&bytes, "tiny", &Device::Cpu).is_ok());
    if let Ok(seeds) = std::env::var("HIP_WRITE_FUZZ_SEEDS") {
        std::fs::write(PathBuf::from(seeds).join("tiny.safetensors"), &bytes).expect("seed written");
    }
    for cut in (0..bytes.len()).step_by(61) {
        model_checks::checkpoint(&bytes[..cut]);
    }
    for k in (0..bytes.len()).step_by(7) {
        let mut b = bytes.clone();
        b[k] ^= 0x5a;
        model_checks::checkpoint(&b);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn hostile_configs_are_errors_before_any_allocation() {
    // Each of these was accepted before the configs were validated, and then aborted on a giant
    // allocation, overflowed, or trained with NaN; now each is one clean error naming the field.
    use hip_model::ModelConfig;
    use hip_model::train::TrainConfig;
    let base = ModelConfig::default().to_toml();
    for (key, value) in [
        ("hidden_irreps", "\"100000000x0e\""),
        ("hidden_irreps", "\"1x9000e\""),
        ("head_irreps", "\"4x0e+99999999x2e\""),
        ("num_bessel", "1000000000"),
        ("radial_hidden", "0"),
        ("num_layers", "100000"),
        ("cutoff", "nan"),
        ("cutoff", "-1.0"),
        ("hessian_scale", "inf"),
        ("species", "[1, 1]"),
        ("species", "[0]"),
        ("reference_energies", "[0.0]"),
    ] {
        let text: String = base
            .lines()
            .map(
                |l| if l.split('=').next().map(str::trim) == Some(key) { format!("{key} = {value}") } else { l.into() },
            )
            .collect::<Vec<_>>()
            .join("\n");
        let err = ModelConfig::from_toml(&text).expect_err(&format!("{key} = {value} must be refused"));
        assert!(err.contains(key), "{key} = {value}: {err}");
    }
    // configs for `hip train --model-config` hold 0 placeholders for the fitted scales: they parse,
    // and a model is built only from fitted values
    let template = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models/ablation-v1/G_full_sumrule_corr.toml"),
    )
    .expect("the shipped ablation config");
    let cfg = ModelConfig::from_toml(&template).expect("a training template parses");
    assert_eq!(cfg.avg_num_neighbors, 0.0);
    assert!(
        hip_model::HipModel::new(cfg, &candle_core::Device::Cpu).is_err(),
        "an unfitted scale cannot build a model"
    );
    // every shipped config still parses: training configs in models/, model configs of the ablation
    let models = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models");
    for dir in [models.clone(), models.join("ablation-v1")] {
        for e in std::fs::read_dir(&dir).expect("models directory") {
            let p = e.expect("entry").path();
            if p.extension().is_none_or(|x| x != "toml") {
                continue;
            }
            let text = std::fs::read_to_string(&p).expect("readable");
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if name.starts_with("train") {
                TrainConfig::from_toml(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            } else {
                ModelConfig::from_toml(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            }
        }
    }
    for bad in ["lr = nan", "batch_size = 0", "epochs = 1000000000000", "ema_decay = 1.0", "warmup_fraction = 2.0"] {
        let err = TrainConfig::from_toml(bad).expect_err(bad).to_string();
        assert!(err.contains(bad.split(' ').next().unwrap_or("")), "{bad}: {err}");
    }
}
