//! Transition-state searches from displaced transition states: RS-P-RFO with the HIP Hessian
//! every step, with the autodiff Hessian every step, and with one initial (direct) Hessian
//! followed by Bofill quasi-Newton updates.
//!
//! **One grader for every search**: each endpoint is classified by the *autodiff Hessian of the
//! model that was searched* — the exact Hessian of that surface — whatever Hessian drove the
//! search (`graded_by`), and compared with the reference TS by RMSD after optimal alignment
//! (Kabsch; [`MATCH_RMSD`]). Success: converged with exactly one imaginary mode below −10 cm⁻¹
//! by the grader. The searched method's own classification is kept as a separate column.

use std::path::PathBuf;
use std::sync::Arc;

use hip_core::io::dataset::Dataset;
use hip_core::{MassConvention, Molecule};
use hip_model::{HessianMethod, HipModel, ModelPotential};
use hip_tasks::optimize::ts;
use hip_tasks::reaction::align;
use hip_tasks::{DEFAULT_IMAGINARY_THRESHOLD_CM, Vibrations};
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
    /// Imaginary modes (below −10 cm⁻¹) of the final geometry by the grader.
    pub n_imaginary: usize,
    /// The Hessian that classified the endpoint (`autodiff`: the exact Hessian of the model).
    #[serde(default)]
    pub graded_by: String,
    /// Imaginary modes by the Hessian method that drove the search (its own view).
    #[serde(default)]
    pub n_imaginary_own: usize,
    /// Final geometry within [`MATCH_RMSD`] of the reference TS after alignment.
    #[serde(default)]
    pub matches_reference: bool,
    /// Energy+force calls.
    #[serde(default)]
    pub energy_calls: usize,
    /// Hessian calls.
    #[serde(default)]
    pub hessian_calls: usize,
    /// Steps taken.
    pub steps: usize,
    /// Largest (projected) force component on the model's surface at the final geometry, eV/Å:
    /// how far an unconverged run ended from the Gaussian threshold (0.0231 eV/Å).
    #[serde(default)]
    pub final_max_force: f64,
    /// Wall time, s.
    pub seconds: f64,
    /// RMSD of the final geometry from the reference TS after optimal alignment, Å.
    pub rmsd_to_reference: f64,
    /// Why the search stopped without an endpoint (e.g. a step into coincident nuclei, outside
    /// the model's domain): such a run counts as not converged, with no grade.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl TsRun {
    /// A search that stopped with `error` instead of an endpoint: not converged, not graded
    /// (`n_imaginary = usize::MAX`), no RMSD.
    pub fn failed(name: &str, sigma: f64, label: &str, seconds: f64, error: String) -> Self {
        TsRun {
            name: name.into(),
            sigma,
            hessian: label.into(),
            converged: false,
            n_imaginary: usize::MAX,
            graded_by: "none".into(),
            n_imaginary_own: usize::MAX,
            matches_reference: false,
            energy_calls: 0,
            hessian_calls: 0,
            steps: 0,
            final_max_force: f64::NAN,
            seconds,
            rmsd_to_reference: f64::NAN,
            error: Some(error),
        }
    }
}

/// RMSD (after alignment) below which an endpoint *is* the reference TS, Å.
pub const MATCH_RMSD: f64 = 0.1;

/// Counts per Hessian type.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct TsSummary {
    /// Runs.
    pub runs: usize,
    /// Converged.
    pub converged: usize,
    /// Converged with exactly one imaginary mode (by the grader).
    pub success: usize,
    /// Successes that are the reference TS (RMSD after alignment < [`MATCH_RMSD`]).
    #[serde(default)]
    pub matches_reference: usize,
    /// Converged with one imaginary mode by the search's own Hessian.
    #[serde(default)]
    pub own_success: usize,
    /// Runs where the own classification agrees with the grader's (1 imaginary mode or not).
    #[serde(default)]
    pub own_agrees: usize,
    /// Mean Hessian calls per run.
    #[serde(default)]
    pub mean_hessian_calls: f64,
    /// Mean energy+gradient calls per run (probes included).
    #[serde(default)]
    pub mean_energy_calls: f64,
    /// Mean wall time per run, s.
    #[serde(default)]
    pub mean_seconds: f64,
    /// Mean steps of the converged runs.
    pub mean_steps: f64,
    /// Runs that stopped with an error ([`TsRun::error`]) instead of an endpoint.
    #[serde(default)]
    pub errors: usize,
}

/// Imaginary modes below −10 cm⁻¹ of `mol` by the autodiff Hessian of `model` (IUPAC masses).
pub fn grade(model: &HipModel, mol: &Molecule) -> hip_core::Result<usize> {
    let h =
        model.hessian(mol, HessianMethod::Autodiff).map_err(|e| hip_core::Error::invalid("grader", e.to_string()))?;
    let vib = Vibrations::new(mol, &h, &mol.masses(MassConvention::Iupac)?)?;
    Ok(vib.n_imaginary(DEFAULT_IMAGINARY_THRESHOLD_CM))
}

/// The transition states searched from: of each `(file, split)` (`split` "all": every split),
/// up to `max_ts` TSs spread evenly over the file (0: all), named `file:reaction`; TSs with an
/// element the model does not know are left out. Files that cannot be read give a note instead.
pub fn cases(model: &HipModel, ts_data: &[(PathBuf, String)], max_ts: usize) -> (Vec<(String, Molecule)>, Vec<String>) {
    let (mut cases, mut notes) = (Vec::new(), Vec::new());
    for (path, split) in ts_data {
        let ds = match Dataset::open(path) {
            Ok(ds) => ds,
            Err(e) => {
                notes.push(format!("TS search skipped for {}: {e}", path.display()));
                continue;
            }
        };
        let ts: Vec<usize> =
            (0..ds.len()).filter(|&i| ds.kind_of(i) == "ts" && (split == "all" || ds.split_of(i) == *split)).collect();
        let file = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
        for i in hip_model::train::spread_indices(ts.len(), max_ts).into_iter().map(|k| ts[k]) {
            if let Ok(s) = ds.sample(i) {
                let name = format!("{file}:{}", s.reaction_id.clone().unwrap_or(s.molecule_id.clone()));
                if s.molecule.numbers.iter().all(|z| model.config.species_index(*z).is_some()) {
                    cases.push((name, s.molecule));
                }
            }
        }
    }
    (cases, notes)
}

/// The start of search `rep` at displacement `sigma` from `ts0`: every coordinate displaced by
/// a normal deviate of standard deviation σ (Å), from a seed fixed by `rep` and σ.
pub fn displaced_start(ts0: &Molecule, sigma: f64, rep: usize) -> Molecule {
    let mut rng = SplitMix64(0xC0FFEE ^ (rep as u64) ^ sigma.to_bits());
    let x: Vec<f64> = ts0.flat_positions().iter().map(|p| p + sigma * rng.normal()).collect();
    ts0.with_flat_positions(&x)
}

/// One way of driving the search: the Hessian method, how often it is recomputed, whether
/// fresh Hessians get the secant correction ([`ts::TsOptions::secant_update`]), and how many
/// Hessian-vector probes correct them ([`ts::TsOptions::mode_probes`]).
#[derive(Clone, Copy, Debug)]
pub struct Variant {
    /// Label in the results (`TsRun::hessian`).
    pub label: &'static str,
    /// Hessian method.
    pub method: HessianMethod,
    /// Recompute every this many steps (`usize::MAX`: once, then Bofill updates).
    pub every: usize,
    /// Secant-correct fresh Hessians.
    pub secant: bool,
    /// Hessian-vector probes per fresh Hessian (followed mode, then the lowest; 0: none).
    pub probes: usize,
}

/// Probes per fresh Hessian of the report's `hip_probe` variant: chosen on the validation split
/// among 1, 3 and 8 (`reports/v2/probe/README.md`).
pub const REPORT_PROBES: usize = 8;

/// The report's variants: `hip` (direct every step, the paper's protocol), `hip_probe8` (the
/// same, each direct Hessian corrected by [`REPORT_PROBES`] Hessian-vector products of the
/// model's gradient, [`ts::TsOptions::mode_probes`]), `quasi_newton` (direct once, Bofill
/// updates) and, when asked, `autodiff` (every step).
pub fn report_variants(with_autodiff: bool) -> Vec<Variant> {
    let mut v = vec![
        Variant { label: "hip", method: HessianMethod::Direct, every: 1, secant: false, probes: 0 },
        Variant { label: "hip_probe8", method: HessianMethod::Direct, every: 1, secant: false, probes: REPORT_PROBES },
        Variant { label: "quasi_newton", method: HessianMethod::Direct, every: usize::MAX, secant: false, probes: 0 },
    ];
    if with_autodiff {
        v.push(Variant { label: "autodiff", method: HessianMethod::Autodiff, every: 1, secant: false, probes: 0 });
    }
    v
}

/// Runs the report's variants ([`report_variants`]) from `repeats` displacements of each
/// `(name, ts)` at each σ.
pub fn ts_searches(
    model: Arc<HipModel>,
    cases: &[(String, Molecule)],
    sigmas: &[f64],
    repeats: usize,
    with_autodiff: bool,
) -> hip_core::Result<Vec<TsRun>> {
    ts_searches_with(model, cases, sigmas, repeats, &report_variants(with_autodiff))
}

/// Runs `variants` from `repeats` displacements ([`displaced_start`]) of each `(name, ts)` at
/// each σ; every endpoint graded by [`grade`].
pub fn ts_searches_with(
    model: Arc<HipModel>,
    cases: &[(String, Molecule)],
    sigmas: &[f64],
    repeats: usize,
    variants: &[Variant],
) -> hip_core::Result<Vec<TsRun>> {
    let mut out = Vec::new();
    for (name, ts0) in cases {
        for &sigma in sigmas {
            for rep in 0..repeats {
                let start = displaced_start(ts0, sigma, rep);
                for &Variant { label, method, every, secant, probes } in variants {
                    let pot = ModelPotential { model: model.clone(), method };
                    let opts = ts::TsOptions {
                        hessian_every: every,
                        secant_update: secant,
                        mode_probes: probes,
                        ..Default::default()
                    };
                    let t0 = std::time::Instant::now();
                    let r = match ts::search(&pot, &start, &opts) {
                        Ok(r) => r,
                        Err(e) => {
                            out.push(TsRun::failed(name, sigma, label, t0.elapsed().as_secs_f64(), e.to_string()));
                            continue;
                        }
                    };
                    let seconds = t0.elapsed().as_secs_f64();
                    let own = r.final_point.as_ref().map_or(usize::MAX, |f| f.n_imaginary);
                    let d = align::rmsd(ts0, &r.molecule)?;
                    out.push(TsRun {
                        name: name.clone(),
                        sigma,
                        hessian: label.into(),
                        converged: r.converged,
                        n_imaginary: grade(&model, &r.molecule)?,
                        graded_by: "autodiff".into(),
                        n_imaginary_own: own,
                        matches_reference: d < MATCH_RMSD,
                        energy_calls: r.energy_calls,
                        hessian_calls: r.hessian_calls,
                        steps: r.steps,
                        final_max_force: r.max_force,
                        seconds,
                        rmsd_to_reference: d,
                        error: None,
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
    let n = rs.len().max(1) as f64;
    TsSummary {
        runs: rs.len(),
        converged: conv.len(),
        success: conv.iter().filter(|r| r.n_imaginary == 1).count(),
        matches_reference: conv.iter().filter(|r| r.n_imaginary == 1 && r.matches_reference).count(),
        own_success: conv.iter().filter(|r| r.n_imaginary_own == 1).count(),
        own_agrees: rs.iter().filter(|r| r.error.is_none() && (r.n_imaginary == 1) == (r.n_imaginary_own == 1)).count(),
        mean_hessian_calls: rs.iter().map(|r| r.hessian_calls as f64).sum::<f64>() / n,
        mean_energy_calls: rs.iter().map(|r| r.energy_calls as f64).sum::<f64>() / n,
        mean_seconds: rs.iter().map(|r| r.seconds).sum::<f64>() / n,
        mean_steps: if conv.is_empty() {
            f64::NAN
        } else {
            conv.iter().map(|r| r.steps as f64).sum::<f64>() / conv.len() as f64
        },
        errors: rs.iter().filter(|r| r.error.is_some()).count(),
    }
}
