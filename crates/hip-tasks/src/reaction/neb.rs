//! Climbing-image nudged elastic band (Henkelman, Uberuaga & Jónsson, J. Chem. Phys. 113, 9901
//! (2000)) with the improved tangent (Henkelman & Jónsson, ibid. 9978):
//!
//! - tangent `τ_i` toward the higher-energy neighbour (energy-weighted mix at extrema);
//! - force on image `i`: the true force perpendicular to `τ_i` plus the spring force along it,
//!   `F_i = F⊥ + k (|R_{i+1} − R_i| − |R_i − R_{i−1}|) τ_i`;
//! - climbing image (once the band's largest force is below `climb_start`, or after
//!   `climb_after` steps without climbing): the highest image feels `F − 2 (F·τ) τ` and no
//!   spring, so it climbs to the saddle along the band; FIRE restarts when it turns on (the two
//!   stages of ASE's standard CI-NEB recipe: a plain NEB to 0.5 eV/Å, then a climbing one);
//! - FIRE on all intermediate images at once, with ASE's constants; the band's whole step is
//!   scaled down to a norm of at most `max_band_step` Å (ASE's FIRE `maxstep`, which keeps the
//!   step's direction), or, without it, each coordinate clamped to `max_move` Å;
//! - a band step into a geometry the potential refuses is undone and retried with a quarter of
//!   the time step and no momentum;
//! - converged when the largest atomic NEB force of every intermediate image (the climbing one
//!   included) is below `fmax` eV/Å with the climbing image on, and that of the climbing image
//!   below `ci_fmax`: on a flat stretch of the path (a late TS a few hundredths of an eV above a
//!   shallow product, ReactBench's rxn1811) an image can meet 0.05 eV/Å on a shoulder below the
//!   saddle, where the Hessian has no negative mode and no TS search started there recovers.

use hip_core::{EnergyForces, Molecule, Potential, Result};

/// NEB settings.
#[derive(Clone, Debug)]
pub struct NebOptions {
    /// Spring constant, eV/Å².
    pub spring: f64,
    /// Use a climbing image.
    pub climb: bool,
    /// Turn the climbing image on once the largest NEB force is below this, eV/Å ...
    pub climb_start: f64,
    /// ... or after this many steps without it.
    pub climb_after: usize,
    /// Convergence: largest atomic NEB force, eV/Å ...
    pub fmax: f64,
    /// ... and that of the climbing image, eV/Å.
    pub ci_fmax: f64,
    /// Band iterations.
    pub max_steps: usize,
    /// FIRE initial and largest time step.
    pub dt: f64,
    /// FIRE largest time step.
    pub dt_max: f64,
    /// Largest norm of the whole band's step (all intermediate images together), Å; the step is
    /// scaled down to it, keeping its direction. `None`: clamp each coordinate to `max_move`.
    pub max_band_step: Option<f64>,
    /// Largest move of a coordinate per step, Å (when `max_band_step` is `None`).
    pub max_move: f64,
}

impl Default for NebOptions {
    fn default() -> Self {
        NebOptions {
            spring: 0.1,
            climb: true,
            climb_start: 0.5,
            climb_after: 200,
            fmax: 0.05,
            ci_fmax: 0.01,
            max_steps: 700,
            dt: 0.1,
            dt_max: 1.0,
            max_band_step: Some(0.2),
            max_move: 0.1,
        }
    }
}

/// A relaxed band.
#[derive(Clone, Debug, serde::Serialize)]
pub struct NebResult {
    /// The images, end points included.
    #[serde(skip)]
    pub images: Vec<Molecule>,
    /// Their energies, eV.
    pub energies: Vec<f64>,
    /// Index of the climbing image (the TS guess), if climbing was on.
    pub climbing: Option<usize>,
    /// Whether the band converged.
    pub converged: bool,
    /// Band iterations.
    pub steps: usize,
    /// Final largest atomic NEB force, eV/Å.
    pub max_force: f64,
    /// Energy+force evaluations.
    pub force_calls: usize,
}

impl NebResult {
    /// The TS guess: the climbing image, or the highest intermediate image.
    pub fn ts_guess(&self) -> &Molecule {
        &self.images[self.ts_guess_index()]
    }

    /// The band's improved tangent at intermediate image `k` (unit vector, flat over (atom, xyz)),
    /// `None` for an end point or an index outside the band.
    pub fn tangent_at(&self, k: usize) -> Option<Vec<f64>> {
        if k == 0 || k + 1 >= self.images.len() {
            return None;
        }
        let x: Vec<Vec<f64>> = self.images.iter().map(Molecule::flat_positions).collect();
        Some(tangent(&x, &self.energies, k))
    }

    /// The index of the TS guess ([`Self::ts_guess`]).
    pub fn ts_guess_index(&self) -> usize {
        self.climbing.unwrap_or_else(|| highest(&self.energies))
    }
}

fn highest(e: &[f64]) -> usize {
    (1..e.len().saturating_sub(1)).max_by(|&a, &b| e[a].total_cmp(&e[b])).unwrap_or(0)
}

fn sub(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x - y).collect()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

/// The improved tangent at image `i` (unit vector).
fn tangent(x: &[Vec<f64>], e: &[f64], i: usize) -> Vec<f64> {
    let (tp, tm) = (sub(&x[i + 1], &x[i]), sub(&x[i], &x[i - 1]));
    let (ep, e0, em) = (e[i + 1], e[i], e[i - 1]);
    let t: Vec<f64> = if ep > e0 && e0 > em {
        tp
    } else if ep < e0 && e0 < em {
        tm
    } else {
        let (dmax, dmin) = ((ep - e0).abs().max((em - e0).abs()), (ep - e0).abs().min((em - e0).abs()));
        let (wp, wm) = if ep > em { (dmax, dmin) } else { (dmin, dmax) };
        tp.iter().zip(&tm).map(|(a, b)| wp * a + wm * b).collect()
    };
    let n = norm(&t).max(1e-300);
    t.iter().map(|v| v / n).collect()
}

/// The largest atomic norm of a force vector flat over (atom, xyz).
fn largest_atomic(f: &[f64]) -> f64 {
    f.chunks(3).map(|c| (c[0] * c[0] + c[1] * c[1] + c[2] * c[2]).sqrt()).fold(0.0, f64::max)
}

/// Refused band steps in a row that are undone (each retried with a quarter of the time step);
/// the next one ends the NEB with the potential's error.
pub const MAX_BACKTRACKS: usize = 6;

/// Energies and forces of the intermediate images at `x`.
fn evaluate_images(
    template: &Molecule,
    x: &[Vec<f64>],
    eval: &mut impl FnMut(usize, &Molecule) -> Result<EnergyForces>,
    e: &mut [f64],
    f: &mut [Vec<f64>],
    calls: &mut usize,
) -> Result<()> {
    for k in 1..x.len() - 1 {
        let ef = eval(k, &template.with_flat_positions(&x[k]))?;
        *calls += 1;
        e[k] = ef.energy;
        f[k] = ef.forces.iter().flatten().copied().collect();
    }
    Ok(())
}

/// Relaxes `band` (end points fixed) with forces from `eval(image_index, molecule)`. A step into
/// a geometry where `eval` fails is undone and retried with a smaller time step (at most
/// [`MAX_BACKTRACKS`] times in a row).
pub fn relax_band(
    band: Vec<Molecule>,
    mut eval: impl FnMut(usize, &Molecule) -> Result<EnergyForces>,
    opts: &NebOptions,
    progress: Option<&indicatif::ProgressBar>,
) -> Result<NebResult> {
    let m = band.len();
    if m < 3 {
        return Err(hip_core::Error::invalid("NEB", format!("a band needs at least 3 images, got {m}")));
    }
    let template = band[0].clone();
    let mut x: Vec<Vec<f64>> = band.iter().map(Molecule::flat_positions).collect();
    let mut e = vec![0.0; m];
    let mut f: Vec<Vec<f64>> = vec![Vec::new(); m];
    let mut calls = 0;
    for k in [0, m - 1] {
        let ef = eval(k, &band[k])?;
        calls += 1;
        e[k] = ef.energy;
    }
    let d = x[0].len();
    let mut v = vec![vec![0.0; d]; m];
    let (mut dt, mut a, mut n_pos) = (opts.dt, 0.1, 0usize);
    let (mut climbing, mut converged, mut steps, mut fmax) = (None, false, 0, f64::INFINITY);
    let mut x_prev = x.clone();
    let mut failures = 0;
    loop {
        match evaluate_images(&template, &x, &mut eval, &mut e, &mut f, &mut calls) {
            Ok(()) => failures = 0,
            // a step into a geometry the potential refuses (nearly coincident atoms, an SCF that
            // does not converge): back to the last band, a quarter of the time step, no momentum
            Err(_) if steps > 0 && failures < MAX_BACKTRACKS => {
                failures += 1;
                x.clone_from(&x_prev);
                v.iter_mut().for_each(|vk| vk.iter_mut().for_each(|z| *z = 0.0));
                (dt, a, n_pos) = (dt * 0.25, 0.1, 0);
                continue;
            }
            Err(err) => return Err(err),
        }
        let ci = highest(&e);
        if climbing.is_none() && opts.climb && (fmax < opts.climb_start || steps >= opts.climb_after) {
            climbing = Some(ci);
            // a fresh FIRE for the climbing stage
            v.iter_mut().for_each(|vk| vk.iter_mut().for_each(|z| *z = 0.0));
            (dt, a, n_pos) = (opts.dt, 0.1, 0);
        }
        if climbing.is_some() {
            climbing = Some(ci); // the climbing image is always the highest one
        }
        let mut fneb = vec![vec![0.0; d]; m];
        for k in 1..m - 1 {
            let t = tangent(&x, &e, k);
            let ft = dot(&f[k], &t);
            fneb[k] = if climbing == Some(k) {
                f[k].iter().zip(&t).map(|(fi, ti)| fi - 2.0 * ft * ti).collect()
            } else {
                let spring = opts.spring * (norm(&sub(&x[k + 1], &x[k])) - norm(&sub(&x[k], &x[k - 1])));
                f[k].iter().zip(&t).map(|(fi, ti)| fi - ft * ti + spring * ti).collect()
            };
        }
        fmax = fneb[1..m - 1].iter().map(|g| largest_atomic(g)).fold(0.0, f64::max);
        if let Some(p) = progress {
            p.set_message(format!("NEB step {steps}: max force {fmax:.3} eV/Å"));
        }
        let ci_force = climbing.map_or(0.0, |k| largest_atomic(&fneb[k]));
        if fmax < opts.fmax && ci_force < opts.ci_fmax && (climbing.is_some() || !opts.climb) {
            converged = true;
            break;
        }
        if steps >= opts.max_steps {
            break;
        }
        steps += 1;
        // FIRE on the band
        let p: f64 = (1..m - 1).map(|k| dot(&v[k], &fneb[k])).sum();
        let vn: f64 = (1..m - 1).map(|k| dot(&v[k], &v[k])).sum::<f64>().sqrt();
        let fnorm: f64 = (1..m - 1).map(|k| dot(&fneb[k], &fneb[k])).sum::<f64>().sqrt().max(1e-300);
        if p > 0.0 {
            for k in 1..m - 1 {
                for c in 0..d {
                    v[k][c] = (1.0 - a) * v[k][c] + a * vn * fneb[k][c] / fnorm;
                }
            }
            n_pos += 1;
            if n_pos > 5 {
                dt = (dt * 1.1).min(opts.dt_max);
                a *= 0.99;
            }
        } else {
            for vk in v.iter_mut() {
                vk.iter_mut().for_each(|z| *z = 0.0);
            }
            dt *= 0.5;
            a = 0.1;
            n_pos = 0;
        }
        x_prev.clone_from(&x);
        for k in 1..m - 1 {
            for c in 0..d {
                v[k][c] += dt * fneb[k][c];
            }
        }
        // the whole band's step scaled to at most `max_band_step`, or each coordinate clamped
        let step = |dx: f64| -> f64 { dx.clamp(-opts.max_move, opts.max_move) };
        let scale = opts.max_band_step.map(|cap| {
            let norm = (1..m - 1).map(|k| dot(&v[k], &v[k])).sum::<f64>().sqrt() * dt;
            if norm > cap { cap / norm } else { 1.0 }
        });
        for k in 1..m - 1 {
            for c in 0..d {
                x[k][c] += match scale {
                    Some(s) => dt * v[k][c] * s,
                    None => step(dt * v[k][c]),
                };
            }
        }
    }
    Ok(NebResult {
        images: x.iter().map(|xi| template.with_flat_positions(xi)).collect(),
        energies: e,
        climbing,
        converged,
        steps,
        max_force: fmax,
        force_calls: calls,
    })
}

/// Climbing-image NEB of `band` on `pot`.
pub fn neb(pot: &dyn Potential, band: Vec<Molecule>, opts: &NebOptions) -> Result<NebResult> {
    relax_band(band, |_, mol| pot.energy_forces(mol), opts, None)
}

/// [`neb`] with a progress line (band step and largest force) on `progress`.
pub fn neb_with_progress(
    pot: &dyn Potential,
    band: Vec<Molecule>,
    opts: &NebOptions,
    progress: &indicatif::ProgressBar,
) -> Result<NebResult> {
    relax_band(band, |_, mol| pot.energy_forces(mol), opts, Some(progress))
}
