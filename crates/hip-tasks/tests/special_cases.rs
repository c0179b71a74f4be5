//! Special cases that must give correct answers, not panics: a single atom has no vibrations,
//! linear molecules keep 3N − 5 modes, optimizers on one atom stop at once, a TS search on one
//! atom is a clear error, a zero-step run returns its start point, and a search that walks into
//! collapsed nuclei or meets non-finite forces stops with an error that says so.

use hip_core::{EnergyForces, Hessian, MassConvention, Molecule, Potential};
use hip_tasks::optimize::{bfgs, fire, rfo, ts};
use hip_tasks::potentials::{Analytic, LennardJones};
use hip_tasks::{Classification, RotorType, Vibrations};

fn atom() -> Molecule {
    Molecule::new(vec![8], vec![[0.1, -0.2, 0.3]]).unwrap()
}

#[test]
fn a_single_atom_has_no_vibrations() {
    let mol = atom();
    let h = Hessian::from_vec(1, vec![0.3, 0.0, 0.1, 0.0, 0.2, 0.0, 0.1, 0.0, 0.5]).unwrap();
    let vib = Vibrations::new(&mol, &h, &mol.masses(MassConvention::Iupac).unwrap()).unwrap();
    assert_eq!(vib.rotor, RotorType::Atom);
    assert!(vib.frequencies_cm.is_empty() && vib.modes.is_empty());
    assert_eq!(vib.classify(-10.0), Classification::Atom);
    assert_eq!(vib.classify(-10.0).as_str(), "atom");
    // +0, not −0 (which prints as "-0.000000")
    assert_eq!(vib.zpe_ev().to_bits(), 0.0f64.to_bits());
}

#[test]
fn linear_molecules_keep_3n_minus_5_modes() {
    // a diatomic and a linear triatomic with a diagonal Hessian (any symmetric matrix will do:
    // the count of modes is set by the projection alone)
    for (numbers, positions) in [
        (vec![6u8, 8], vec![[0.0, 0.0, 0.0], [1.13, 0.0, 0.0]]),
        (vec![8u8, 6, 8], vec![[-1.16, 0.0, 0.0], [0.0, 0.0, 0.0], [1.16, 0.0, 0.0]]),
    ] {
        let mol = Molecule::new(numbers, positions).unwrap();
        let n = mol.len();
        let mut h = vec![0.0; 9 * n * n];
        for k in 0..3 * n {
            h[k * 3 * n + k] = 1.0 + k as f64;
        }
        let vib = Vibrations::new(&mol, &Hessian::from_vec(n, h).unwrap(), &mol.masses(MassConvention::Iupac).unwrap())
            .unwrap();
        assert_eq!(vib.rotor, RotorType::Linear);
        assert_eq!(vib.frequencies_cm.len(), 3 * n - 5);
    }
}

#[test]
fn optimizers_on_one_atom_stop_at_once_and_ts_search_refuses() {
    let pot = Analytic(LennardJones::default());
    let mol = atom();
    for r in [
        rfo::minimize(&pot, &mol, &rfo::RfoOptions::default()).unwrap(),
        bfgs::minimize(&pot, &mol, &bfgs::BfgsOptions::default()).unwrap(),
        fire::minimize(&pot, &mol, &fire::FireOptions::default()).unwrap(),
    ] {
        assert_eq!(r.steps, 0, "{}", r.method);
        assert_eq!(r.molecule.positions, mol.positions, "{}", r.method);
    }
    let e = ts::search(&pot, &mol, &ts::TsOptions::default()).unwrap_err().to_string();
    assert!(e.contains("single atom"), "{e}");
}

#[test]
fn zero_steps_return_the_start_point() {
    let pot = Analytic(LennardJones::default());
    let mol = Molecule::new(vec![18, 18, 18], vec![[0.0, 0.0, 0.0], [3.6, 0.0, 0.0], [1.5, 3.0, 0.2]]).unwrap();
    let r = rfo::minimize(&pot, &mol, &rfo::RfoOptions { max_steps: 0, ..Default::default() }).unwrap();
    assert_eq!(r.steps, 0);
    assert!(!r.converged);
    assert_eq!(r.molecule.positions, mol.positions);
}

/// A diatomic surface `E = −k r²` without repulsion (a learned surface's failure far from its
/// data): its only internal mode has negative curvature and its maximum is at r = 0, so a TS
/// search walks the two nuclei together. Below `nan_below` its forces are NaN, as a model's can
/// be outside its domain; with `refuse_coincident` it refuses coincident nuclei as the model's
/// potential does (`hip_model::ModelPotential`).
struct Collapse {
    nan_below: f64,
    refuse_coincident: bool,
}

impl Potential for Collapse {
    fn name(&self) -> String {
        "collapse".into()
    }
    fn energy_forces(&self, mol: &Molecule) -> hip_core::Result<EnergyForces> {
        if self.refuse_coincident {
            hip_core::domain::check_coincident(mol)?;
        }
        let d: Vec<f64> = (0..3).map(|k| mol.positions[1][k] - mol.positions[0][k]).collect();
        let r = d.iter().map(|x| x * x).sum::<f64>().sqrt();
        // dE/dx1 = −2k d, F1 = +2k d
        let f1: [f64; 3] = if r < self.nan_below { [f64::NAN; 3] } else { [2.0 * d[0], 2.0 * d[1], 2.0 * d[2]] };
        Ok(EnergyForces { energy: -r * r, forces: vec![[-f1[0], -f1[1], -f1[2]], f1] })
    }
    fn hessian(&self, _mol: &Molecule) -> hip_core::Result<Hessian> {
        let mut h = vec![0.0; 36];
        for i in 0..2 {
            for j in 0..2 {
                for k in 0..3 {
                    h[(3 * i + k) * 6 + 3 * j + k] = if i == j { -2.0 } else { 2.0 };
                }
            }
        }
        Hessian::from_vec(2, h)
    }
}

fn h2(r: f64) -> Molecule {
    Molecule::new(vec![1, 1], vec![[0.0, 0.0, 0.0], [r, 0.0, 0.0]]).unwrap()
}

#[test]
fn a_ts_search_into_collapsed_nuclei_stops_with_the_potentials_reason() {
    // H–H coincidence threshold: 0.5 × (0.31 + 0.31) Å; the search steps toward r = 0
    let pot = Collapse { nan_below: 0.0, refuse_coincident: true };
    let e = ts::search(&pot, &h2(0.74), &ts::TsOptions::default()).unwrap_err().to_string();
    assert!(e.contains("nearly coincident") && e.contains("atoms 0 (H) and 1 (H)"), "{e}");
    assert!(e.contains("energy call"), "the error names where in the run it happened: {e}");
}

#[test]
fn non_finite_forces_stop_an_optimizer_with_the_reason() {
    // NaN forces from r < 0.6 Å; the search toward r = 0 meets them
    let pot = Collapse { nan_below: 0.6, refuse_coincident: false };
    let e = ts::search(&pot, &h2(0.74), &ts::TsOptions::default()).unwrap_err().to_string();
    assert!(e.contains("non-finite energy or force"), "{e}");
    // minimizing E = −r² stretches the bond (r grows), so it never meets the NaN region …
    rfo::minimize(&pot, &h2(0.65), &rfo::RfoOptions { max_steps: 3, ..Default::default() }).unwrap();
    // … but a start inside it is refused at the first call
    let e = rfo::minimize(&pot, &h2(0.5), &rfo::RfoOptions::default()).unwrap_err().to_string();
    assert!(e.contains("energy call 1 ") && e.contains("non-finite"), "{e}");
}

#[test]
fn a_start_mode_guide_of_the_wrong_size_is_an_error() {
    let pot = Collapse { nan_below: 0.0, refuse_coincident: true };
    for guide in [vec![1.0; 5], vec![0.0; 6], vec![f64::NAN, 0.0, 0.0, 1.0, 0.0, 0.0]] {
        let opts = ts::TsOptions { guide: Some(guide), ..Default::default() };
        let e = ts::search(&pot, &h2(0.74), &opts).unwrap_err().to_string();
        assert!(e.contains("guide needs 6 finite numbers"), "{e}");
    }
}
