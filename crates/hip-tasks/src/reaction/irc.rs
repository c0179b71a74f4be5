//! The intrinsic reaction coordinate: the steepest-descent path in mass-weighted coordinates
//! `q = M^{1/2} x` from a first-order saddle down both sides.
//!
//! 1. The transition vector: the lowest eigenvector of the mass-weighted Hessian at the TS
//!    (Eckart-projected for molecules; plain for surfaces that are not rigid-body invariant,
//!    which use unit masses). Its eigenvalue must be negative. `forward` is the direction whose
//!    first non-zero component is positive (Sella's convention), `reverse` the other.
//! 2. A first step along it long enough for the harmonic energy drop `|λ| s²/2` to reach
//!    `first_drop` eV (between `step` and 4 × `step` amu^½·Å: next to a flat saddle a step of
//!    `step` lowers the energy by less than the SCF noise of a QM potential), then Euler
//!    predictor–corrector (Heun) steps of length `step` along the mass-weighted negative
//!    gradient: `q' = q − s ĝ(q)`,
//!    `q_new = q − s · unit(ĝ(q) + ĝ(q'))`. A step that raises the energy is retried at half
//!    length (down to 1/16).
//! 3. A branch ends when the largest atomic force is below `end_force` eV/Å (only after
//!    `min_steps` steps: next to a flat saddle the force is small too, and a minimization started
//!    one step from the TS can fall to either side), the energy cannot be lowered, or after
//!    `max_steps`; its end is then minimized with RFO.

use hip_core::{MassConvention, Molecule, Potential, Result};
use nalgebra::DMatrix;

use crate::linalg::sym_eigen;
use crate::optimize::{Report, rfo};
use crate::vibrations::Vibrations;

/// IRC settings.
#[derive(Clone, Debug)]
pub struct IrcOptions {
    /// Step length, amu^½·Å (unit masses for model surfaces).
    pub step: f64,
    /// Steps per direction.
    pub max_steps: usize,
    /// End a branch when the largest atomic force is below this, eV/Å ...
    pub end_force: f64,
    /// ... but not before this many steps.
    pub min_steps: usize,
    /// Harmonic energy drop of the first step off the saddle, eV.
    pub first_drop: f64,
    /// Minimize each end with RFO.
    pub optimize_ends: bool,
}

impl Default for IrcOptions {
    fn default() -> Self {
        IrcOptions {
            step: 0.05,
            max_steps: 400,
            end_force: 0.05,
            min_steps: 10,
            first_drop: 0.002,
            optimize_ends: true,
        }
    }
}

/// One direction of the IRC.
#[derive(Clone, Debug, serde::Serialize)]
pub struct IrcBranch {
    /// Points along the path (the TS excluded), in order.
    #[serde(skip)]
    pub path: Vec<Molecule>,
    /// Their energies, eV.
    pub energies: Vec<f64>,
    /// Why the branch ended.
    pub end_reason: String,
    /// The minimized end (the last path point if not minimized).
    #[serde(skip)]
    pub end: Molecule,
    /// The RFO report of the end minimization.
    pub end_report: Option<Report>,
}

/// Both branches.
#[derive(Clone, Debug, serde::Serialize)]
pub struct IrcResult {
    /// Energy of the TS, eV.
    pub ts_energy: f64,
    /// Eigenvalue of the transition vector (mass-weighted), eV/(Å² amu).
    pub transition_eigenvalue: f64,
    /// Along `+v`.
    pub forward: IrcBranch,
    /// Along `−v`.
    pub reverse: IrcBranch,
    /// Energy+force evaluations of both branches (end minimizations not included).
    pub force_calls: usize,
}

fn masses(pot: &dyn Potential, mol: &Molecule) -> Result<Vec<f64>> {
    if pot.rigid_body_invariant() { mol.masses(MassConvention::Iupac) } else { Ok(vec![1.0; mol.len()]) }
}

/// The unit transition vector in mass-weighted coordinates and its eigenvalue.
fn transition_vector(pot: &dyn Potential, ts: &Molecule, m: &[f64]) -> Result<(Vec<f64>, f64)> {
    let h = pot.hessian(ts)?;
    let (lam, mut v) = if pot.rigid_body_invariant() {
        let vib = Vibrations::new(ts, &h, m)?;
        let lam = *vib.eigenvalues.first().ok_or_else(|| {
            hip_core::Error::invalid("IRC", "the structure has no vibrational modes (a single atom?)")
        })?;
        (lam, vib.mass_weighted_modes[0].clone())
    } else {
        let d = h.dim();
        let s: Vec<f64> = (0..d).map(|k| 1.0 / m[k / 3].sqrt()).collect();
        let hm = DMatrix::from_fn(d, d, |r, c| h.get(r, c) * s[r] * s[c]);
        let (vals, vecs) = sym_eigen(&hm, "IRC Hessian")?;
        (vals[0], vecs.column(0).iter().copied().collect())
    };
    if lam >= 0.0 {
        return Err(hip_core::Error::invalid(
            "IRC",
            format!("the start is not a saddle point: its lowest mass-weighted Hessian eigenvalue is {lam:.4e} ≥ 0"),
        ));
    }
    if v.iter().find(|x| x.abs() > 1e-12).is_some_and(|x| *x < 0.0) {
        v.iter_mut().for_each(|x| *x = -*x);
    }
    let n = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    Ok((v.iter().map(|x| x / n).collect(), lam))
}

/// Unit mass-weighted gradient direction, the gradient norm, energy and max atomic force at `q`.
struct Point {
    ghat: Vec<f64>,
    energy: f64,
    max_force: f64,
}

fn point(pot: &dyn Potential, template: &Molecule, q: &[f64], sm: &[f64], calls: &mut usize) -> Result<Point> {
    let x: Vec<f64> = q.iter().zip(sm).map(|(a, s)| a / s).collect();
    let ef = pot.energy_forces(&template.with_flat_positions(&x))?;
    *calls += 1;
    let g: Vec<f64> = ef.forces.iter().flatten().zip(sm).map(|(f, s)| -f / s).collect();
    let n = g.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-300);
    let max_force = ef.forces.iter().map(|f| (f[0] * f[0] + f[1] * f[1] + f[2] * f[2]).sqrt()).fold(0.0, f64::max);
    Ok(Point { ghat: g.iter().map(|x| x / n).collect(), energy: ef.energy, max_force })
}

fn branch(
    pot: &dyn Potential,
    ts: &Molecule,
    (v, lam): (&[f64], f64),
    sign: f64,
    sm: &[f64],
    opts: &IrcOptions,
    calls: &mut usize,
) -> Result<IrcBranch> {
    let q0: Vec<f64> = ts.flat_positions().iter().zip(sm).map(|(x, s)| x * s).collect();
    let first = (2.0 * opts.first_drop / lam.abs().max(1e-12)).sqrt().clamp(opts.step, 4.0 * opts.step);
    let mut q: Vec<f64> = q0.iter().zip(v).map(|(a, b)| a + sign * first * b).collect();
    let to_mol = |q: &[f64]| ts.with_flat_positions(&q.iter().zip(sm).map(|(a, s)| a / s).collect::<Vec<_>>());
    let mut cur = point(pot, ts, &q, sm, calls)?;
    let (mut path, mut energies) = (vec![to_mol(&q)], vec![cur.energy]);
    let mut reason = format!("{} steps", opts.max_steps);
    for k in 0..opts.max_steps {
        if cur.max_force < opts.end_force && k >= opts.min_steps {
            reason = format!("largest force below {} eV/Å", opts.end_force);
            break;
        }
        let mut s = opts.step;
        let mut accepted = None;
        while s >= opts.step / 16.0 {
            let qp: Vec<f64> = q.iter().zip(&cur.ghat).map(|(a, g)| a - s * g).collect();
            let pred = point(pot, ts, &qp, sm, calls)?;
            let mean: Vec<f64> = cur.ghat.iter().zip(&pred.ghat).map(|(a, b)| a + b).collect();
            let n = mean.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-300);
            let qn: Vec<f64> = q.iter().zip(&mean).map(|(a, g)| a - s * g / n).collect();
            let next = point(pot, ts, &qn, sm, calls)?;
            if next.energy < cur.energy {
                accepted = Some((qn, next));
                break;
            }
            s *= 0.5;
        }
        let Some((qn, next)) = accepted else {
            reason = "the energy could not be lowered further".into();
            break;
        };
        q = qn;
        cur = next;
        path.push(to_mol(&q));
        energies.push(cur.energy);
    }
    let last = path.last().cloned().unwrap_or_else(|| to_mol(&q));
    let (end, end_report) = if opts.optimize_ends {
        let r = rfo::minimize(pot, &last, &rfo::RfoOptions::default())?;
        (r.molecule.clone(), Some(r))
    } else {
        (last, None)
    };
    Ok(IrcBranch { path, energies, end_reason: reason, end, end_report })
}

/// The IRC from the saddle point `ts` in both directions.
pub fn irc(pot: &dyn Potential, ts: &Molecule, opts: &IrcOptions) -> Result<IrcResult> {
    let m = masses(pot, ts)?;
    let sm: Vec<f64> = (0..3 * ts.len()).map(|k| m[k / 3].sqrt()).collect();
    let (v, lam) = transition_vector(pot, ts, &m)?;
    let ts_energy = pot.energy_forces(ts)?.energy;
    let mut calls = 1;
    let forward = branch(pot, ts, (&v, lam), 1.0, &sm, opts, &mut calls)?;
    let reverse = branch(pot, ts, (&v, lam), -1.0, &sm, opts, &mut calls)?;
    Ok(IrcResult { ts_energy, transition_eigenvalue: lam, forward, reverse, force_calls: calls })
}
