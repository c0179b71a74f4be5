//! RFO minimization with a trust radius and exact or BFGS-updated Hessians.

use hip_core::{Molecule, Potential, Result};
use nalgebra::DVector;

use super::step::{predicted_change, rfo_step};
use super::{Evaluator, Report, RunEnd, Thresholds, Trust, hessian_update, max_rms};

/// Options for [`minimize`].
#[derive(Clone, Debug)]
pub struct RfoOptions {
    /// Recompute the Hessian every `k` steps (1 = every step), BFGS-update in between;
    /// 0 = Hessian at step 0 only, then BFGS updates.
    pub hessian_every: usize,
    /// Step limit.
    pub max_steps: usize,
    /// Convergence thresholds.
    pub thresholds: Thresholds,
    /// Trust radius.
    pub trust: Trust,
    /// Classify the final geometry with one more Hessian.
    pub classify: bool,
    /// RFO-BFGS from a unit Hessian `h0 · I` (eV/Å²) instead of a Hessian call: no Hessian is
    /// ever computed (`hessian_every` is ignored), only BFGS updates.
    pub unit_initial_hessian: Option<f64>,
}

impl Default for RfoOptions {
    fn default() -> Self {
        RfoOptions {
            hessian_every: 1,
            max_steps: 200,
            thresholds: Thresholds::gau(),
            trust: Trust::default(),
            classify: true,
            unit_initial_hessian: None,
        }
    }
}

/// Minimizes `pot` from `start` with RS-RFO steps. Uphill steps are rejected and the trust
/// radius shrinks; a good quadratic model (ratio > 0.75 at the trust boundary) grows it.
pub fn minimize(pot: &dyn Potential, start: &Molecule, opts: &RfoOptions) -> Result<Report> {
    let mut ev = Evaluator::new(pot, start)?;
    let mut x = start.flat_positions();
    let (mut e, mut g) = ev.energy_gradient(&x)?;
    let mut h = match opts.unit_initial_hessian {
        Some(h0) => nalgebra::DMatrix::identity(x.len(), x.len()) * h0,
        None => ev.hessian(&x)?,
    };
    let mut trust = opts.trust.initial;
    let mut energies = vec![e];
    let (mut last_max_step, mut last_rms_step) = (f64::INFINITY, f64::INFINITY);
    let mut converged = false;
    let mut steps = 0;
    let mut since_hessian = 0;
    let (mut fmax, mut frms);
    loop {
        let (b, gs);
        (b, gs, fmax, frms) = ev.project(&x, &g)?;
        if b.ncols() == 0 {
            converged = true; // a single atom: no internal coordinate to optimize
            break;
        }
        if opts.thresholds.converged(fmax, frms, last_max_step, last_rms_step) {
            converged = true;
            break;
        }
        if steps >= opts.max_steps {
            break;
        }
        steps += 1;
        let hs = b.transpose() * &h * &b;
        let (lam, vectors) = crate::linalg::sym_eigen(&hs, "RFO Hessian")?;
        let gt: Vec<f64> = (vectors.transpose() * &gs).iter().copied().collect();
        let s_eig = rfo_step(&lam, &gt, trust);
        let pred = predicted_change(&lam, &gt, &s_eig);
        let dx = &b * (&vectors * DVector::from_vec(s_eig));
        let x_new: Vec<f64> = x.iter().zip(dx.iter()).map(|(a, d)| a + d).collect();
        let (e_new, g_new) = ev.energy_gradient(&x_new)?;
        let de = e_new - e;
        let step_len = dx.norm();
        let ratio = if pred.abs() > 1e-300 { de / pred } else { 1.0 };
        if de > 1e-10 * e.abs().max(1.0) && step_len > opts.trust.min {
            // reject: the model promised a decrease and the energy went up
            trust = (0.25 * step_len).max(opts.trust.min);
            continue;
        }
        if ratio < 0.25 {
            trust = (0.25 * step_len).max(opts.trust.min);
        } else if ratio > 0.75 && step_len > 0.8 * trust {
            trust = (2.0 * trust).min(opts.trust.max);
        }
        let y = &g_new - &g;
        x = x_new;
        e = e_new;
        g = g_new;
        energies.push(e);
        (last_max_step, last_rms_step) = max_rms(&dx);
        since_hessian += 1;
        if opts.unit_initial_hessian.is_none() && opts.hessian_every > 0 && since_hessian >= opts.hessian_every {
            h = ev.hessian(&x)?;
            since_hessian = 0;
        } else {
            hessian_update::bfgs(&mut h, &dx, &y);
        }
    }
    let end = RunEnd { x, converged, steps, energy: e, max_force: fmax, rms_force: frms, energies };
    let name = match opts.unit_initial_hessian {
        Some(h0) => format!("rfo-bfgs(unit initial Hessian {h0})"),
        None => format!("rfo(hessian_every={})", opts.hessian_every),
    };
    ev.finish(name, end, opts.classify)
}
