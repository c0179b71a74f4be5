//! Accuracy of each provider on a dataset split (section-6 metrics), plus the raw pairs for
//! parity plots.

use hip_core::MassConvention;
use hip_core::io::dataset::Sample;
use hip_model::eval::{EvalReport, evaluate};
use hip_model::{HessianMethod, HipModel};
use hip_tasks::Vibrations;

/// Evaluates `model` with `method` on `samples`.
pub fn accuracy(model: &HipModel, samples: &[&Sample], method: HessianMethod) -> hip_model::Result<EvalReport> {
    evaluate(model, samples, method)
}

/// Pairs for parity plots: Hessian entries (subsampled), projected eigenvalues, and frequency
/// errors (reference frequency, predicted − reference) for modes of 400–4000 cm⁻¹.
#[derive(Clone, Debug, Default)]
pub struct ParityData {
    /// (reference, predicted) Hessian entries, eV/Å².
    pub entries: Vec<(f64, f64)>,
    /// (reference, predicted) eigenvalues, eV/(Å² amu).
    pub eigenvalues: Vec<(f64, f64)>,
    /// (reference ν̃, predicted − reference), cm⁻¹.
    pub frequency_errors: Vec<(f64, f64)>,
}

/// Collects parity data for `samples`.
pub fn parity(
    model: &HipModel,
    samples: &[&Sample],
    method: HessianMethod,
    max_entries_per_sample: usize,
) -> hip_model::Result<ParityData> {
    let mut out = ParityData::default();
    for s in samples {
        let p = model.predict(&s.molecule, method)?;
        let n = p.hessian.as_slice().len();
        let stride = (n / max_entries_per_sample.max(1)).max(1);
        for k in (0..n).step_by(stride) {
            out.entries.push((s.hessian.as_slice()[k], p.hessian.as_slice()[k]));
        }
        let masses = s.molecule.masses(MassConvention::Iupac)?;
        let vp = Vibrations::new(&s.molecule, &p.hessian, &masses)?;
        let vr = Vibrations::new(&s.molecule, &s.hessian, &masses)?;
        out.eigenvalues.extend(vr.eigenvalues.iter().copied().zip(vp.eigenvalues.iter().copied()));
        for (r, q) in vr.frequencies_cm.iter().zip(&vp.frequencies_cm) {
            if *r > 400.0 && *r < 4000.0 {
                out.frequency_errors.push((*r, q - r));
            }
        }
    }
    Ok(out)
}
