//! Transition-state searches from displaced transition states: RS-P-RFO with the HIP Hessian
//! every step, with the autodiff Hessian every step, and with one initial (direct) Hessian
//! followed by Bofill quasi-Newton updates. Success: converged with exactly one imaginary mode.

use std::sync::Arc;

use hip_core::Molecule;
use hip_model::{HessianMethod, HipModel, ModelPotential};
use hip_tasks::optimize::ts;
use irreps::rotation::SplitMix64;
use serde::{Deserialize, Serialize};

/// One search.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TsRun {
    /// Which TS (sample or reaction name).
    pub name: String,
    /// Displacement σ, Å.
    pub sigma: f64,
    /// `hip` (direct every step), `autodiff` (every step) or `quasi_newton` (direct at step 0,
    /// Bofill updates).
    pub hessian: String,
    /// Converged by the Gaussian criteria within 50 steps.
    pub converged: bool,
    /// Imaginary modes of the final geometry (by the same Hessian method).
    pub n_imaginary: usize,
    /// Steps taken.
    pub steps: usize,
    /// Wall time, s.
    pub seconds: f64,
    /// RMSD of the final geometry from the reference TS, Å.
    pub rmsd_to_reference: f64,
}

/// Counts per Hessian type.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TsSummary {
    /// Runs.
    pub runs: usize,
    /// Converged.
    pub converged: usize,
    /// Converged with exactly one imaginary mode.
    pub success: usize,
    /// Mean steps of the converged runs.
    pub mean_steps: f64,
}

fn rmsd(a: &Molecule, b: &Molecule) -> f64 {
    let s: f64 =
        a.positions.iter().zip(&b.positions).map(|(p, q)| (0..3).map(|k| (p[k] - q[k]).powi(2)).sum::<f64>()).sum();
    (s / a.len() as f64).sqrt()
}

/// Runs the three variants from `repeats` displacements of each `(name, ts)` at each σ.
pub fn ts_searches(
    model: Arc<HipModel>,
    cases: &[(String, Molecule)],
    sigmas: &[f64],
    repeats: usize,
    with_autodiff: bool,
) -> hip_core::Result<Vec<TsRun>> {
    let mut out = Vec::new();
    for (name, ts0) in cases {
        for &sigma in sigmas {
            for rep in 0..repeats {
                let mut rng = SplitMix64(0xC0FFEE ^ (rep as u64) ^ sigma.to_bits());
                let x: Vec<f64> = ts0.flat_positions().iter().map(|p| p + sigma * rng.normal()).collect();
                let start = ts0.with_flat_positions(&x);
                let mut variants =
                    vec![("hip", HessianMethod::Direct, 1usize), ("quasi_newton", HessianMethod::Direct, usize::MAX)];
                if with_autodiff {
                    variants.push(("autodiff", HessianMethod::Autodiff, 1));
                }
                for (label, method, every) in variants {
                    let pot = ModelPotential { model: model.clone(), method };
                    let opts = ts::TsOptions { hessian_every: every, ..Default::default() };
                    let t0 = std::time::Instant::now();
                    let r = ts::search(&pot, &start, &opts)?;
                    let fp = r.final_point.as_ref().map_or(usize::MAX, |f| f.n_imaginary);
                    out.push(TsRun {
                        name: name.clone(),
                        sigma,
                        hessian: label.into(),
                        converged: r.converged,
                        n_imaginary: fp,
                        steps: r.steps,
                        seconds: t0.elapsed().as_secs_f64(),
                        rmsd_to_reference: rmsd(&r.molecule, ts0),
                    });
                }
            }
        }
    }
    Ok(out)
}

/// Summary of the runs with Hessian label `label`.
pub fn summarize(runs: &[TsRun], label: &str) -> TsSummary {
    let rs: Vec<&TsRun> = runs.iter().filter(|r| r.hessian == label).collect();
    let conv: Vec<&&TsRun> = rs.iter().filter(|r| r.converged).collect();
    TsSummary {
        runs: rs.len(),
        converged: conv.len(),
        success: conv.iter().filter(|r| r.n_imaginary == 1).count(),
        mean_steps: if conv.is_empty() {
            f64::NAN
        } else {
            conv.iter().map(|r| r.steps as f64).sum::<f64>() / conv.len() as f64
        },
    }
}
