//! Special cases that must give correct answers, not panics: a single atom has no vibrations,
//! linear molecules keep 3N − 5 modes, optimizers on one atom stop at once, a TS search on one
//! atom is a clear error, and a zero-step run returns its start point.

use hip_core::{Hessian, MassConvention, Molecule};
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
