//! Time per Hessian of each provider on the same model and molecules, one energy+force call as
//! the unit of cost, and fitted scaling exponents.
//!
//! **Protocol (every provider alike).** One warm-up call each, then rounds in which every
//! provider is called once, interleaved (A B C … A B C …, so a burst of machine load hits all of
//! them alike), until every provider has at least `min_runs` timed runs *and* the rounds have
//! taken at least `budget_s` seconds. Rows report the number of runs and min / median / max.

use std::time::Instant;

use hip_core::Molecule;
use hip_model::{HessianMethod, HipModel};
use serde::{Deserialize, Serialize};

/// One timing.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct SpeedRow {
    /// Atoms.
    pub n_atoms: usize,
    /// `direct`, `autodiff`, `fd` or `energy_forces` (`direct_blocks` for the block-sparse runs).
    pub provider: String,
    /// Median wall time, ms.
    pub median_ms: f64,
    /// Timed runs behind the median (0 in results from before the interleaved protocol).
    #[serde(default)]
    pub runs: usize,
    /// Fastest run, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_ms: Option<f64>,
    /// Slowest run, ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ms: Option<f64>,
    /// Peak resident memory above the process baseline, MB (filled by the memory probe).
    pub peak_rss_mb: Option<f64>,
    /// Stored atom pairs of a block-sparse Hessian (`direct_blocks` rows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n_pairs: Option<usize>,
}

/// Median of `reps` timed calls after one warm-up call, in ms.
pub fn median_ms<F: FnMut() -> hip_model::Result<()>>(mut f: F, reps: usize) -> hip_model::Result<f64> {
    f()?;
    let mut t = Vec::with_capacity(reps);
    for _ in 0..reps.max(1) {
        let t0 = Instant::now();
        f()?;
        t.push(t0.elapsed().as_secs_f64() * 1e3);
    }
    t.sort_by(f64::total_cmp);
    Ok(t[t.len() / 2])
}

/// A provider to time: its name and the call.
pub type Call<'a> = (&'a str, Box<dyn FnMut() -> hip_model::Result<()> + 'a>);

/// Times `calls` interleaved (see the module docs): per provider, the sorted run times in ms.
pub fn time_interleaved(calls: &mut [Call], min_runs: usize, budget_s: f64) -> hip_model::Result<Vec<Vec<f64>>> {
    for (_, f) in calls.iter_mut() {
        f()?; // warm-up
    }
    let mut times = vec![Vec::new(); calls.len()];
    let t0 = Instant::now();
    while times.iter().any(|t| t.len() < min_runs.max(1)) || t0.elapsed().as_secs_f64() < budget_s {
        for (k, (_, f)) in calls.iter_mut().enumerate() {
            let t = Instant::now();
            f()?;
            times[k].push(t.elapsed().as_secs_f64() * 1e3);
        }
    }
    for t in &mut times {
        t.sort_by(f64::total_cmp);
    }
    Ok(times)
}

/// A row from sorted run times.
pub fn row_of(n_atoms: usize, provider: &str, sorted_ms: &[f64]) -> SpeedRow {
    SpeedRow {
        n_atoms,
        provider: provider.into(),
        median_ms: sorted_ms.get(sorted_ms.len() / 2).copied().unwrap_or(f64::NAN),
        runs: sorted_ms.len(),
        min_ms: sorted_ms.first().copied(),
        max_ms: sorted_ms.last().copied(),
        peak_rss_mb: None,
        n_pairs: None,
    }
}

/// Times `energy_forces`, `direct`, `direct_with_forces`, `autodiff` and `fd` on `mol` with the
/// interleaved protocol (`min_runs` runs each, rounds for at least `budget_s` s). Providers in
/// `skip` are not run.
///
/// `direct`, `autodiff` and `fd` time [`HipModel::hessian`], the call that returns a Hessian:
/// for `direct` that is one forward pass and no backward pass. `direct_with_forces` is
/// [`HipModel::predict`] with the direct head, i.e. energy, forces *and* Hessian in one call
/// (forward + one backward pass): the like-for-like counterpart of `autodiff` and `fd`, which
/// compute energy and forces on the way to their Hessian.
pub fn time_providers(
    model: &HipModel,
    mol: &Molecule,
    min_runs: usize,
    budget_s: f64,
    skip: &[&str],
) -> hip_model::Result<Vec<SpeedRow>> {
    let mut calls: Vec<Call> = vec![
        ("energy_forces", Box::new(|| model.predict_energy_forces(mol).map(drop))),
        ("direct", Box::new(|| model.hessian(mol, HessianMethod::Direct).map(drop))),
        ("direct_with_forces", Box::new(|| model.predict(mol, HessianMethod::Direct).map(drop))),
    ];
    if !skip.contains(&"autodiff") {
        calls.push(("autodiff", Box::new(|| model.hessian(mol, HessianMethod::Autodiff).map(drop))));
    }
    if !skip.contains(&"fd") {
        calls.push(("fd", Box::new(|| model.hessian(mol, HessianMethod::FiniteDifference { delta: 0.01 }).map(drop))));
    }
    let times = time_interleaved(&mut calls, min_runs, budget_s)?;
    Ok(calls.iter().zip(&times).map(|((name, _), t)| row_of(mol.len(), name, t)).collect())
}

/// Least-squares slope of `ln t` against `ln N` for one provider (needs ≥ 2 sizes).
pub fn scaling_exponent(rows: &[SpeedRow], provider: &str, min_atoms: usize) -> Option<f64> {
    loglog_slope(
        rows.iter()
            .filter(|r| r.provider == provider && r.n_atoms >= min_atoms)
            .map(|r| (r.n_atoms as f64, r.median_ms)),
    )
}

/// Least-squares slope of `ln t` against `ln(stored pairs)` for block-sparse rows: the cost per
/// unit of work of the cutoff Hessian graph, whatever the geometry's pairs per atom.
pub fn pair_scaling_exponent(rows: &[SpeedRow], provider: &str) -> Option<f64> {
    loglog_slope(
        rows.iter()
            .filter(|r| r.provider == provider)
            .filter_map(|r| r.n_pairs.filter(|&p| p > 0).map(|p| (p as f64, r.median_ms))),
    )
}

/// Least-squares slope of `ln y` against `ln x` over positive points (needs ≥ 2).
pub fn loglog_slope(points: impl Iterator<Item = (f64, f64)>) -> Option<f64> {
    let pts: Vec<(f64, f64)> = points.filter(|p| p.0 > 0.0 && p.1 > 0.0).map(|(x, y)| (x.ln(), y.ln())).collect();
    if pts.len() < 2 {
        return None;
    }
    let n = pts.len() as f64;
    let (mx, my) = (pts.iter().map(|p| p.0).sum::<f64>() / n, pts.iter().map(|p| p.1).sum::<f64>() / n);
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    (sxx > 0.0).then(|| sxy / sxx)
}

/// `t(provider) / t(direct)` at `n_atoms` (Hessian-only calls).
pub fn ratio(rows: &[SpeedRow], provider: &str, n_atoms: usize) -> Option<f64> {
    ratio_to(rows, provider, "direct", n_atoms)
}

/// `t(provider) / t(base)` at `n_atoms`.
pub fn ratio_to(rows: &[SpeedRow], provider: &str, base: &str, n_atoms: usize) -> Option<f64> {
    let t = |p: &str| rows.iter().find(|r| r.provider == p && r.n_atoms == n_atoms).map(|r| r.median_ms);
    Some(t(provider)? / t(base)?)
}
