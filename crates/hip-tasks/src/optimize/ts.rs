//! Transition-state search by restricted-step partitioned RFO (RS-P-RFO): maximize along one
//! Hessian mode, minimize along all others, inside a trust radius (see [`super::step`]).
//!
//! The maximized mode is the lowest one at the start (or [`TsOptions::mode`]); after that it is
//! the mode with the largest overlap with the previous one (mode following). The Hessian is
//! recomputed every `hessian_every` steps (1 = every step, as the paper) and Bofill-updated in
//! between; with [`TsOptions::mode_probes`] each fresh Hessian is first corrected along the
//! followed and the lowest modes by the surface's own Hessian-vector products ([`super::probe`]).
//! Steps are never rejected for their energy (it should rise along one mode), only when the
//! potential refuses the new geometry ([`MAX_REFUSED`]); the trust radius follows
//! Sella's saddle-point rule ([`update_trust`]): it shrinks to 0.65 × the step when the quadratic
//! model's predicted energy change is off by more than a factor 5, and grows to 1.15 × the step
//! only when the prediction is within 3.5 %.

use hip_core::{Molecule, Potential, Result};
use nalgebra::DVector;

use super::probe;
use super::step::{predicted_change, prfo_step};
use super::{Evaluator, Report, RunEnd, Thresholds, Trust, hessian_update, max_rms};

/// Options for [`search`].
#[derive(Clone, Debug)]
pub struct TsOptions {
    /// Recompute the Hessian every `k` steps (1 = every step), Bofill-update in between.
    pub hessian_every: usize,
    /// Index (ascending eigenvalue order) of the mode to maximize along at the start ...
    pub mode: usize,
    /// ... unless a guide is given (flat over (atom, xyz), e.g. the NEB tangent at the climbing
    /// image): then the start mode is the one with the largest overlap with it.
    pub guide: Option<Vec<f64>>,
    /// Step limit (the paper: 50).
    pub max_steps: usize,
    /// Convergence thresholds.
    pub thresholds: Thresholds,
    /// Trust radius.
    pub trust: Trust,
    /// Classify the final geometry with one more Hessian.
    pub classify: bool,
    /// Make each freshly computed Hessian (after the first) agree with the gradient change of
    /// the step just taken, by one Bofill update with that step (`H s = Δg` afterwards). For an
    /// approximate Hessian, such as a directly predicted one, that is not the exact curvature of
    /// the surface the gradients come from: the update restores the curvature along the step,
    /// which Newton-type convergence near the saddle depends on. Off = the paper's protocol.
    pub secant_update: bool,
    /// Correct each fresh Hessian with this many Hessian-vector products of the surface's own
    /// gradient (two gradient calls each; [`super::probe`]): along the mode the search follows,
    /// then along the lowest modes, so that the curvatures which decide the search's direction
    /// and its convergence are the surface's, whatever the Hessian's source; and classify the end
    /// point from its Hessian refined the same way along its lowest modes. 0 = off (the paper's
    /// protocol).
    pub mode_probes: usize,
    /// Which mode to climb after a fresh Hessian: the one that overlaps most with the mode climbed
    /// before (`false`, the default: robust to approximate Hessians whose soft modes reorder), or
    /// the lowest (`true`: what an exact Hessian supports, as Sella does).
    pub follow_lowest: bool,
}

impl Default for TsOptions {
    fn default() -> Self {
        TsOptions {
            hessian_every: 1,
            mode: 0,
            guide: None,
            max_steps: 50,
            thresholds: Thresholds::gau(),
            trust: Trust { initial: 0.1, min: 1e-3, max: 0.3 },
            classify: true,
            secant_update: false,
            mode_probes: 0,
            follow_lowest: false,
        }
    }
}

/// Steps in a row the potential may refuse (each retried at a quarter of its length) before its
/// error ends the search.
pub const MAX_REFUSED: usize = 4;

/// Searches for a first-order saddle point starting from `start`.
pub fn search(pot: &dyn Potential, start: &Molecule, opts: &TsOptions) -> Result<Report> {
    if start.len() < 2 && pot.rigid_body_invariant() {
        return Err(hip_core::Error::invalid(
            "transition-state search",
            "a single atom has no internal coordinates, so it has no transition state",
        ));
    }
    if let Some(g) = &opts.guide {
        if g.len() != 3 * start.len() || !g.iter().all(|v| v.is_finite()) || g.iter().all(|&v| v == 0.0) {
            return Err(hip_core::Error::invalid(
                "transition-state search",
                format!("the start-mode guide needs {} finite numbers, not all zero", 3 * start.len()),
            ));
        }
    }
    let guide = opts.guide.as_ref().map(|g| DVector::from_column_slice(g));
    let mut ev = Evaluator::new(pot, start)?;
    let mut x = start.flat_positions();
    let (mut e, mut g) = ev.energy_gradient(&x)?;
    let mut h = ev.hessian(&x)?;
    let mut trust = opts.trust.initial;
    let mut energies = vec![e];
    let (mut last_max_step, mut last_rms_step) = (f64::INFINITY, f64::INFINITY);
    let (mut converged, mut steps, mut since_hessian) = (false, 0, 0);
    let mut followed: Option<DVector<f64>> = None;
    let mut fresh = true;
    let (mut fmax, mut frms);
    loop {
        let b;
        (b, _, fmax, frms) = ev.project(&x, &g)?;
        if b.ncols() == 0 {
            return Err(hip_core::Error::invalid(
                "transition-state search",
                "a single atom has no internal coordinates, so it has no transition state",
            ));
        }
        if opts.thresholds.converged(fmax, frms, last_max_step, last_rms_step) {
            converged = true;
            break;
        }
        if steps >= opts.max_steps {
            break;
        }
        steps += 1;
        if fresh && opts.mode_probes > 0 {
            probe::probe_low_modes(&mut ev, &x, &mut h, &b, opts.mode_probes, |vecs| {
                followed_mode(vecs, followed.as_ref(), opts.mode)
            })?;
        }
        fresh = false;
        let hs = b.transpose() * &h * &b;
        let (lam, vectors) = crate::linalg::sym_eigen(&hs, "TS-search Hessian")?;
        let vecs: Vec<DVector<f64>> = (0..lam.len()).map(|i| &b * vectors.column(i)).collect();
        let previous = match (&followed, &guide) {
            (None, Some(g)) => Some(g),
            _ if opts.follow_lowest && since_hessian == 0 => None,
            (f, _) => f.as_ref(),
        };
        let t = followed_mode(&vecs, previous, opts.mode);
        followed = Some(vecs[t].clone());
        let gt: Vec<f64> = vecs.iter().map(|v| v.dot(&g)).collect();
        // a step into a geometry the potential refuses (an SCF that does not converge, nearly
        // coincident nuclei) is retried at a quarter of its length, at most MAX_REFUSED times
        let mut refused = 0;
        let (dx, pred, x_new, e_new, g_new) = loop {
            let s_eig = prfo_step(&lam, &gt, t, trust);
            let pred = predicted_change(&lam, &gt, &s_eig);
            let mut dx = DVector::zeros(x.len());
            for (v, s) in vecs.iter().zip(&s_eig) {
                dx += v * *s;
            }
            let x_new: Vec<f64> = x.iter().zip(dx.iter()).map(|(a, d)| a + d).collect();
            match ev.energy_gradient(&x_new) {
                Ok((e_new, g_new)) => break (dx, pred, x_new, e_new, g_new),
                Err(_) if refused < MAX_REFUSED && dx.norm() > opts.trust.min => {
                    refused += 1;
                    trust = (0.25 * dx.norm()).max(opts.trust.min);
                }
                Err(err) => return Err(err),
            }
        };
        let step_len = dx.norm();
        let ratio = if pred.abs() > 1e-300 { (e_new - e) / pred } else { 1.0 };
        trust = update_trust(trust, step_len, ratio, &opts.trust);
        let y = &g_new - &g;
        x = x_new;
        e = e_new;
        g = g_new;
        energies.push(e);
        (last_max_step, last_rms_step) = max_rms(&dx);
        since_hessian += 1;
        if since_hessian >= opts.hessian_every.max(1) {
            h = ev.hessian(&x)?;
            fresh = true;
            if opts.secant_update {
                hessian_update::bofill(&mut h, &dx, &y);
            }
            since_hessian = 0;
        } else {
            hessian_update::bofill(&mut h, &dx, &y);
        }
    }
    let end = RunEnd { x, converged, steps, energy: e, max_force: fmax, rms_force: frms, energies };
    let mut name = format!("rs-p-rfo(hessian_every={}", opts.hessian_every);
    if opts.secant_update {
        name += ", secant";
    }
    if opts.mode_probes > 0 {
        name += &format!(", mode_probes={}", opts.mode_probes);
    }
    if opts.follow_lowest {
        name += ", follow_lowest";
    }
    if opts.guide.is_some() {
        name += ", guided start";
    }
    if opts.mode_probes > 0 && opts.classify {
        // the end point's classification from the Hessian refined along its lowest modes by the
        // surface's own Hessian-vector products: an approximate Hessian's soft modes are where
        // spurious imaginary modes come from
        let hess = probe::refined_hessian(&mut ev, &end.x, opts.mode_probes)?;
        let fp = super::classify_hessian(pot.rigid_body_invariant(), &ev.molecule(&end.x), &hess)?;
        return ev.finish_with(name + ", refined classification)", end, Some(fp));
    }
    ev.finish(name + ")", end, opts.classify)
}

/// The next trust radius after a step of length `step` whose actual energy change was `ratio` ×
/// the predicted one: Sella's constants for saddle points (Hermes et al., J. Chem. Theory Comput.
/// 18, 6974 (2022); `sella.optimize.optimize`, `saddle` defaults): a poor prediction
/// (`ratio` outside [1/5, 5]) shrinks it to 0.65 × the step, a nearly exact one (within 3.5 %)
/// grows it to 1.15 × the step if that is larger; otherwise it stays. A saddle search walks
/// along a negative-curvature mode where the quadratic model is trustworthy only close by, so the
/// radius grows slowly (doubling it on a merely good prediction overshot into other basins).
fn update_trust(trust: f64, step: f64, ratio: f64, limits: &super::Trust) -> f64 {
    let t = if !(0.2..=5.0).contains(&ratio) {
        0.65 * step
    } else if (1.0 / 1.035..1.035).contains(&ratio) {
        (1.15 * step).max(trust)
    } else {
        trust
    };
    t.clamp(limits.min, limits.max)
}

/// The mode to maximize along, among eigenvectors `vecs` (ascending eigenvalues): index `mode`
/// at the start, then the one with the largest overlap with the mode followed so far.
fn followed_mode(vecs: &[DVector<f64>], followed: Option<&DVector<f64>>, mode: usize) -> usize {
    match followed {
        None => mode.min(vecs.len().saturating_sub(1)),
        Some(prev) => {
            (0..vecs.len()).max_by(|&i, &j| vecs[i].dot(prev).abs().total_cmp(&vecs[j].dot(prev).abs())).unwrap_or(0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_radius_follows_sellas_rule() {
        let lim = super::super::Trust { initial: 0.1, min: 1e-3, max: 0.3 };
        // poor predictions, either way: 0.65 × the step
        for r in [-1.0, 0.1, 6.0] {
            assert!((update_trust(0.1, 0.08, r, &lim) - 0.052).abs() < 1e-15, "ratio {r}");
        }
        // nearly exact: 1.15 × the step, never below the current radius, never above the limit
        assert!((update_trust(0.1, 0.1, 1.01, &lim) - 0.115).abs() < 1e-15);
        assert_eq!(update_trust(0.1, 0.02, 0.99, &lim), 0.1);
        assert_eq!(update_trust(0.3, 0.3, 1.0, &lim), 0.3);
        // merely good or tolerable: unchanged
        for r in [0.25, 0.9, 1.2, 4.5] {
            assert_eq!(update_trust(0.1, 0.1, r, &lim), 0.1, "ratio {r}");
        }
        // never below the smallest radius
        assert_eq!(update_trust(0.1, 1e-5, 10.0, &lim), 1e-3);
    }
}
