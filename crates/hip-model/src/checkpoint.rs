//! Checkpoints: one safetensors file holding the weights (f64), optionally the optimizer state
//! (`optim.*` tensors), and in its metadata the model config (TOML), the training state and
//! provenance (JSON). Written atomically (temporary file + rename).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use candle_core::{Device, Tensor};

use crate::{Error, HipModel, ModelConfig, Result};

/// Metadata keys.
pub const KEY_CONFIG: &str = "hip.model_config";
/// Training state and provenance (JSON).
pub const KEY_TRAINING: &str = "hip.training";
/// Format marker.
pub const KEY_FORMAT: &str = "hip.format";
/// Format marker value.
pub const FORMAT: &str = "hip-model-checkpoint-v1";

/// A loaded checkpoint.
#[derive(Debug)]
pub struct Checkpoint {
    /// The model with its weights.
    pub model: HipModel,
    /// Optimizer tensors (`optim.*`), if saved.
    pub optimizer: BTreeMap<String, Tensor>,
    /// Training state / provenance JSON (empty object if absent).
    pub training: serde_json::Value,
}

/// Writes `model` (+ `optimizer` tensors, + `training` JSON) to `path` atomically.
pub fn save(
    path: &Path,
    model: &HipModel,
    optimizer: &BTreeMap<String, Tensor>,
    training: &serde_json::Value,
) -> Result<()> {
    let mut tensors: BTreeMap<String, Tensor> = model.params.tensors();
    for (k, v) in optimizer {
        tensors.insert(k.clone(), v.clone());
    }
    let mut meta = HashMap::new();
    meta.insert(KEY_FORMAT.to_string(), FORMAT.to_string());
    meta.insert(KEY_CONFIG.to_string(), model.config.to_toml());
    meta.insert(KEY_TRAINING.to_string(), training.to_string());
    let bytes = safetensors::serialize(tensors.iter().map(|(k, v)| (k.as_str(), v)), Some(meta))
        .map_err(|e| Error::Checkpoint(format!("{}: {e}", path.display())))?;
    let tmp = path.with_extension("safetensors.tmp");
    std::fs::write(&tmp, bytes).map_err(|e| Error::Checkpoint(format!("{}: {e}", tmp.display())))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::Checkpoint(format!("{}: {e}", path.display())))?;
    Ok(())
}

/// Loads from bytes (`name` is used in messages).
pub fn load_bytes(bytes: &[u8], name: &str, device: &Device) -> Result<Checkpoint> {
    let bad = |m: String| Error::Checkpoint(format!("{name}: {m}"));
    let (_, meta) =
        safetensors::SafeTensors::read_metadata(bytes).map_err(|e| bad(format!("not a safetensors file ({e})")))?;
    let meta = meta.metadata().clone().unwrap_or_default();
    if meta.get(KEY_FORMAT).map(String::as_str) != Some(FORMAT) {
        return Err(bad(format!("missing {KEY_FORMAT}={FORMAT} metadata: not a hip-rs model")));
    }
    let cfg_text = meta.get(KEY_CONFIG).ok_or_else(|| bad("no model config in the metadata".into()))?;
    let config = ModelConfig::from_toml(cfg_text).map_err(|e| bad(format!("model config: {e}")))?;
    let model = HipModel::new(config, device)?;
    let tensors = candle_core::safetensors::load_buffer(bytes, device).map_err(|e| bad(e.to_string()))?;
    let tensors: BTreeMap<String, Tensor> = tensors.into_iter().collect();
    model.params.assign(&tensors, name)?;
    let optimizer = tensors.into_iter().filter(|(k, _)| k.starts_with("optim.")).collect();
    let training = meta.get(KEY_TRAINING).and_then(|t| serde_json::from_str(t).ok()).unwrap_or(serde_json::json!({}));
    Ok(Checkpoint { model, optimizer, training })
}

/// Loads a checkpoint file.
pub fn load(path: &Path, device: &Device) -> Result<Checkpoint> {
    let bytes = std::fs::read(path).map_err(|e| Error::Checkpoint(format!("{}: {e}", path.display())))?;
    load_bytes(&bytes, &path.display().to_string(), device)
}

/// Loads a checkpoint and checks that its architecture equals `expected` (everything but the
/// fitted reference energies, scale and seed); a mismatch is an error naming the field.
pub fn load_expecting(path: &Path, expected: &ModelConfig, device: &Device) -> Result<Checkpoint> {
    let ck = load(path, device)?;
    let (a, b) = (&ck.model.config, expected);
    let diffs: Vec<&str> = [
        ("species", a.species != b.species),
        ("cutoff", a.cutoff != b.cutoff),
        ("hessian_cutoff", a.hessian_cutoff != b.hessian_cutoff),
        ("num_bessel", a.num_bessel != b.num_bessel),
        ("lmax", a.lmax != b.lmax),
        ("hidden_irreps", a.hidden_irreps != b.hidden_irreps),
        ("num_layers", a.num_layers != b.num_layers),
        ("radial_hidden", a.radial_hidden != b.radial_hidden),
        ("head_irreps", a.head_irreps != b.head_irreps),
        ("sum_rule", a.sum_rule != b.sum_rule),
    ]
    .into_iter()
    .filter(|(_, d)| *d)
    .map(|(n, _)| n)
    .collect();
    if !diffs.is_empty() {
        return Err(Error::Checkpoint(format!("{}: config mismatch in {}", path.display(), diffs.join(", "))));
    }
    Ok(ck)
}
