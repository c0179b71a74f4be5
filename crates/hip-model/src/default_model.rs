//! The default model, embedded at build time from `models/hip-default.safetensors` (by
//! `build.rs`, when that file exists), and [`load`]: a given checkpoint or that default.

use std::path::Path;

use candle_core::Device;

use crate::{Error, HipModel, Result, checkpoint};

#[cfg(has_default_model)]
const BYTES: Option<&[u8]> = Some(include_bytes!(env!("HIP_DEFAULT_MODEL_PATH")));
#[cfg(not(has_default_model))]
const BYTES: Option<&[u8]> = None;

/// The embedded checkpoint's bytes, if this build has one.
pub fn bytes() -> Option<&'static [u8]> {
    BYTES
}

/// Loads the checkpoint at `path` on the CPU, or the embedded default model when `path` is `None`.
pub fn load(path: Option<&Path>) -> Result<HipModel> {
    match path {
        Some(p) => Ok(checkpoint::load(p, &Device::Cpu)?.model),
        None => match BYTES {
            Some(b) => Ok(checkpoint::load_bytes(b, "embedded default model", &Device::Cpu)?.model),
            None => Err(Error::Checkpoint(
                "this build has no default model (models/hip-default.safetensors was absent at build time): pass a model path"
                    .into(),
            )),
        },
    }
}
