//! FIRE (Bitzek et al., PRL 97, 170201 (2006)) with ASE's parameters and step cap.

use hip_core::{Molecule, Potential, Result};
use nalgebra::DVector;

use super::{Evaluator, Report, RunEnd, Thresholds, max_rms};

/// Options for [`minimize`] (defaults are ASE's).
#[derive(Clone, Debug)]
pub struct FireOptions {
    /// Initial time step.
    pub dt: f64,
    /// Largest time step.
    pub dt_max: f64,
    /// Largest step length, Å.
    pub max_step: f64,
    /// Step limit.
    pub max_steps: usize,
    /// Convergence thresholds.
    pub thresholds: Thresholds,
    /// Classify the final geometry with one Hessian.
    pub classify: bool,
}

impl Default for FireOptions {
    fn default() -> Self {
        FireOptions {
            dt: 0.1,
            dt_max: 1.0,
            max_step: 0.2,
            max_steps: 2000,
            thresholds: Thresholds::gau(),
            classify: true,
        }
    }
}

/// Minimizes with FIRE.
pub fn minimize(pot: &dyn Potential, start: &Molecule, opts: &FireOptions) -> Result<Report> {
    const N_MIN: usize = 5;
    const F_INC: f64 = 1.1;
    const F_DEC: f64 = 0.5;
    const A_START: f64 = 0.1;
    const F_A: f64 = 0.99;
    let mut ev = Evaluator::new(pot, start)?;
    let mut x = start.flat_positions();
    let (mut e, mut g) = ev.energy_gradient(&x)?;
    let mut v = DVector::<f64>::zeros(x.len());
    let (mut dt, mut a, mut n_pos) = (opts.dt, A_START, 0usize);
    let mut energies = vec![e];
    let (mut last_max_step, mut last_rms_step) = (f64::INFINITY, f64::INFINITY);
    let (mut converged, mut steps) = (false, 0);
    let (mut fmax, mut frms);
    loop {
        let b = ev.basis(&x)?;
        let f = -(&b * (b.transpose() * &g));
        (fmax, frms) = max_rms(&f);
        if opts.thresholds.converged(fmax, frms, last_max_step, last_rms_step) {
            converged = true;
            break;
        }
        if steps >= opts.max_steps {
            break;
        }
        if steps > 0 {
            let vf = v.dot(&f);
            if vf > 0.0 {
                let fnorm = f.norm().max(1e-300);
                v = &v * (1.0 - a) + &f * (a * v.norm() / fnorm);
                if n_pos > N_MIN {
                    dt = (dt * F_INC).min(opts.dt_max);
                    a *= F_A;
                }
                n_pos += 1;
            } else {
                v.fill(0.0);
                a = A_START;
                dt *= F_DEC;
                n_pos = 0;
            }
        }
        steps += 1;
        v += &f * dt;
        let mut dx = &v * dt;
        let len = dx.norm();
        if len > opts.max_step {
            dx *= opts.max_step / len;
        }
        x = x.iter().zip(dx.iter()).map(|(p, d)| p + d).collect();
        (e, g) = ev.energy_gradient(&x)?;
        energies.push(e);
        (last_max_step, last_rms_step) = max_rms(&dx);
    }
    let end = RunEnd { x, converged, steps, energy: e, max_force: fmax, rms_force: frms, energies };
    ev.finish("fire".into(), end, opts.classify)
}
