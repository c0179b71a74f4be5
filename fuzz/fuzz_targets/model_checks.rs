//! What the hip-model fuzz targets check, shared with the corpus replay test
//! (`crates/hip-model/tests/fuzz_corpus.rs` includes this file by path).

use candle_core::Device;
use hip_model::train::{TrainConfig, learning_rate};
use hip_model::{HipModel, ModelConfig};

/// Model configs (TOML): a config that builds a model, or a clean error — never an abort on a
/// giant allocation.
pub fn model_config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(cfg) = ModelConfig::from_toml(text) {
        let _ = HipModel::new(cfg, &Device::Cpu);
    }
}

/// Training configs (TOML): valid, with a finite learning-rate schedule, or a clean error.
pub fn train_config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(cfg) = TrainConfig::from_toml(text) {
        for (step, total) in [(0, 1), (0, 100), (50, 100), (99, 100), (100, 100)] {
            assert!(learning_rate(&cfg, step, total).is_finite());
        }
    }
}

/// Checkpoints (safetensors + metadata): a model or a clean error.
pub fn checkpoint(data: &[u8]) {
    let _ = hip_model::checkpoint::load_bytes(data, "fuzz.safetensors", &Device::Cpu);
}
