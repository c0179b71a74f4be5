//! Finding and loading a model: `--model PATH`, or the default model embedded at build time,
//! placed on `--device` in `--dtype` ([`ComputeArgs`]).

use std::path::Path;

use clap::Args;
use hip_model::{HipModel, Precision};

/// Where and in what precision a model command computes (every model command flattens these).
#[derive(Args, Debug, Clone, Default)]
pub struct ComputeArgs {
    /// Device: cpu, cuda or cuda:N [default: $HIP_DEVICE, else cpu]. CUDA needs a build with
    /// `--features cuda`.
    #[arg(long)]
    pub device: Option<String>,
    /// Precision of the network's weights and arithmetic: f64 or f32 [default: f64; for `hip
    /// train`, the training config's `dtype`]. Inputs and outputs stay f64.
    #[arg(long)]
    pub dtype: Option<String>,
}

impl ComputeArgs {
    /// The device (`--device`, `$HIP_DEVICE`, else the CPU).
    pub fn device(&self) -> Result<candle_core::Device, String> {
        hip_model::compute::device(self.device.as_deref()).map_err(|e| e.to_string())
    }

    /// `--dtype`, if given.
    pub fn precision(&self) -> Result<Option<Precision>, String> {
        self.dtype.as_deref().map(|s| s.parse::<Precision>().map_err(|e| format!("--dtype: {e}"))).transpose()
    }

    /// Loads `path` (or the embedded default) onto the device in the precision.
    pub fn load(&self, path: Option<&Path>) -> Result<HipModel, String> {
        let (device, precision) = (self.device()?, self.precision()?.unwrap_or_default());
        let model = load_model(path)?;
        if device.is_cpu() && precision == Precision::F64 {
            return Ok(model);
        }
        model.to(&device, precision.dtype()).map_err(|e| e.to_string())
    }
}

/// Loads `path`, or the embedded default (`hip_model::default_model`), on the CPU in f64.
pub fn load_model(path: Option<&Path>) -> Result<HipModel, String> {
    hip_model::default_model::load(path).map_err(|e| match (path, e) {
        (None, hip_model::Error::Checkpoint(m)) if hip_model::default_model::bytes().is_none() => {
            m.replace("a model path", "--model PATH")
        }
        (_, e) => e.to_string(),
    })
}

/// The per-epoch training history stored in the checkpoint `path` (or the embedded default).
pub fn training_history(path: Option<&Path>) -> Result<Vec<hip_model::train::EpochRecord>, String> {
    let (bytes, name) = match path {
        Some(p) => (std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()))?, p.display().to_string()),
        None => match hip_model::default_model::bytes() {
            Some(b) => (b.to_vec(), "embedded default model".to_string()),
            None => return Ok(Vec::new()),
        },
    };
    hip_model::checkpoint::history_of_bytes(&bytes, &name).map_err(|e| e.to_string())
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
