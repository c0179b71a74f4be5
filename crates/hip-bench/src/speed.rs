//! Time per Hessian of each provider on the same model and molecules (median after warm-up),
//! one energy+force call as the unit of cost, and fitted scaling exponents.

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

/// Times `energy_forces`, `direct`, `direct_with_forces`, `autodiff` and `fd` on `mol` (`reps`
/// repetitions; AD and FD get fewer when slow). Providers in `skip` are not run.
///
/// `direct`, `autodiff` and `fd` time [`HipModel::hessian`], the call that returns a Hessian:
/// for `direct` that is one forward pass and no backward pass. `direct_with_forces` is
/// [`HipModel::predict`] with the direct head, i.e. energy, forces *and* Hessian in one call
/// (forward + one backward pass), for users who need all three.
pub fn time_providers(
    model: &HipModel,
    mol: &Molecule,
    reps: usize,
    skip: &[&str],
) -> hip_model::Result<Vec<SpeedRow>> {
    let n = mol.len();
    let mut rows = Vec::new();
    let mut push = |provider: &str, ms: f64| {
        rows.push(SpeedRow { n_atoms: n, provider: provider.into(), median_ms: ms, peak_rss_mb: None, n_pairs: None })
    };
    push("energy_forces", median_ms(|| model.predict_energy_forces(mol).map(drop), reps)?);
    push("direct", median_ms(|| model.hessian(mol, HessianMethod::Direct).map(drop), reps)?);
    push("direct_with_forces", median_ms(|| model.predict(mol, HessianMethod::Direct).map(drop), reps)?);
    let slow_reps = if n >= 20 { 1 } else { reps.min(3) };
    if !skip.contains(&"autodiff") {
        push("autodiff", median_ms(|| model.hessian(mol, HessianMethod::Autodiff).map(drop), slow_reps)?);
    }
    if !skip.contains(&"fd") {
        push(
            "fd",
            median_ms(|| model.hessian(mol, HessianMethod::FiniteDifference { delta: 0.01 }).map(drop), slow_reps)?,
        );
    }
    Ok(rows)
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

/// `t(provider) / t(direct)` at `n_atoms`.
pub fn ratio(rows: &[SpeedRow], provider: &str, n_atoms: usize) -> Option<f64> {
    let t = |p: &str| rows.iter().find(|r| r.provider == p && r.n_atoms == n_atoms).map(|r| r.median_ms);
    Some(t(provider)? / t("direct")?)
}
