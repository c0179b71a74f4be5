//! Plain BFGS from a unit Hessian: quasi-Newton steps `−H⁻¹g`, capped at a maximum step,
//! with no Hessian calls — the baseline a model Hessian should beat.

use hip_core::{Molecule, Potential, Result};
use nalgebra::{DMatrix, DVector};

use super::{Evaluator, Report, RunEnd, Thresholds, hessian_update, max_rms};

/// Options for [`minimize`].
#[derive(Clone, Debug)]
pub struct BfgsOptions {
    /// Initial Hessian `h0 · I` (eV/Å²; the default 1 is the "unit" Hessian).
    pub initial_hessian: f64,
    /// Largest step length, Å.
    pub max_step: f64,
    /// Step limit.
    pub max_steps: usize,
    /// Convergence thresholds.
    pub thresholds: Thresholds,
    /// Classify the final geometry with one Hessian.
    pub classify: bool,
}

impl Default for BfgsOptions {
    fn default() -> Self {
        BfgsOptions {
            initial_hessian: 1.0,
            max_step: 0.2,
            max_steps: 500,
            thresholds: Thresholds::gau(),
            classify: true,
        }
    }
}

/// Minimizes with BFGS.
pub fn minimize(pot: &dyn Potential, start: &Molecule, opts: &BfgsOptions) -> Result<Report> {
    let mut ev = Evaluator::new(pot, start)?;
    let mut x = start.flat_positions();
    let n = x.len();
    let (mut e, mut g) = ev.energy_gradient(&x)?;
    let mut h = DMatrix::<f64>::identity(n, n) * opts.initial_hessian;
    let mut energies = vec![e];
    let (mut last_max_step, mut last_rms_step) = (f64::INFINITY, f64::INFINITY);
    let (mut converged, mut steps) = (false, 0);
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
        let (lam, vectors) = crate::linalg::sym_eigen(&hs, "BFGS Hessian")?;
        // Newton step with |λ| (safe if the update ever lost definiteness)
        let gt = vectors.transpose() * &gs;
        let st = DVector::from_iterator(gt.len(), gt.iter().zip(&lam).map(|(gi, l)| -gi / l.abs().max(1e-8)));
        let mut dx = &b * (&vectors * st);
        let len = dx.norm();
        if len > opts.max_step {
            dx *= opts.max_step / len;
        }
        let x_new: Vec<f64> = x.iter().zip(dx.iter()).map(|(a, d)| a + d).collect();
        let (e_new, g_new) = ev.energy_gradient(&x_new)?;
        let y = &g_new - &g;
        hessian_update::bfgs(&mut h, &dx, &y);
        x = x_new;
        e = e_new;
        g = g_new;
        energies.push(e);
        (last_max_step, last_rms_step) = max_rms(&dx);
    }
    let end = RunEnd { x, converged, steps, energy: e, max_force: fmax, rms_force: frms, energies };
    ev.finish("bfgs".into(), end, opts.classify)
}
