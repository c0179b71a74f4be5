//! Optimizers and TS search on analytic surfaces with exact Hessians.

use hip_core::{Molecule, Potential};
use hip_tasks::optimize::{Thresholds, bfgs, fire, local, rfo, ts};
use hip_tasks::potentials::{Analytic, BondedForceField, LennardJones, MullerBrown};
use hip_tasks::{Classification, Vibrations};
use irreps::rotation::SplitMix64;

/// Start points for minimization, each with the index of the minimum it lies in the basin of.
const MB_MIN_STARTS: [((f64, f64), usize); 3] = [((-0.9, 1.2), 0), ((0.8, -0.1), 1), ((-0.2, 0.6), 2)];
/// Start points for the saddle search, near each saddle but well outside convergence.
const MB_TS_STARTS: [((f64, f64), usize); 2] = [((-0.7, 0.5), 0), ((0.3, 0.2), 1)];

fn mb() -> Analytic<MullerBrown> {
    Analytic(MullerBrown::default())
}

/// Stationary points are located to the literature's 3 decimals: 2e-3 in x, y.
fn near(mol: &Molecule, x: f64, y: f64) -> bool {
    (mol.positions[0][0] - x).abs() < 2e-3 && (mol.positions[0][1] - y).abs() < 2e-3
}

#[test]
fn muller_brown_minimizers_reach_the_three_minima() {
    let pot = mb();
    for ((sx, sy), k) in MB_MIN_STARTS {
        let (mx, my, me) = MullerBrown::MINIMA[k];
        let start = MullerBrown::molecule(sx, sy);
        let reports = [
            rfo::minimize(&pot, &start, &rfo::RfoOptions::default()).unwrap(),
            rfo::minimize(&pot, &start, &rfo::RfoOptions { hessian_every: 0, ..Default::default() }).unwrap(),
            rfo::minimize(&pot, &start, &rfo::RfoOptions { unit_initial_hessian: Some(1.0), ..Default::default() })
                .unwrap(),
            bfgs::minimize(&pot, &start, &bfgs::BfgsOptions::default()).unwrap(),
            fire::minimize(&pot, &start, &fire::FireOptions { max_steps: 5000, ..Default::default() }).unwrap(),
        ];
        for r in &reports {
            eprintln!(
                "MB min {k} from ({sx}, {sy}): {:<22} converged={} steps={:>4} E/F calls={:>4} Hessian calls={:>3} E={:.3}",
                r.method, r.converged, r.steps, r.energy_calls, r.hessian_calls, r.energy
            );
            assert!(r.converged, "{} did not converge from ({sx}, {sy})", r.method);
            assert!(
                near(&r.molecule, mx, my),
                "{} ended at {:?}, expected minimum {k}",
                r.method,
                r.molecule.positions[0]
            );
            assert!((r.energy - me).abs() < 1e-2);
            assert_eq!(r.final_point.as_ref().unwrap().classification, Classification::Minimum);
        }
        // RFO-BFGS from a unit Hessian computes no Hessian to optimize (the classification of
        // the end point is not counted)
        assert_eq!(reports[2].hessian_calls, 0, "{}", reports[2].method);
    }
}

#[test]
fn muller_brown_rs_p_rfo_reaches_the_two_saddles() {
    let pot = mb();
    for ((sx, sy), k) in MB_TS_STARTS {
        let (tx, ty, te) = MullerBrown::SADDLES[k];
        let start = MullerBrown::molecule(sx, sy);
        let variants = [
            ts::TsOptions { hessian_every: 1, ..Default::default() },
            ts::TsOptions { hessian_every: 3, ..Default::default() },
            ts::TsOptions { follow_lowest: true, ..Default::default() },
        ];
        for opts in variants {
            let r = ts::search(&pot, &start, &opts).unwrap();
            eprintln!(
                "MB saddle {k} from ({sx}, {sy}): {:<22} converged={} steps={:>3} E/F calls={:>3} Hessian calls={:>3} E={:.3}",
                r.method, r.converged, r.steps, r.energy_calls, r.hessian_calls, r.energy
            );
            assert!(r.converged, "{} did not converge", r.method);
            assert!(
                near(&r.molecule, tx, ty),
                "{} ended at {:?}, expected saddle {k}",
                r.method,
                r.molecule.positions[0]
            );
            assert!((r.energy - te).abs() < 1e-2);
            let fp = r.final_point.unwrap();
            assert_eq!(fp.n_imaginary, 1, "exactly one negative eigenvalue: {:?}", fp.spectrum);
        }
    }
}

/// A surface whose forces are exact but whose Hessians are edited by `edit(h, dim)`: a learned
/// Hessian that is not the curvature of the surface its forces come from.
struct EditedHessian<P, F> {
    inner: P,
    edit: F,
}

impl<P: Potential, F: Fn(&mut [f64], usize)> Potential for EditedHessian<P, F> {
    fn name(&self) -> String {
        format!("edited-{}", self.inner.name())
    }
    fn energy_forces(&self, mol: &Molecule) -> hip_core::Result<hip_core::EnergyForces> {
        self.inner.energy_forces(mol)
    }
    fn hessian(&self, mol: &Molecule) -> hip_core::Result<hip_core::Hessian> {
        let mut h = self.inner.hessian(mol)?;
        let d = h.dim();
        (self.edit)(h.as_mut_slice(), d);
        Ok(h)
    }
    fn rigid_body_invariant(&self) -> bool {
        self.inner.rigid_body_invariant()
    }
}

/// The exact Hessian scaled by `scale` plus `shear` on the (x, y) off-diagonal: wrong by a fixed
/// linear map.
fn skewed<P: Potential>(inner: P, scale: f64, shear: f64) -> EditedHessian<P, impl Fn(&mut [f64], usize)> {
    EditedHessian {
        inner,
        edit: move |m: &mut [f64], d: usize| {
            m.iter_mut().for_each(|x| *x *= scale);
            m[1] += shear;
            m[d] += shear;
        },
    }
}

#[test]
fn secant_correction_rescues_ts_search_with_a_wrong_hessian() {
    // Hessians at 40 % of the true curvature with a shear: Newton steps overshoot by 2.5×, so
    // near the saddle the error grows each step and the plain search cannot converge; the
    // secant correction makes each fresh Hessian reproduce the last step's gradient change.
    let pot = skewed(mb(), 0.4, 30.0);
    for ((sx, sy), k) in MB_TS_STARTS {
        let (tx, ty, _) = MullerBrown::SADDLES[k];
        let start = MullerBrown::molecule(sx, sy);
        let plain = ts::search(&pot, &start, &ts::TsOptions::default()).unwrap();
        let secant = ts::search(&pot, &start, &ts::TsOptions { secant_update: true, ..Default::default() }).unwrap();
        eprintln!(
            "skewed MB saddle {k}: plain converged={} steps={}; secant converged={} steps={} at {:?}",
            plain.converged, plain.steps, secant.converged, secant.steps, secant.molecule.positions[0]
        );
        assert!(!plain.converged || plain.steps > secant.steps, "the skew must hurt the plain search");
        assert!(secant.converged, "secant-corrected search did not converge from ({sx}, {sy})");
        assert!(near(&secant.molecule, tx, ty), "ended at {:?}, expected saddle {k}", secant.molecule.positions[0]);
        assert!(secant.method.contains("secant"), "{}", secant.method);
    }
}

#[test]
fn newton_rate_predicts_whether_a_search_with_a_wrong_hessian_converges() {
    // `optimize::local::newton_local` is the local theory of a search whose Hessian is not the
    // surface's curvature: the search converges from near the saddle iff the Newton error map
    // contracts (rate < 1) and the Hessian sees one negative mode. Checked on both Müller–Brown
    // saddles with Hessians scaled below and above the truth, sheared, and sign-flipped.
    let cases = [
        (1.0, 0.0),
        (0.8, 0.0),
        (1.7, 0.0),
        (0.55, 0.0),
        (0.45, 0.0),
        (0.4, 30.0),
        (1.0, 150.0),
        (1.0, 400.0),
        (1.0, 800.0),
        (1.0, 1500.0),
        (-1.0, 0.0),
    ];
    let mut seen = [0, 0];
    for (k, &(tx, ty, _)) in MullerBrown::SADDLES.iter().enumerate() {
        for (scale, shear) in cases {
            let pot = skewed(mb(), scale, shear);
            let at = MullerBrown::molecule(tx, ty);
            let rate =
                local::newton_local(&at, &pot.hessian(&at).unwrap(), &mb().hessian(&at).unwrap(), false).unwrap();
            let start = MullerBrown::molecule(tx + 0.01, ty - 0.01);
            let r = ts::search(&pot, &start, &ts::TsOptions { classify: false, ..Default::default() }).unwrap();
            let ok = r.converged && near(&r.molecule, tx, ty);
            eprintln!(
                "saddle {k}, scale {scale}, shear {shear}: {rate:?}; converged {} at {:?} in {}",
                r.converged, r.molecule.positions[0], r.steps
            );
            assert_eq!(ok, rate.saddle_search_converges(), "saddle {k}, scale {scale}, shear {shear}: {rate:?}");
            seen[usize::from(ok)] += 1;
        }
    }
    assert!(seen[0] >= 2 && seen[1] >= 2, "both outcomes must occur: {seen:?}");
}

fn ammonia_planar() -> Molecule {
    let r = 1.02;
    let h = |a: f64| [r * a.to_radians().cos(), r * a.to_radians().sin(), 0.0];
    Molecule::new(vec![7, 1, 1, 1], vec![[0.0; 3], h(0.0), h(120.0), h(240.0)]).unwrap()
}

fn displaced(mol: &Molecule, sigma: f64, seed: u64) -> Molecule {
    let mut rng = SplitMix64(seed);
    let x: Vec<f64> = mol.flat_positions().iter().map(|p| p + sigma * rng.normal()).collect();
    mol.with_flat_positions(&x)
}

#[test]
fn planar_ammonia_is_a_saddle_and_ts_search_returns_to_it() {
    let ts0 = ammonia_planar();
    let pot = Analytic(BondedForceField::new(&ts0).unwrap());
    assert_eq!(pot.0.counts(), (3, 3));
    let h = pot.hessian(&ts0).unwrap();
    let vib = Vibrations::new(&ts0, &h, &ts0.masses(Default::default()).unwrap()).unwrap();
    assert_eq!(vib.n_imaginary(-10.0), 1, "planar NH3 must be a first-order saddle: {:?}", vib.frequencies_cm);
    for seed in 0..5 {
        let start = displaced(&ts0, 0.05, seed);
        for every in [1, 3] {
            let r = ts::search(&pot, &start, &ts::TsOptions { hessian_every: every, ..Default::default() }).unwrap();
            eprintln!("NH3 TS seed {seed}: {} converged={} steps={} E={:.6}", r.method, r.converged, r.steps, r.energy);
            assert!(r.converged, "{} from seed {seed}", r.method);
            let fp = r.final_point.unwrap();
            assert_eq!(fp.classification, Classification::TransitionState, "{:?}", fp.spectrum);
            // back at the planar structure: N in the plane of the three H
            let p = &r.molecule.positions;
            let (a, b, c) = (sub(p[2], p[1]), sub(p[3], p[1]), sub(p[0], p[1]));
            let n = cross(a, b);
            let dist = dot(n, c).abs() / dot(n, n).sqrt();
            assert!(dist < 1e-3, "N is {dist} Å out of the H3 plane");
        }
    }
    // and minimizing from a slightly pyramidal start finds the pyramidal minimum
    let mut start = ts0.clone();
    start.positions[0][2] = 0.1;
    let r = rfo::minimize(&pot, &start, &rfo::RfoOptions::default()).unwrap();
    assert!(r.converged);
    assert_eq!(r.final_point.unwrap().classification, Classification::Minimum);
    assert!(r.energy < pot.energy_forces(&ts0).unwrap().energy);
}

fn sub(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}
fn cross(a: [f64; 3], b: [f64; 3]) -> [f64; 3] {
    [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]
}
fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

#[test]
fn analytic_hessians_match_finite_differences_of_forces() {
    // Exact (num-dual) Hessians vs central differences of exact forces; δ = 1e-5 Å gives
    // truncation ~1e-10 · |E''''| and round-off ~1e-16/1e-5, so 1e-6 relative is safe.
    let water = Molecule::new(vec![8, 1, 1], vec![[0.0, 0.0, 0.1], [0.95, 0.1, 0.0], [-0.3, 0.9, 0.05]]).unwrap();
    let lj =
        Molecule::new(vec![18; 4], vec![[0.0, 0.0, 0.0], [1.1, 0.0, 0.1], [0.5, 1.0, -0.1], [0.4, 0.3, 0.9]]).unwrap();
    let mbm = MullerBrown::molecule(-0.3, 0.7);
    let pots: Vec<(Box<dyn Potential>, Molecule)> = vec![
        (Box::new(Analytic(BondedForceField::new(&water).unwrap())), water),
        (Box::new(Analytic(LennardJones::default())), lj),
        (Box::new(mb()), mbm),
    ];
    for (pot, mol) in pots {
        let h = pot.hessian(&mol).unwrap();
        let x = mol.flat_positions();
        let n = x.len();
        let d = 1e-5;
        for c in 0..n {
            let (mut xp, mut xm) = (x.clone(), x.clone());
            xp[c] += d;
            xm[c] -= d;
            let fp = pot.energy_forces(&mol.with_flat_positions(&xp)).unwrap().forces;
            let fm = pot.energy_forces(&mol.with_flat_positions(&xm)).unwrap().forces;
            for r in 0..n {
                let fd = -(fp[r / 3][r % 3] - fm[r / 3][r % 3]) / (2.0 * d);
                let an = h.get(r, c);
                assert!((fd - an).abs() < 1e-6 * (1.0 + an.abs()), "{}: H[{r},{c}] {an} vs FD {fd}", pot.name());
            }
        }
        assert!(h.max_asymmetry() < 1e-10);
    }
}

#[test]
fn lennard_jones_cluster_minimizes() {
    let start = Molecule::new(
        vec![18; 5],
        vec![[0.0, 0.0, 0.0], [1.2, 0.0, 0.0], [0.6, 1.0, 0.0], [0.6, 0.35, 1.0], [0.6, 0.35, -1.0]],
    )
    .unwrap();
    let pot = Analytic(LennardJones::default());
    let opts = rfo::RfoOptions { thresholds: Thresholds::gau().scaled(0.1), ..Default::default() };
    let r = rfo::minimize(&pot, &start, &opts).unwrap();
    assert!(r.converged);
    // LJ5 global minimum (trigonal bipyramid): E = −9.103852 ε (Cambridge Cluster Database)
    assert!((r.energy + 9.103852).abs() < 1e-4, "E = {}", r.energy);
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let pot = mb();
    let nan = Molecule { numbers: vec![1], positions: vec![[f64::NAN, 0.0, 0.0]], charge: 0, multiplicity: 1 };
    assert!(rfo::minimize(&pot, &nan, &Default::default()).is_err());
    let empty = Molecule { numbers: vec![], positions: vec![], charge: 0, multiplicity: 1 };
    assert!(ts::search(&pot, &empty, &Default::default()).is_err());
    let two = Molecule::new(vec![1, 1], vec![[0.0; 3], [1.0, 0.0, 0.0]]).unwrap();
    assert!(fire::minimize(&pot, &two, &Default::default()).unwrap_err().to_string().contains("one atom"));
    let unknown = Molecule { numbers: vec![0], positions: vec![[0.0; 3]], charge: 0, multiplicity: 1 };
    assert!(bfgs::minimize(&pot, &unknown, &Default::default()).is_err());
    let water = Molecule::new(vec![8, 1, 1], vec![[0.0; 3], [0.96, 0.0, 0.0], [-0.24, 0.93, 0.0]]).unwrap();
    let h = hip_core::Hessian::zeros(2);
    let e = Vibrations::new(&water, &h, &[16.0, 1.0, 1.0]).unwrap_err().to_string();
    assert!(e.contains("6×6") && e.contains("3 atoms"), "{e}");
    assert!(hip_core::Hessian::from_vec(1, vec![f64::NAN; 9]).is_err());
}

#[test]
fn set_product_makes_every_probed_product_exact() {
    // Probing orthonormal directions one after another with exact products of a symmetric A
    // must leave B q = A q for *every* probe (later updates keep earlier ones), B symmetric,
    // and B unchanged on the orthogonal complement's quadratic form.
    use hip_tasks::optimize::hessian_update::set_product;
    use nalgebra::{DMatrix, DVector};
    let n = 9;
    let mut rng = SplitMix64(7);
    let sym = |rng: &mut SplitMix64| {
        let m = DMatrix::from_fn(n, n, |_, _| rng.normal());
        (&m + m.transpose()) * 0.5
    };
    let (a, b0) = (sym(&mut rng), sym(&mut rng));
    let q = DMatrix::from_fn(n, 3, |_, _| rng.normal()).qr().q();
    let mut b = b0.clone();
    for k in 0..3 {
        let v: DVector<f64> = q.column(k).into_owned();
        assert!(set_product(&mut b, &v, &(&a * &v)));
    }
    let scale = a.norm() + b0.norm();
    for k in 0..3 {
        let v: DVector<f64> = q.column(k).into_owned();
        assert!((&b * &v - &a * &v).norm() < 1e-12 * scale, "probe {k} not exact");
    }
    assert!((&b - b.transpose()).norm() < 1e-12 * scale);
    let c = DVector::from_fn(n, |_, _| rng.normal());
    let c = &c - &q * (q.transpose() * &c);
    assert!((c.dot(&(&b * &c)) - c.dot(&(&b0 * &c))).abs() < 1e-12 * scale * c.norm_squared());
    let mut unchanged = b.clone();
    assert!(!set_product(&mut unchanged, &(DVector::from_element(n, 1.0)), &DVector::zeros(n)), "non-unit v");
    assert_eq!(unchanged, b);
}

#[test]
fn mode_probes_rescue_a_ts_search_whose_hessian_has_the_reaction_mode_wrong() {
    // Planar NH₃ on the bonded force field: the umbrella mode is the reaction mode (A2'', an
    // exact eigenvector). A Hessian with its curvature flipped to +|λ| has no negative mode: the
    // plain search still maximizes along its lowest mode, but with the wrong curvature it
    // crawls or ends elsewhere; one probe along the followed mode measures the surface's
    // curvature there and restores Newton convergence. Endpoints graded by the exact surface.
    let ts0 = ammonia_planar();
    let exact = Analytic(BondedForceField::new(&ts0).unwrap());
    let s = 12f64.sqrt();
    let n = vec![0.0, 0.0, 3.0 / s, 0.0, 0.0, -1.0 / s, 0.0, 0.0, -1.0 / s, 0.0, 0.0, -1.0 / s];
    let h = exact.hessian(&ts0).unwrap();
    let d = h.dim();
    let lam: f64 = (0..d).map(|i| (0..d).map(|j| n[i] * h.as_slice()[i * d + j] * n[j]).sum::<f64>()).sum();
    assert!(lam < 0.0, "umbrella curvature at the planar TS: {lam}");
    // the bonded force field with the reaction mode's curvature made wrong: H + c n nᵀ, a learned
    // Hessian that sees the barrier top as a valley
    let c = -2.0 * lam;
    let umbrella = n.clone();
    let pot = EditedHessian {
        inner: exact,
        edit: move |m: &mut [f64], d: usize| {
            for i in 0..d {
                for j in 0..d {
                    m[i * d + j] += c * n[i] * n[j];
                }
            }
        },
    };
    let rate = local::newton_local(&ts0, &pot.hessian(&ts0).unwrap(), &h, true).unwrap();
    assert_eq!(rate.approx_negative, 0, "the wrong Hessian must miss the barrier: {rate:?}");
    let at_planar = |r: &hip_tasks::optimize::Report| {
        let p = &r.molecule.positions;
        let (a, b, c) = (sub(p[2], p[1]), sub(p[3], p[1]), sub(p[0], p[1]));
        let nn = cross(a, b);
        r.converged && dot(nn, c).abs() / dot(nn, nn).sqrt() < 1e-3
    };
    let (mut calls, mut steps, mut plain_ok) = ([0usize; 2], [0usize; 2], 0);
    for seed in 0..5 {
        let start = displaced(&ts0, 0.05, seed);
        let plain = ts::search(&pot, &start, &ts::TsOptions::default()).unwrap();
        let probed = ts::search(&pot, &start, &ts::TsOptions { mode_probes: 2, ..Default::default() }).unwrap();
        eprintln!(
            "seed {seed}: plain converged={} steps={}; probed converged={} steps={} energy calls {}",
            plain.converged, plain.steps, probed.converged, probed.steps, probed.energy_calls
        );
        plain_ok += usize::from(at_planar(&plain));
        steps[0] += plain.steps;
        steps[1] += probed.steps;
        assert!(at_planar(&probed), "{} did not reach the planar TS from seed {seed}", probed.method);
        let graded = hip_tasks::optimize::classify(&pot.inner, &probed.molecule).unwrap();
        assert_eq!(graded.classification, Classification::TransitionState, "{:?}", graded.spectrum);
        assert!(probed.method.contains("mode_probes=2"), "{}", probed.method);
        // the search's own classification of its end comes from the Hessian refined along its
        // lowest modes: right, where the edited Hessian alone sees no negative mode
        let own = probed.final_point.as_ref().unwrap();
        assert_eq!(own.classification, Classification::TransitionState, "{:?}", own.spectrum);
        assert!(probed.method.contains("refined classification"), "{}", probed.method);
        let unrefined = hip_tasks::optimize::classify(&pot, &probed.molecule).unwrap();
        assert_ne!(unrefined.classification, Classification::TransitionState, "{:?}", unrefined.spectrum);
        calls[0] += probed.energy_calls;
        calls[1] += probed.steps;
    }
    assert!(plain_ok < 5, "the wrong Hessian must make the plain search fail somewhere");
    // the refined potential (what the pipeline starts the IRC with) has the surface's curvature
    // along the umbrella mode again: one negative mode at the planar TS, within the probes'
    // central-difference error (ε²/6 · ∂⁴E with ε = 1e-3 Å: measured 2e-5 relative to |λ| on this
    // stiff force field; tolerance 1e-4)
    let refined = hip_tasks::optimize::probe::ProbeRefined { inner: &pot, probes: 2 };
    let hr = refined.hessian(&ts0).unwrap();
    let n = umbrella;
    let lr: f64 = (0..d).map(|i| (0..d).map(|j| n[i] * hr.as_slice()[i * d + j] * n[j]).sum::<f64>()).sum();
    assert!((lr - lam).abs() < 1e-4 * lam.abs(), "refined umbrella curvature {lr} vs {lam}");
    let fp = hip_tasks::optimize::classify(&refined, &ts0).unwrap();
    assert_eq!(fp.classification, Classification::TransitionState, "{:?}", fp.spectrum);
    assert!(4 * steps[1] <= steps[0], "probes must restore fast convergence: steps {steps:?}");
    // two gradient calls per probe, at most two probes per step, plus one per step; and two
    // probes of the end point per search
    assert!(calls[0] <= 5 * calls[1] + 5 + 5 * 4, "gradient calls {calls:?}");
}
