//! `elements::bond_radius` is ASE's covalent-radius table (the one the ASE + Sella peer of the
//! reaction benchmark and the data generator perceive bonds with), element by element.

use hip_core::elements;

#[test]
fn bond_radii_are_ases_covalent_radii() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ase_covalent_radii.json");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let radii = v["radii_angstrom"].as_array().unwrap();
    assert_eq!(radii.len(), elements::MAX_Z as usize + 1);
    for z in 1..=elements::MAX_Z {
        let want = radii[z as usize].as_f64().unwrap();
        // both are tables of two-decimal values: equal up to float parsing
        assert!((elements::bond_radius(z).unwrap() - want).abs() < 1e-12, "Z = {z}");
    }
    assert!(elements::bond_radius(0).is_err());
}
