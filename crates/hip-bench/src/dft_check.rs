//! The DFT check of the report (issue 36): every provider of energy, forces and Hessian — the
//! model's direct and autodiff Hessians, GFN2-xTB itself — graded against ωB97X/6-31G(d) sets
//! (HORM's public sample, `datasets/wb97x-small.h5`) like the paper: mass-weighted,
//! Eckart-projected eigen-metrics ([`hip_model::eval`]), over all samples and over the TSs apart.
//!
//! GFN2-xTB is the level the shipped model is trained on, so its row is the floor of any model
//! trained on it alone.

use std::path::PathBuf;

use hip_core::io::dataset::Sample;
use hip_model::eval::{EvalReport, evaluate_with};
use hip_model::{Prediction, Result};
use hip_tasks::metrics::HessianMetrics;
use serde::Serialize;

/// One provider: its label and its prediction at a molecule.
pub type Provider<'a> = (String, Box<dyn Fn(&hip_core::Molecule) -> Result<Prediction> + 'a>);

/// One row of the table: a provider on a set, all samples or the TS subset.
#[derive(Clone, Debug, Serialize)]
pub struct DftRow {
    pub set: String,
    /// `all` or `TSs` (samples of kind `ts`).
    pub subset: String,
    pub provider: String,
    pub n_samples: usize,
    pub forces_mae_ev_a: f64,
    pub hessian: HessianMetrics,
}

/// Every sample of every split of `path` (no model here was trained on a DFT set, so none of its
/// samples was seen).
pub fn read_all(path: &std::path::Path) -> Result<Vec<Sample>> {
    let mut all = Vec::new();
    for split in ["train", "val", "test"] {
        all.extend(hip_model::train::load_split(path, split)?);
    }
    Ok(all)
}

/// The table's rows: each provider on each `(label, file)` set, all samples and TSs.
pub fn run(sets: &[(String, PathBuf)], providers: &[Provider<'_>], verbose: bool) -> Result<Vec<DftRow>> {
    let mut rows = Vec::new();
    for (label, path) in sets {
        let samples = read_all(path)?;
        let refs: Vec<&Sample> = samples.iter().collect();
        for (name, predict) in providers {
            if verbose {
                eprintln!("[bench] DFT check: {name} on {} samples of {label}", refs.len());
            }
            let r = evaluate_with(&refs, name, predict)?;
            rows.extend(rows_of(label, name, &r));
        }
    }
    Ok(rows)
}

fn rows_of(set: &str, provider: &str, r: &EvalReport) -> Vec<DftRow> {
    let row = |subset: &str, n, f, h: &HessianMetrics| DftRow {
        set: set.into(),
        subset: subset.into(),
        provider: provider.into(),
        n_samples: n,
        forces_mae_ev_a: f,
        hessian: h.clone(),
    };
    let mut out = vec![row("all", r.n_samples, r.forces_mae_ev_a, &r.hessian)];
    if let Some(ts) = r.by_kind.get("ts") {
        out.push(row("TSs", ts.n_samples, ts.forces_mae_ev_a, &ts.hessian));
    }
    out
}

/// The Markdown table (energies are left out: GFN2-xTB's are on another scale than DFT's).
pub fn markdown(rows: &[DftRow]) -> String {
    let mut s = String::from(
        "| set | samples | provider | n | F MAE (eV/Å) | H MAE (eV/Å²) | eigenvalue MAE | λ₁ MAE | \\|cos v₁\\| | freq. MAE (cm⁻¹) | ZPE error (eV) |\n\
         | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for r in rows {
        let h = &r.hessian;
        s += &format!(
            "| {} | {} | {} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {} | {:.3} |\n",
            r.set,
            r.subset,
            r.provider,
            r.n_samples,
            r.forces_mae_ev_a,
            h.hessian_mae,
            h.eigenvalue_mae,
            h.lambda1_mae,
            h.cos_v1,
            h.frequency_mae_cm.map_or("–".into(), |f| format!("{f:.1}")),
            h.zpe_error_ev
        );
    }
    s
}
