//! Finding and loading a model: `--model PATH`, or the default model embedded at build time.

use std::path::Path;

use hip_model::HipModel;

/// Loads `path`, or the embedded default (`hip_model::default_model`).
pub fn load_model(path: Option<&Path>) -> Result<HipModel, String> {
    hip_model::default_model::load(path).map_err(|e| match (path, e) {
        (None, hip_model::Error::Checkpoint(m)) if hip_model::default_model::bytes().is_none() => {
            m.replace("a model path", "--model PATH")
        }
        (_, e) => e.to_string(),
    })
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
