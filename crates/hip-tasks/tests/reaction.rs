//! Reaction tools on surfaces with known answers: NEB finds the Müller–Brown saddles, the IRC
//! from each saddle reaches the two adjacent minima, and NH₃ inversion on the bonded force field
//! goes from one pyramid through the planar saddle to its mirror image.

use hip_core::{Molecule, Potential};
use hip_tasks::Classification;
use hip_tasks::optimize::{rfo, ts};
use hip_tasks::potentials::{Analytic, BondedForceField, MullerBrown};
use hip_tasks::reaction::{align, interpolate, irc, neb};

fn mb() -> Analytic<MullerBrown> {
    Analytic(MullerBrown::default())
}

/// Stationary points to the literature's 3 decimals: 2e-3 in x and y.
fn near(mol: &Molecule, (x, y): (f64, f64)) -> bool {
    (mol.positions[0][0] - x).abs() < 2e-3 && (mol.positions[0][1] - y).abs() < 2e-3
}

fn mb_point(k: usize, minima: bool) -> (f64, f64) {
    let t = if minima { MullerBrown::MINIMA[k] } else { MullerBrown::SADDLES[k] };
    (t.0, t.1)
}

/// The linear band of 11 images between Müller–Brown minima `a` and `b`, and NEB settings that
/// suit the surface's scale (energies of ~100, a saddle region ~0.1 wide).
fn mb_band(a: usize, b: usize) -> (Vec<Molecule>, neb::NebOptions) {
    let (pa, pb) = (mb_point(a, true), mb_point(b, true));
    let band = interpolate::linear(&MullerBrown::molecule(pa.0, pa.1), &MullerBrown::molecule(pb.0, pb.1), 11).unwrap();
    let opts = neb::NebOptions {
        spring: 20.0,
        climb_start: 20.0,
        fmax: 0.5,
        max_steps: 4000,
        max_move: 0.02,
        ..Default::default()
    };
    (band, opts)
}

#[test]
fn neb_between_muller_brown_minima_finds_the_saddle_between_them() {
    // minimum 0 – saddle 0 – minimum 2, and minimum 2 – saddle 1 – minimum 1
    let pot = mb();
    for (a, s, b) in [(0usize, 0usize, 2usize), (2, 1, 1)] {
        let (band, opts) = mb_band(a, b);
        let r = neb::neb(&pot, band, &opts).unwrap();
        eprintln!(
            "NEB {a}->{b}: converged={} steps={} max force {:.3} climbing {:?}",
            r.converged, r.steps, r.max_force, r.climbing
        );
        assert!(r.converged && r.climbing.is_some(), "NEB {a}->{b} did not converge");
        let guess = r.ts_guess();
        let (sx, sy) = mb_point(s, false);
        let d = ((guess.positions[0][0] - sx).powi(2) + (guess.positions[0][1] - sy).powi(2)).sqrt();
        assert!(d < 0.02, "climbing image {:?} is {d} from saddle {s}", guess.positions[0]);
        // converged means the climbing image itself is below `ci_fmax` (its NEB force, F − 2(F·τ)τ,
        // has the norm of its true force)
        let f = pot.energy_forces(guess).unwrap().forces[0];
        let norm = (f[0] * f[0] + f[1] * f[1] + f[2] * f[2]).sqrt();
        assert!(norm < opts.ci_fmax, "climbing image force {norm} ≥ ci_fmax {}", opts.ci_fmax);
        // and the TS search from the climbing image converges onto the saddle
        let t = ts::search(&pot, guess, &ts::TsOptions::default()).unwrap();
        assert!(t.converged && near(&t.molecule, (sx, sy)), "TS search ended at {:?}", t.molecule.positions[0]);
    }
}

#[test]
fn irc_from_each_muller_brown_saddle_reaches_its_two_minima() {
    let pot = mb();
    for (s, ends) in [(0usize, [0usize, 2]), (1, [2, 1])] {
        let (sx, sy) = mb_point(s, false);
        let opts = irc::IrcOptions { step: 0.01, max_steps: 2000, end_force: 1.0, ..Default::default() };
        let r = irc::irc(&pot, &MullerBrown::molecule(sx, sy), &opts).unwrap();
        assert!(r.transition_eigenvalue < 0.0);
        let mut reached: Vec<usize> = [&r.forward, &r.reverse]
            .iter()
            .map(|b| {
                assert!(b.end_report.as_ref().unwrap().converged, "{}", b.end_reason);
                // energies fall monotonically along the path
                assert!(b.energies.windows(2).all(|w| w[1] < w[0]));
                (0..3).find(|&k| near(&b.end, mb_point(k, true))).unwrap_or_else(|| {
                    panic!("IRC from saddle {s} ended at {:?} ({})", b.end.positions[0], b.end_reason)
                })
            })
            .collect();
        reached.sort();
        let mut want = ends.to_vec();
        want.sort();
        assert_eq!(reached, want, "saddle {s}");
    }
}

fn ammonia_planar() -> Molecule {
    let r = 1.02;
    let h = |a: f64| [r * a.to_radians().cos(), r * a.to_radians().sin(), 0.0];
    Molecule::new(vec![7, 1, 1, 1], vec![[0.0; 3], h(0.0), h(120.0), h(240.0)]).unwrap()
}

fn n_height(m: &Molecule) -> f64 {
    // signed distance of N from the plane of the three H (orientation from the H order)
    let p = &m.positions;
    let (a, b) = ([0, 1, 2].map(|k| p[2][k] - p[1][k]), [0, 1, 2].map(|k| p[3][k] - p[1][k]));
    let n = [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
    let c = [0, 1, 2].map(|k| p[0][k] - p[1][k]);
    (0..3).map(|k| n[k] * c[k]).sum::<f64>() / (0..3).map(|k| n[k] * n[k]).sum::<f64>().sqrt()
}

#[test]
fn ammonia_inversion_from_reactant_and_product() {
    let planar = ammonia_planar();
    let pot = Analytic(BondedForceField::new(&planar).unwrap());
    let mut up = planar.clone();
    up.positions[0][2] = 0.1;
    let mut down = planar.clone();
    down.positions[0][2] = -0.1;
    let r = rfo::minimize(&pot, &up, &rfo::RfoOptions::default()).unwrap().molecule;
    let p = rfo::minimize(&pot, &down, &rfo::RfoOptions::default()).unwrap().molecule;
    assert!(n_height(&r) * n_height(&p) < 0.0, "reactant and product are mirror images");
    let p = interpolate::aligned(&r, &p).unwrap();
    // IDPP keeps the N–H distances (equal at both ends) along the band; linear interpolation
    // shortens them at the planar midpoint
    let lin = interpolate::linear(&r, &p, 7).unwrap();
    let idpp = interpolate::idpp_band(&r, &p, 7).unwrap();
    let nh = |m: &Molecule| {
        (1..4)
            .map(|k| (0..3).map(|c| (m.positions[k][c] - m.positions[0][c]).powi(2)).sum::<f64>().sqrt())
            .fold(f64::INFINITY, f64::min)
    };
    let r_nh = nh(&r);
    assert!((nh(&idpp[3]) - r_nh).abs() < 0.02, "IDPP midpoint N–H {} vs {r_nh}", nh(&idpp[3]));
    assert!(r_nh - nh(&lin[3]) > 0.03, "linear midpoint N–H {} vs {r_nh}", nh(&lin[3]));
    // NEB → TS search → one imaginary mode at the planar structure
    let band = neb::neb(&pot, idpp, &neb::NebOptions { spring: 1.0, ..Default::default() }).unwrap();
    assert!(band.converged, "NEB: max force {}", band.max_force);
    let t = ts::search(&pot, band.ts_guess(), &ts::TsOptions::default()).unwrap();
    assert!(t.converged);
    assert_eq!(t.final_point.as_ref().unwrap().classification, Classification::TransitionState);
    assert!(n_height(&t.molecule).abs() < 1e-3, "the saddle is planar");
    // IRC: the two ends are the reactant and the product (RMSD after alignment < 0.01 Å)
    let path = irc::irc(&pot, &t.molecule, &irc::IrcOptions::default()).unwrap();
    let ends = [&path.forward.end, &path.reverse.end];
    let to_r = ends.map(|e| align::rmsd(&r, e).unwrap());
    let to_p = ends.map(|e| align::rmsd(&p, e).unwrap());
    let ok = (to_r[0] < 0.01 && to_p[1] < 0.01) || (to_r[1] < 0.01 && to_p[0] < 0.01);
    assert!(ok, "IRC ends: RMSD to R {to_r:?}, to P {to_p:?}");
    assert!(path.forward.energies.last().unwrap() < &pot.energy_forces(&t.molecule).unwrap().energy);
}

#[test]
fn the_pipeline_runs_reactant_to_product_and_grades_the_ends() {
    use hip_tasks::reaction::pipeline::{EndMatch, PipelineOptions, run};
    let planar = ammonia_planar();
    let pot = Analytic(BondedForceField::new(&planar).unwrap());
    let (mut up, mut down) = (planar.clone(), planar.clone());
    up.positions[0][2] = 0.1;
    down.positions[0][2] = -0.1;
    let r = rfo::minimize(&pot, &up, &rfo::RfoOptions::default()).unwrap().molecule;
    let p = rfo::minimize(&pot, &down, &rfo::RfoOptions::default()).unwrap().molecule;
    let out = run(&pot, &r, &p, &PipelineOptions::default()).unwrap();
    assert!(out.ts_success && out.intended, "{:?} {:?}", out.ends, out.end_rmsd);
    // the first search (the paper's: climbing image, lowest mode) is intended, so no retry
    assert_eq!(out.ts_attempts.len(), 1);
    assert_eq!(out.ts_attempts[0].start, hip_tasks::reaction::pipeline::TS_STARTS[0]);
    assert_eq!((out.ts_chosen, out.ts_attempts[0].intended), (0, Some(true)));
    let ends = out.ends.unwrap();
    assert!(ends.contains(&EndMatch::Reactant) && ends.contains(&EndMatch::Product));
    // from R to R there is no reaction to find: the ends cannot be one R and one P
    let same = run(&pot, &r, &r, &PipelineOptions { ts_attempts: 3, ..Default::default() });
    assert!(same.as_ref().map_or(true, |o| !o.intended));
    // ... and with retries every start was tried, the result being one of them
    if let Ok(o) = same {
        assert!(!o.ts_attempts.is_empty() && o.ts_attempts.len() <= 3 && o.ts_chosen < o.ts_attempts.len());
        assert!(o.ts_attempts.iter().all(|a| a.intended != Some(true)));
    }
    // different atom orders are a clear error
    let swapped = Molecule::new(vec![1, 7, 1, 1], r.positions.clone()).unwrap();
    let e = run(&pot, &r, &swapped, &PipelineOptions::default()).unwrap_err().to_string();
    assert!(e.contains("same atom order"), "{e}");
}

/// A surface that refuses some energy calls (by call number), as GFN2-xTB refuses an SCF that
/// does not converge or any potential refuses nearly coincident nuclei.
struct Refusing<P> {
    inner: P,
    calls: std::cell::Cell<usize>,
    refuse: fn(usize) -> bool,
}

impl<P: Potential> Potential for Refusing<P> {
    fn name(&self) -> String {
        "refusing".into()
    }
    fn energy_forces(&self, mol: &Molecule) -> hip_core::Result<hip_core::EnergyForces> {
        let k = self.calls.get();
        self.calls.set(k + 1);
        if (self.refuse)(k) {
            return Err(hip_core::Error::invalid("refusing", format!("call {k} refused")));
        }
        self.inner.energy_forces(mol)
    }
    fn hessian(&self, mol: &Molecule) -> hip_core::Result<hip_core::Hessian> {
        self.inner.hessian(mol)
    }
    fn rigid_body_invariant(&self) -> bool {
        self.inner.rigid_body_invariant()
    }
}

#[test]
fn a_band_step_the_potential_refuses_is_undone_and_retried_smaller() {
    let band = || mb_band(0, 2).0;
    let opts = mb_band(0, 2).1;
    // 11 images: calls 0–1 are the ends, then 9 per band step; refuse a few calls of steps 3 and 40
    let flaky = Refusing { inner: mb(), calls: Default::default(), refuse: |k| k == 2 + 9 * 3 + 4 || k == 2 + 9 * 40 };
    let r = neb::neb(&flaky, band(), &opts).unwrap();
    assert!(r.converged, "max force {}", r.max_force);
    let (sx, sy) = mb_point(0, false);
    let g = r.ts_guess();
    assert!(((g.positions[0][0] - sx).powi(2) + (g.positions[0][1] - sy).powi(2)).sqrt() < 0.02);
    // a potential that refuses every band step after the first gives up with its own error
    let broken = Refusing { inner: mb(), calls: Default::default(), refuse: |k| k >= 2 + 9 };
    let e = neb::neb(&broken, band(), &opts).unwrap_err().to_string();
    assert!(e.contains("refused"), "{e}");
    // and one that refuses the very first band is an error at once (the pipeline then tries others)
    let dead = Refusing { inner: mb(), calls: Default::default(), refuse: |k| k >= 2 };
    assert!(neb::neb(&dead, band(), &opts).is_err());
}

#[test]
fn band_frame_keeps_a_common_frame_and_aligns_a_rotated_one() {
    use hip_tasks::reaction::interpolate::band_frame;
    let r = ammonia_planar();
    // a "reaction" in a common frame: one H moved; kept as given
    let mut p = r.clone();
    p.positions[1][0] += 0.4;
    assert_eq!(band_frame(&r, &p).unwrap().positions, p.positions);
    // the same product turned by 90° about z and shifted: aligned back onto the reactant
    let turned =
        Molecule::new(p.numbers.clone(), p.positions.iter().map(|q| [-q[1] + 3.0, q[0] - 1.0, q[2] + 0.5]).collect())
            .unwrap();
    let back = band_frame(&r, &turned).unwrap();
    let d = |a: &Molecule, b: &Molecule| {
        a.positions
            .iter()
            .zip(&b.positions)
            .map(|(x, y)| (0..3).map(|k| (x[k] - y[k]).powi(2)).sum::<f64>())
            .sum::<f64>()
    };
    // the aligned copy is at least as close to R as the unrotated product (Kabsch is optimal)
    assert!(d(&r, &back) <= d(&r, &p) + 1e-9, "{} vs {}", d(&r, &back), d(&r, &p));
}

#[test]
fn a_ts_step_the_potential_refuses_is_retried_shorter() {
    // the Müller–Brown saddle from a displaced start; the potential refuses the first step's
    // geometry (call 1: call 0 is the start) and later the one after step 3
    let (sx, sy) = mb_point(0, false);
    let start = MullerBrown::molecule(sx + 0.05, sy - 0.04);
    let clean = ts::search(&mb(), &start, &ts::TsOptions::default()).unwrap();
    assert!(clean.converged && near(&clean.molecule, (sx, sy)));
    let flaky = Refusing { inner: mb(), calls: Default::default(), refuse: |k| k == 1 || k == 5 };
    let t = ts::search(&flaky, &start, &ts::TsOptions::default()).unwrap();
    assert!(t.converged && near(&t.molecule, (sx, sy)), "ended at {:?}", t.molecule.positions[0]);
    // a potential that refuses every step ends the search with its own error
    let broken = Refusing { inner: mb(), calls: Default::default(), refuse: |k| k >= 1 };
    let e = ts::search(&broken, &start, &ts::TsOptions::default()).unwrap_err().to_string();
    assert!(e.contains("refused"), "{e}");
}

#[test]
fn climbing_starts_after_climb_after_steps_when_the_band_stays_above_climb_start() {
    // climb_start 0 is never reached: only the step count can turn the climbing image on
    let (band, opts) = mb_band(0, 2);
    let opts = neb::NebOptions { climb_start: 0.0, climb_after: 5, max_steps: 5, ..opts };
    let r = neb::neb(&mb(), band.clone(), &opts).unwrap();
    assert!(r.climbing.is_some(), "no climbing image after {} steps", r.steps);
    let never = neb::NebOptions { climb_after: 1000, ..opts };
    assert!(neb::neb(&mb(), band, &never).unwrap().climbing.is_none());
}
