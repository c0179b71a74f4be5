//! Finding and loading a model: `--model PATH`, or the default model embedded at build time.

use std::path::Path;

use candle_core::Device;
use hip_model::{HipModel, checkpoint};

/// The embedded default model (`models/hip-default.safetensors` at build time).
#[cfg(has_default_model)]
const DEFAULT_MODEL: Option<&[u8]> = Some(include_bytes!(env!("HIP_DEFAULT_MODEL_PATH")));
#[cfg(not(has_default_model))]
const DEFAULT_MODEL: Option<&[u8]> = None;

/// Loads `path`, or the embedded default.
pub fn load_model(path: Option<&Path>) -> Result<HipModel, String> {
    match path {
        Some(p) => checkpoint::load(p, &Device::Cpu).map(|c| c.model).map_err(|e| e.to_string()),
        None => match DEFAULT_MODEL {
            Some(bytes) => checkpoint::load_bytes(bytes, "embedded default model", &Device::Cpu).map(|c| c.model).map_err(|e| e.to_string()),
            None => Err("this build has no default model (models/hip-default.safetensors was absent at build time): pass --model PATH".into()),
        },
    }
}

/// The model-domain check of `mol` ([`hip_core::domain::check`] at the model's backbone cutoff):
/// an error for coincident atoms; warnings, printed to stderr as `warning: ...` and returned for
/// `--json` output.
pub fn domain_warnings(mol: &hip_core::Molecule, model: &HipModel) -> Result<Vec<String>, String> {
    let w = hip_core::domain::check(mol, model.config.cutoff).map_err(|e| e.to_string())?;
    for m in &w {
        eprintln!("warning: {m}");
    }
    Ok(w)
}
