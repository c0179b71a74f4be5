//! Evaluation of any Hessian provider on dataset samples: energy/force errors and the section-6
//! Hessian metrics ([`hip_tasks::metrics`]), averaged over molecules (samples).

use std::collections::BTreeMap;
use std::time::Instant;

use hip_core::MassConvention;
use hip_core::io::dataset::Sample;
use hip_tasks::metrics::{self, HessianMetrics};
use hip_tasks::vibrations::Vibrations;
use serde::Serialize;

use crate::{HessianMethod, HipModel, Prediction, Result};

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
    /// The same numbers per sample kind (`minimum`, `thermal`, `displaced`, `ts`, `path`).
    pub by_kind: BTreeMap<String, KindReport>,
    /// One row per evaluated sample, in input order (for error analysis; not averaged).
    pub samples: Vec<SampleRow>,
}

/// The numbers of one evaluated sample, with the reference's two lowest projected mass-weighted
/// eigenvalues: a small gap λ₂ − λ₁ makes v₁ ill-defined, which bounds |cos v₁| for any model.
#[derive(Clone, Debug, Serialize)]
pub struct SampleRow {
    /// Index in the dataset file.
    pub index: usize,
    /// Molecule identifier.
    pub molecule_id: String,
    /// Sample kind.
    pub kind: String,
    /// Atoms.
    pub n_atoms: usize,
    /// |ΔE|, eV.
    pub energy_ae_ev: f64,
    /// mean |ΔF| per component, eV/Å.
    pub forces_mae_ev_a: f64,
    /// Reference λ₁, eV/(Å² amu) (projected, mass-weighted; NaN without vibrations).
    pub lambda1_ref: f64,
    /// Reference λ₂ (NaN with fewer than two vibrational modes).
    pub lambda2_ref: f64,
    /// Predicted λ₁.
    pub lambda1_pred: f64,
    /// Section-6 metrics of this sample.
    pub hessian: HessianMetrics,
}

/// Evaluation numbers of the samples of one kind.
#[derive(Clone, Debug, Serialize)]
pub struct KindReport {
    /// Samples of this kind.
    pub n_samples: usize,
    /// mean |ΔE|, eV.
    pub energy_mae_ev: f64,
    /// mean |ΔF| per component, eV/Å.
    pub forces_mae_ev_a: f64,
    /// Section-6 metrics (means over these samples).
    pub hessian: HessianMetrics,
}

/// Evaluates `model` with `method` on `samples` (masses: IUPAC).
pub fn evaluate(model: &HipModel, samples: &[&Sample], method: HessianMethod) -> Result<EvalReport> {
    evaluate_with(samples, method.name(), |mol| model.predict(mol, method))
}

/// Evaluates any provider of energy, forces and Hessian (`predict`, named `method` in the
/// report) on `samples` (masses: IUPAC): the model's methods, or another level of theory such as
/// GFN2-xTB graded against a DFT reference.
pub fn evaluate_with(
    samples: &[&Sample],
    method: &str,
    mut predict: impl FnMut(&hip_core::Molecule) -> Result<Prediction>,
) -> Result<EvalReport> {
    if samples.is_empty() {
        return Err(crate::Error::Input("evaluation set is empty: nothing to evaluate".into()));
    }
    let mut table = Vec::with_capacity(samples.len());
    let mut secs = 0.0;
    for s in samples {
        let t0 = Instant::now();
        let p = predict(&s.molecule)?;
        secs += t0.elapsed().as_secs_f64();
        table.push(sample_row(s, &p)?);
    }
    let summarize = |idx: &[usize]| -> KindReport {
        let n = idx.len().max(1) as f64;
        let e = idx.iter().map(|&i| table[i].energy_ae_ev).sum::<f64>() / n;
        // force MAE over all components: each sample's mean weighted by its 3N components
        let (f, nf) = idx.iter().fold((0.0, 0usize), |(a, c), &i| {
            let r = &table[i];
            (a + r.forces_mae_ev_a * (3 * r.n_atoms) as f64, c + 3 * r.n_atoms)
        });
        let m: Vec<HessianMetrics> = idx.iter().map(|&i| table[i].hessian.clone()).collect();
        KindReport {
            n_samples: idx.len(),
            energy_mae_ev: e,
            forces_mae_ev_a: f / nf.max(1) as f64,
            hessian: metrics::average(&m),
        }
    };
    let mut kinds: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, r) in table.iter().enumerate() {
        kinds.entry(r.kind.clone()).or_default().push(i);
    }
    let all = summarize(&(0..samples.len()).collect::<Vec<_>>());
    Ok(EvalReport {
        method: method.to_string(),
        n_samples: samples.len(),
        energy_mae_ev: all.energy_mae_ev,
        forces_mae_ev_a: all.forces_mae_ev_a,
        hessian: all.hessian,
        ms_per_hessian: 1e3 * secs / samples.len() as f64,
        by_kind: kinds.iter().map(|(k, idx)| (k.clone(), summarize(idx))).collect(),
        samples: table,
    })
}

/// The row of sample `s` predicted as `p`: errors and the section-6 metrics, with one harmonic
/// analysis each of the prediction and the reference (IUPAC masses).
fn sample_row(s: &Sample, p: &Prediction) -> Result<SampleRow> {
    let masses = s.molecule.masses(MassConvention::Iupac)?;
    let vp = Vibrations::new(&s.molecule, &p.hessian, &masses)?;
    let vr = Vibrations::new(&s.molecule, &s.hessian, &masses)?;
    let f_err: f64 = p.forces.iter().flatten().zip(s.forces.iter().flatten()).map(|(a, b)| (a - b).abs()).sum();
    let eig = |v: &Vibrations, i: usize| v.eigenvalues.get(i).copied().unwrap_or(f64::NAN);
    Ok(SampleRow {
        index: s.index,
        molecule_id: s.molecule_id.clone(),
        kind: s.kind.clone(),
        n_atoms: s.molecule.len(),
        energy_ae_ev: (p.energy - s.energy).abs(),
        forces_mae_ev_a: f_err / (3 * s.forces.len()).max(1) as f64,
        lambda1_ref: eig(&vr, 0),
        lambda2_ref: eig(&vr, 1),
        lambda1_pred: eig(&vp, 0),
        hessian: metrics::compare_analysed(&p.hessian, &s.hessian, &vp, &vr),
    })
}

/// Writes `rows` as a tab-separated table with a header line.
pub fn write_sample_table(rows: &[SampleRow], mut out: impl std::io::Write) -> std::io::Result<()> {
    writeln!(
        out,
        "index\tmolecule\tkind\tn_atoms\te_ae_ev\tf_mae_ev_a\th_mae_ev_a2\tlambda1_ref\tlambda2_ref\tlambda1_pred\tcos_v1\tneg_count_agree\tfreq_mae_cm"
    )?;
    for r in rows {
        let h = &r.hessian;
        writeln!(
            out,
            "{}\t{}\t{}\t{}\t{:.6}\t{:.6}\t{:.6}\t{:.6}\t{:.6}\t{:.6}\t{:.4}\t{}\t{}",
            r.index,
            r.molecule_id,
            r.kind,
            r.n_atoms,
            r.energy_ae_ev,
            r.forces_mae_ev_a,
            h.hessian_mae,
            r.lambda1_ref,
            r.lambda2_ref,
            r.lambda1_pred,
            h.cos_v1,
            h.neg_count_agreement,
            h.frequency_mae_cm.map_or("nan".into(), |f| format!("{f:.2}"))
        )?;
    }
    Ok(())
}
