//! The reaction benchmark: reactant → product with the whole pipeline of
//! `hip_tasks::reaction::pipeline` (IDPP → CI-NEB → RS-P-RFO from the climbing image →
//! frequency check → IRC → end optimization), on reactions whose reference TS and both IRC-end
//! minima are stored in the dataset (data v2). Three Hessians drive the TS search and the IRC —
//! the direct HIP Hessian every step, the autodiff Hessian every step, and quasi-Newton (direct at
//! step 0, Bofill updates) — on the same band from the same NEB settings.
//!
//! **One grader**, as in the TS benchmark: the endpoint of each TS search is classified by the
//! autodiff Hessian of the searched model (`ts_success`: converged with exactly one imaginary
//! mode below −10 cm⁻¹), compared with the reference TS by RMSD after alignment, and its barrier
//! `E(TS) − E(R)` with the reference barrier. `intended` is the pipeline's own verdict on the IRC
//! ends (bond graphs and RMSD to R and P), `own_ts_success` the search Hessian's own count.

use std::sync::Arc;

use hip_core::Molecule;
use hip_core::Potential;
use hip_model::{HessianMethod, HipModel, ModelPotential};
use hip_tasks::optimize::ts::TsOptions;
use hip_tasks::reaction::{align, pipeline};
use serde::{Deserialize, Serialize};

use crate::ts_bench::{MATCH_RMSD, grade};

/// A reaction with its reference geometries and barrier.
#[derive(Clone, Debug)]
pub struct ReactionCase {
    /// Reaction identifier.
    pub name: String,
    /// Reactant (the reverse IRC end).
    pub reactant: Molecule,
    /// Product (the forward IRC end).
    pub product: Molecule,
    /// Reference transition state.
    pub ts: Molecule,
    /// Reference `E(TS) − E(R)`, eV.
    pub barrier_ev: f64,
}

/// One pipeline run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReactionRun {
    /// Reaction.
    pub name: String,
    /// `hip`, `autodiff` or `quasi_newton`.
    pub hessian: String,
    /// The NEB converged.
    pub neb_converged: bool,
    /// The TS search converged.
    pub ts_converged: bool,
    /// Converged with one imaginary mode by the grader (the model's autodiff Hessian).
    pub ts_success: bool,
    /// Converged with one imaginary mode by the search's own Hessian.
    pub own_ts_success: bool,
    /// The TS found is the reference one (RMSD after alignment below `MATCH_RMSD`).
    pub matches_reference: bool,
    /// RMSD of the TS found from the reference TS after alignment, Å.
    pub rmsd_to_reference: f64,
    /// `(E(TS) − E(R))` of the model minus the reference barrier, eV.
    pub barrier_error_ev: f64,
    /// The IRC from the TS ends at R and at P.
    pub intended: bool,
    /// TS-search steps.
    pub ts_steps: usize,
    /// Hessian calls of the TS search.
    pub hessian_calls: usize,
    /// Wall time of the whole pipeline, s.
    pub seconds: f64,
}

/// Counts per Hessian.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ReactionSummary {
    /// Runs.
    pub runs: usize,
    /// TS searches converged.
    pub ts_converged: usize,
    /// TS successes by the grader.
    pub ts_success: usize,
    /// TS successes by the search's own Hessian.
    pub own_ts_success: usize,
    /// Successes that are the reference TS.
    pub matches_reference: usize,
    /// IRC intended (ends at R and P).
    pub intended: usize,
    /// Mean |barrier error| of the graded successes, eV.
    pub barrier_mae_ev: f64,
    /// Mean TS-search steps.
    pub mean_ts_steps: f64,
    /// Mean wall time, s.
    pub mean_seconds: f64,
}

/// Runs the pipeline on every case with the three Hessians.
pub fn reaction_runs(model: Arc<HipModel>, cases: &[ReactionCase]) -> hip_core::Result<Vec<ReactionRun>> {
    let mut out = Vec::new();
    for case in cases {
        for (label, method, every) in [
            ("hip", HessianMethod::Direct, 1usize),
            ("autodiff", HessianMethod::Autodiff, 1),
            ("quasi_newton", HessianMethod::Direct, usize::MAX),
        ] {
            let pot = ModelPotential { model: model.clone(), method };
            let opts = pipeline::PipelineOptions {
                ts: TsOptions { hessian_every: every, ..Default::default() },
                ..Default::default()
            };
            let t0 = std::time::Instant::now();
            let r = pipeline::run(&pot, &case.reactant, &case.product, &opts)?;
            let seconds = t0.elapsed().as_secs_f64();
            let found = &r.ts.molecule;
            let graded = r.ts.converged && grade(&model, found)? == 1;
            let d = align::rmsd(&case.ts, found)?;
            let e_r = pot.energy_forces(&case.reactant)?.energy;
            out.push(ReactionRun {
                name: case.name.clone(),
                hessian: label.into(),
                neb_converged: r.neb.converged,
                ts_converged: r.ts.converged,
                ts_success: graded,
                own_ts_success: r.ts_success,
                matches_reference: graded && d < MATCH_RMSD,
                rmsd_to_reference: d,
                barrier_error_ev: (r.ts.energy - e_r) - case.barrier_ev,
                intended: r.intended,
                ts_steps: r.ts.steps,
                hessian_calls: r.ts.hessian_calls,
                seconds,
            });
        }
    }
    Ok(out)
}

/// Summary of the runs of one Hessian label.
pub fn summarize(runs: &[ReactionRun], label: &str) -> ReactionSummary {
    let rs: Vec<&ReactionRun> = runs.iter().filter(|r| r.hessian == label).collect();
    let n = rs.len().max(1) as f64;
    let ok: Vec<&&ReactionRun> = rs.iter().filter(|r| r.ts_success).collect();
    ReactionSummary {
        runs: rs.len(),
        ts_converged: rs.iter().filter(|r| r.ts_converged).count(),
        ts_success: ok.len(),
        own_ts_success: rs.iter().filter(|r| r.own_ts_success).count(),
        matches_reference: rs.iter().filter(|r| r.matches_reference).count(),
        intended: rs.iter().filter(|r| r.intended).count(),
        barrier_mae_ev: if ok.is_empty() {
            f64::NAN
        } else {
            ok.iter().map(|r| r.barrier_error_ev.abs()).sum::<f64>() / ok.len() as f64
        },
        mean_ts_steps: rs.iter().map(|r| r.ts_steps as f64).sum::<f64>() / n,
        mean_seconds: rs.iter().map(|r| r.seconds).sum::<f64>() / n,
    }
}
