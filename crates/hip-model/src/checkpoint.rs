//! Checkpoints: one safetensors file holding the weights (f64), optionally the optimizer state
//! (`optim.*` tensors), and in its metadata the model config (TOML), the training state and
//! provenance (JSON). Written atomically (temporary file + rename).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use candle_core::{DType, Device, Tensor};

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
    // f64 on disk whatever the training dtype, so a file loads the same into either
    let mut tensors = BTreeMap::new();
    for (k, v) in model.params.tensors().iter().chain(optimizer) {
        tensors.insert(k.clone(), v.to_dtype(DType::F64)?);
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
    let mut model = HipModel::new(config, device)?;
    let tensors = candle_core::safetensors::load_buffer(bytes, device).map_err(|e| bad(e.to_string()))?;
    let tensors: BTreeMap<String, Tensor> = tensors.into_iter().collect();
    model.params.assign(&tensors, name)?;
    let optimizer = tensors.into_iter().filter(|(k, _)| k.starts_with("optim.")).collect();
    let training = meta.get(KEY_TRAINING).and_then(|t| serde_json::from_str(t).ok()).unwrap_or(serde_json::json!({}));
    if head_never_trained(&training) {
        model.mark_head_untrained();
    }
    Ok(Checkpoint { model, optimizer, training })
}

/// A training record of a run without a Hessian loss (`train_config` with `w_hessian`,
/// `w_subspace` and `w_modes` all 0: the E+F baseline) whose history has epochs and none with a
/// Hessian validation error (no earlier stage trained the head either): the head is its random
/// initialization. Anything else (no record, a record without its config) counts as trained.
pub fn head_never_trained(training: &serde_json::Value) -> bool {
    let Some(cfg) = training.get("train_config") else { return false };
    let zero = |k: &str| cfg.get(k).and_then(|v| v.as_f64()) == Some(0.0);
    let no_hessian_loss =
        zero("w_hessian") && zero("w_subspace") && cfg.get("w_modes").is_none_or(|v| v.as_f64() == Some(0.0));
    let untrained_history = match training.get("history").and_then(|h| h.as_array()) {
        Some(h) if !h.is_empty() => h.iter().all(|r| r.get("val_hessian_mae").is_none_or(|v| v.is_null())),
        _ => false,
    };
    no_hessian_loss && untrained_history
}

/// The per-epoch training history in a checkpoint's metadata (empty if it has none), read
/// without loading the weights.
pub fn history_of_bytes(bytes: &[u8], name: &str) -> Result<Vec<crate::train::EpochRecord>> {
    let (_, meta) = safetensors::SafeTensors::read_metadata(bytes)
        .map_err(|e| Error::Checkpoint(format!("{name}: not a safetensors file ({e})")))?;
    let training = meta.metadata().as_ref().and_then(|m| m.get(KEY_TRAINING));
    let Some(text) = training else { return Ok(Vec::new()) };
    let v: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| Error::Checkpoint(format!("{name}: {KEY_TRAINING} is not JSON ({e})")))?;
    match v.get("history") {
        None => Ok(Vec::new()),
        Some(h) => {
            serde_json::from_value(h.clone()).map_err(|e| Error::Checkpoint(format!("{name}: training history: {e}")))
        }
    }
}

/// Loads a checkpoint file.
pub fn load(path: &Path, device: &Device) -> Result<Checkpoint> {
    let bytes = std::fs::read(path).map_err(|e| Error::Checkpoint(format!("{}: {e}", path.display())))?;
    load_bytes(&bytes, &path.display().to_string(), device)
}

/// Fields of [`ModelConfig`] fitted to the training data (or a seed), not architecture.
pub const FITTED_FIELDS: [&str; 5] =
    ["reference_energies", "energy_scale", "avg_num_neighbors", "hessian_scale", "seed"];

/// Architecture fields (every field of [`ModelConfig`] but [`FITTED_FIELDS`]) in which `a` and
/// `b` differ, in their serialized order.
pub fn architecture_differences(a: &ModelConfig, b: &ModelConfig) -> Vec<String> {
    let table = |c: &ModelConfig| -> toml::Table { toml::from_str(&c.to_toml()).unwrap_or_default() };
    let (ta, tb) = (table(a), table(b));
    let mut keys: Vec<&String> = ta.keys().chain(tb.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter().filter(|k| !FITTED_FIELDS.contains(&k.as_str()) && ta.get(*k) != tb.get(*k)).cloned().collect()
}

/// Loads a checkpoint and checks that its architecture equals `expected` (every field but the
/// fitted ones, [`FITTED_FIELDS`]); a mismatch is an error naming the fields.
pub fn load_expecting(path: &Path, expected: &ModelConfig, device: &Device) -> Result<Checkpoint> {
    let ck = load(path, device)?;
    let diffs = architecture_differences(&ck.model.config, expected);
    if !diffs.is_empty() {
        return Err(Error::Checkpoint(format!("{}: config mismatch in {}", path.display(), diffs.join(", "))));
    }
    Ok(ck)
}

/// A model of architecture `config` whose backbone (every parameter outside `head.*`, and the
/// fitted reference energies, energy scale and neighbour count) is that of the checkpoint at
/// `path`; its head is freshly initialized with output scale `hessian_scale`. The backbone fields
/// of `config` must equal the checkpoint's (an error names those that differ).
pub fn with_backbone_of(path: &Path, mut config: ModelConfig, hessian_scale: f64, device: &Device) -> Result<HipModel> {
    let ck = load(path, device)?;
    let src = &ck.model.config;
    let head_fields = [
        "head_irreps",
        "hessian_cutoff",
        "sum_rule",
        "diag_correction",
        "head_num_bessel",
        "head_pair_tp",
        "head_radial_scalars",
        "head_envelope",
        "head_layers",
        "head_radial_hidden",
        "head_pair_potential",
    ];
    let diffs: Vec<String> =
        architecture_differences(src, &config).into_iter().filter(|k| !head_fields.contains(&k.as_str())).collect();
    if !diffs.is_empty() {
        return Err(Error::Checkpoint(format!(
            "{}: the backbone differs from the model config in {}",
            path.display(),
            diffs.join(", ")
        )));
    }
    config.reference_energies = src.reference_energies.clone();
    config.energy_scale = src.energy_scale;
    config.avg_num_neighbors = src.avg_num_neighbors;
    config.hessian_scale = hessian_scale;
    let model = HipModel::new(config, device)?;
    for (name, var) in model.params.vars() {
        if name.starts_with("head.") {
            continue;
        }
        let t = ck.model.params.vars().get(name).ok_or_else(|| {
            Error::Checkpoint(format!("{}: the checkpoint has no backbone parameter {name}", path.display()))
        })?;
        if t.dims() != var.dims() {
            return Err(Error::Checkpoint(format!("{}: backbone parameter {name} has another shape", path.display())));
        }
        var.set(t.as_tensor())?;
    }
    Ok(model)
}
