//! Harmonic thermochemistry against `pyscf.hessian.thermo.thermo` on the fixture made by
//! `tests/fixtures/make_thermo_fixture.py` (PySCF 2.14, the public QM reference Hessians,
//! 298.15 K and 1000 K, 1 atm).
//!
//! Tolerance: PySCF's `nist` module uses CODATA 2014 constants (k_B = 1.38064852e-23) where we
//! use the exact SI / CODATA 2018 values (k_B = 1.380649e-23): a relative difference of 3.4e-7
//! that propagates into every term. We allow 2e-6 relative + 1e-9 absolute (eV or eV/K), which a
//! wrong formula (a missing kT, a wrong symmetry number, a linear/non-linear mix-up) exceeds by
//! orders of magnitude.

use hip_core::{Hessian, Molecule};
use hip_tasks::{ThermoInput, Vibrations, thermo};
use serde_json::Value;

fn nums(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

#[test]
fn thermochemistry_matches_pyscf() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/pyscf_thermo.json")).unwrap();
    let d: Value = serde_json::from_str(&text).unwrap();
    let cases = d["cases"].as_array().unwrap();
    assert!(!cases.is_empty());
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let numbers: Vec<u8> = c["numbers"].as_array().unwrap().iter().map(|z| z.as_u64().unwrap() as u8).collect();
        let positions: Vec<[f64; 3]> =
            c["positions"].as_array().unwrap().iter().map(|p| nums(p).try_into().unwrap()).collect();
        let mol = Molecule::new(numbers, positions).unwrap();
        let masses = nums(&c["masses"]);
        let hessian = Hessian::from_vec(mol.len(), nums(&c["hessian"])).unwrap();
        let vib = Vibrations::new(&mol, &hessian, &masses).unwrap();
        for (t, expected) in c["temperatures"].as_object().unwrap() {
            let mut input = ThermoInput::new(&mol.positions, &masses, &vib.frequencies_cm);
            input.temperature = t.parse().unwrap();
            input.symmetry_number = c["symmetry_number"].as_f64().unwrap();
            input.multiplicity = c["multiplicity"].as_u64().unwrap() as u32;
            input.pressure = c["pressure"].as_f64().unwrap();
            let got = serde_json::to_value(thermo(&input).unwrap()).unwrap();
            for (key, want) in expected.as_object().unwrap() {
                let (g, w) = (got[key].as_f64().unwrap_or_else(|| panic!("no {key}")), want.as_f64().unwrap());
                assert!((g - w).abs() <= 2e-6 * w.abs() + 1e-9, "{name} at {t} K: {key} = {g} vs PySCF {w}");
            }
        }
    }
}

#[test]
fn bad_thermo_input_is_an_error() {
    let p = [[0.0, 0.0, 0.0], [0.0, 0.0, 1.1]];
    let m = [12.0, 16.0];
    let f = [2100.0];
    let mut input = ThermoInput::new(&p, &m, &f);
    input.temperature = -1.0;
    assert!(thermo(&input).is_err());
}
