//! Evaluation of any Hessian provider on dataset samples: energy/force errors and the section-6
//! Hessian metrics ([`hip_tasks::metrics`]), averaged over molecules (samples).

use std::time::Instant;

use hip_core::MassConvention;
use hip_core::io::dataset::Sample;
use hip_tasks::metrics::{self, HessianMetrics};
use serde::Serialize;

use crate::{HessianMethod, HipModel, Result};

/// Averages over the evaluated samples.
#[derive(Clone, Debug, Serialize)]
pub struct EvalReport {
    /// `direct`, `autodiff` or `fd`.
    pub method: String,
    /// Samples evaluated.
    pub n_samples: usize,
    /// mean |ΔE|, eV.
    pub energy_mae_ev: f64,
    /// mean |ΔF| per component, eV/Å.
    pub forces_mae_ev_a: f64,
    /// Section-6 metrics (means over samples).
    pub hessian: HessianMetrics,
    /// Mean wall time of one Hessian (including energy and forces), ms.
    pub ms_per_hessian: f64,
}

/// Evaluates `model` with `method` on `samples` (masses: IUPAC).
pub fn evaluate(model: &HipModel, samples: &[&Sample], method: HessianMethod) -> Result<EvalReport> {
    if samples.is_empty() {
        return Err(crate::Error::Input("evaluation set is empty: nothing to evaluate".into()));
    }
    let mut per = Vec::with_capacity(samples.len());
    let (mut e_err, mut f_err, mut f_n, mut secs) = (0.0, 0.0, 0usize, 0.0);
    for s in samples {
        let t0 = Instant::now();
        let p = model.predict(&s.molecule, method)?;
        secs += t0.elapsed().as_secs_f64();
        e_err += (p.energy - s.energy).abs();
        for (a, b) in p.forces.iter().flatten().zip(s.forces.iter().flatten()) {
            f_err += (a - b).abs();
            f_n += 1;
        }
        let masses = s.molecule.masses(MassConvention::Iupac)?;
        per.push(metrics::compare(&s.molecule, &masses, &p.hessian, &s.hessian)?);
    }
    let n = samples.len().max(1) as f64;
    Ok(EvalReport {
        method: method.name().to_string(),
        n_samples: samples.len(),
        energy_mae_ev: e_err / n,
        forces_mae_ev_a: f_err / f_n.max(1) as f64,
        hessian: metrics::average(&per),
        ms_per_hessian: 1e3 * secs / n,
    })
}
