//! The paper's geometry-optimization study (method page, section 8): minimizations from
//! displaced minima of the test split with
//!
//! - RFO with a fresh Hessian every step: `rfo_direct`, `rfo_autodiff`, `rfo_fd`;
//! - RFO-BFGS from a unit initial Hessian (`rfo_bfgs_unit`: no Hessian calls);
//! - RFO-BFGS from one direct Hessian at step 0 (`rfo_bfgs_direct`);
//! - FIRE (`fire`: gradients only).
//!
//! Every run uses the Gaussian "gau" thresholds and the same step limit, from the same start;
//! every end point is graded by the same reference — the autodiff Hessian of the model (the
//! exact Hessian of the surface being minimized): success is convergence to a geometry with no
//! imaginary mode below −10 cm⁻¹.

use std::sync::Arc;
use std::time::Instant;

use hip_core::Molecule;
use hip_model::{HessianMethod, HipModel, ModelPotential};
use hip_tasks::optimize::{Report, fire, rfo};
use hip_tasks::reaction::align;
use irreps::rotation::SplitMix64;
use serde::{Deserialize, Serialize};

use crate::ts_bench::grade;

/// The optimizers compared, in report order.
pub const METHODS: [&str; 6] = ["rfo_direct", "rfo_autodiff", "rfo_fd", "rfo_bfgs_direct", "rfo_bfgs_unit", "fire"];

/// Step limit of every optimizer (FIRE needs more steps than the second-order methods, and
/// gets them: its steps are gradient calls).
pub const MAX_STEPS: usize = 200;
/// FIRE's step limit.
pub const FIRE_MAX_STEPS: usize = 1000;

/// One minimization.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OptRun {
    /// Start (minimum sample and displacement).
    pub name: String,
    /// Atoms.
    pub n_atoms: usize,
    /// Displacement σ, Å.
    pub sigma: f64,
    /// One of [`METHODS`].
    pub method: String,
    /// Converged by the "gau" thresholds within the step limit.
    pub converged: bool,
    /// Imaginary modes (below −10 cm⁻¹) of the end point by the grader.
    pub n_imaginary: usize,
    /// The Hessian that classified the end point.
    pub graded_by: String,
    /// Steps taken.
    pub steps: usize,
    /// Energy+gradient calls.
    pub gradient_calls: usize,
    /// Hessian calls.
    pub hessian_calls: usize,
    /// Wall time, s (grading excluded).
    pub seconds: f64,
    /// RMSD of the end point from the reference minimum after alignment, Å.
    pub rmsd_to_reference: f64,
}

/// Per-method summary.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct OptSummary {
    /// Runs.
    pub runs: usize,
    /// Converged.
    pub converged: usize,
    /// Converged to a minimum by the grader.
    pub success: usize,
    /// Median steps of the converged runs (NaN if none).
    pub median_steps: f64,
    /// Mean gradient calls per run.
    pub mean_gradient_calls: f64,
    /// Mean Hessian calls per run.
    pub mean_hessian_calls: f64,
    /// Mean wall time per run, s.
    pub mean_seconds: f64,
}

/// The start geometries: each minimum displaced by Gaussian noise of σ (seeded per case).
pub fn starts(minima: &[(String, Molecule)], sigmas: &[f64]) -> Vec<(String, f64, Molecule, Molecule)> {
    let mut out = Vec::new();
    for (k, (name, m)) in minima.iter().enumerate() {
        for &sigma in sigmas {
            let mut rng = SplitMix64(0x0B7 ^ ((k as u64) << 20) ^ sigma.to_bits());
            let x: Vec<f64> = m.flat_positions().iter().map(|p| p + sigma * rng.normal()).collect();
            out.push((name.clone(), sigma, m.with_flat_positions(&x), m.clone()));
        }
    }
    out
}

fn run_one(model: &Arc<HipModel>, method: &str, start: &Molecule) -> hip_core::Result<Report> {
    let pot = |m: HessianMethod| ModelPotential { model: model.clone(), method: m };
    let rfo_opts = |every: usize| rfo::RfoOptions {
        hessian_every: every,
        max_steps: MAX_STEPS,
        classify: false,
        ..Default::default()
    };
    match method {
        "rfo_direct" => rfo::minimize(&pot(HessianMethod::Direct), start, &rfo_opts(1)),
        "rfo_autodiff" => rfo::minimize(&pot(HessianMethod::Autodiff), start, &rfo_opts(1)),
        "rfo_fd" => rfo::minimize(&pot(HessianMethod::FiniteDifference { delta: 0.01 }), start, &rfo_opts(1)),
        "rfo_bfgs_direct" => rfo::minimize(&pot(HessianMethod::Direct), start, &rfo_opts(0)),
        "rfo_bfgs_unit" => rfo::minimize(
            &pot(HessianMethod::Direct),
            start,
            &rfo::RfoOptions { unit_initial_hessian: Some(1.0), ..rfo_opts(0) },
        ),
        "fire" => fire::minimize(
            &pot(HessianMethod::Direct),
            start,
            &fire::FireOptions { max_steps: FIRE_MAX_STEPS, classify: false, ..Default::default() },
        ),
        other => Err(hip_core::Error::invalid("optimization benchmark", format!("unknown method {other}"))),
    }
}

/// Runs every method of [`METHODS`] from every start.
pub fn optimizations(
    model: Arc<HipModel>,
    starts: &[(String, f64, Molecule, Molecule)],
) -> hip_core::Result<Vec<OptRun>> {
    let mut out = Vec::new();
    for (name, sigma, start, reference) in starts {
        for method in METHODS {
            let t0 = Instant::now();
            let r = run_one(&model, method, start)?;
            let seconds = t0.elapsed().as_secs_f64();
            out.push(OptRun {
                name: name.clone(),
                n_atoms: start.len(),
                sigma: *sigma,
                method: method.into(),
                converged: r.converged,
                n_imaginary: grade(&model, &r.molecule)?,
                graded_by: "autodiff".into(),
                steps: r.steps,
                gradient_calls: r.energy_calls,
                hessian_calls: r.hessian_calls,
                seconds,
                rmsd_to_reference: align::rmsd(reference, &r.molecule)?,
            });
        }
    }
    Ok(out)
}

/// Summary of the runs of `method`.
pub fn summarize(runs: &[OptRun], method: &str) -> OptSummary {
    let rs: Vec<&OptRun> = runs.iter().filter(|r| r.method == method).collect();
    let n = rs.len().max(1) as f64;
    let mut steps: Vec<f64> = rs.iter().filter(|r| r.converged).map(|r| r.steps as f64).collect();
    steps.sort_by(f64::total_cmp);
    let median_steps = match steps.len() {
        0 => f64::NAN,
        k if k % 2 == 1 => steps[k / 2],
        k => 0.5 * (steps[k / 2 - 1] + steps[k / 2]),
    };
    OptSummary {
        runs: rs.len(),
        converged: rs.iter().filter(|r| r.converged).count(),
        success: rs.iter().filter(|r| r.converged && r.n_imaginary == 0).count(),
        median_steps,
        mean_gradient_calls: rs.iter().map(|r| r.gradient_calls as f64).sum::<f64>() / n,
        mean_hessian_calls: rs.iter().map(|r| r.hessian_calls as f64).sum::<f64>() / n,
        mean_seconds: rs.iter().map(|r| r.seconds).sum::<f64>() / n,
    }
}
