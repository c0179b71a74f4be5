//! Frequencies and ZPE against PySCF's `harmonic_analysis` on every configuration of every
//! `.h5` file in the QM reference directory (`QM_REFERENCE_DIR`, default
//! `../shared/reference/qm` from the workspace root). Nothing about the cases is hard-coded.
//!
//! Tolerances (from the issue): ≤ 0.1 cm⁻¹ for modes above 50 cm⁻¹ (below that, near-zero
//! modes are dominated by how the rigid-body projection handles residual sum-rule violations),
//! ZPE ≤ 1e-5 eV. The number of modes (3N−6 or 3N−5) must match exactly, and so must the
//! number of imaginary modes at −10 cm⁻¹ for stationary points.

use std::path::PathBuf;

use hip_core::{Hessian, Molecule};
use hip_tasks::{Classification, DEFAULT_IMAGINARY_THRESHOLD_CM, Vibrations};

fn reference_files() -> Vec<PathBuf> {
    let dir = std::env::var_os("QM_REFERENCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/qm"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {} (set QM_REFERENCE_DIR): {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "h5"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .h5 file in {}", dir.display());
    files
}

fn read(g: &hdf5::Group, name: &str) -> Vec<f64> {
    g.dataset(name).and_then(|d| d.read_raw::<f64>()).unwrap_or_else(|e| panic!("{}/{name}: {e}", g.name()))
}

fn attr_string(g: &hdf5::Group, name: &str) -> String {
    let a = g.attr(name).unwrap_or_else(|e| panic!("{}@{name}: {e}", g.name()));
    a.read_scalar::<hdf5::types::VarLenUnicode>()
        .map(|s| s.to_string())
        .or_else(|_| a.read_scalar::<hdf5::types::VarLenAscii>().map(|s| s.to_string()))
        .unwrap_or_else(|e| panic!("{}@{name}: {e}", g.name()))
}

fn attr_int(g: &hdf5::Group, name: &str) -> i64 {
    g.attr(name).and_then(|a| a.read_scalar::<i64>()).unwrap_or_else(|e| panic!("{}@{name}: {e}", g.name()))
}

#[test]
fn frequencies_and_zpe_match_pyscf() {
    let mut checked = 0;
    let (mut linear, mut ts) = (0, 0);
    let (mut worst_freq, mut worst_zpe) = (0.0f64, 0.0f64);
    for path in reference_files() {
        let file = hdf5::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for name in file.member_names().unwrap() {
            let g = file.group(&name).unwrap();
            let ctx = format!("{}:{name}", path.display());
            let numbers: Vec<u8> =
                g.dataset("atomic_numbers").unwrap().read_raw::<i64>().unwrap().iter().map(|&z| z as u8).collect();
            let pos = read(&g, "positions");
            let mol = Molecule::new(numbers, pos.chunks(3).map(|c| [c[0], c[1], c[2]]).collect()).unwrap();
            let n = mol.len();
            let hessian = Hessian::from_vec(n, read(&g, "hessian")).unwrap();
            let masses = read(&g, "masses");
            let vib = Vibrations::new(&mol, &hessian, &masses).unwrap();
            let expected = read(&g, "frequencies_cm");
            assert_eq!(vib.frequencies_cm.len(), expected.len(), "{ctx}: number of vibrational modes");
            if expected.len() == 3 * n - 5 {
                linear += 1;
            }
            for (k, (got, want)) in vib.frequencies_cm.iter().zip(&expected).enumerate() {
                if want.abs() > 50.0 {
                    worst_freq = worst_freq.max((got - want).abs());
                    assert!((got - want).abs() <= 0.1, "{ctx}: mode {k}: {got:.4} vs PySCF {want:.4} cm⁻¹");
                }
            }
            let zpe = read(&g, "zpe")[0];
            worst_zpe = worst_zpe.max((vib.zpe_ev() - zpe).abs());
            assert!((vib.zpe_ev() - zpe).abs() <= 1e-5, "{ctx}: ZPE {} vs PySCF {zpe} eV", vib.zpe_ev());
            let kind = attr_string(&g, "kind");
            if kind != "displaced" {
                let n_imag = attr_int(&g, "n_imaginary") as usize;
                assert_eq!(vib.n_imaginary(DEFAULT_IMAGINARY_THRESHOLD_CM), n_imag, "{ctx}: imaginary modes");
                if kind == "transition_state" {
                    ts += 1;
                    assert_eq!(vib.classify(DEFAULT_IMAGINARY_THRESHOLD_CM), Classification::TransitionState, "{ctx}");
                }
                if kind == "minimum" {
                    assert_eq!(vib.classify(DEFAULT_IMAGINARY_THRESHOLD_CM), Classification::Minimum, "{ctx}");
                }
            }
            checked += 1;
        }
    }
    assert!(checked > 0);
    eprintln!(
        "checked {checked} configurations ({linear} linear, {ts} transition states): max |Δν| {worst_freq:.2e} cm⁻¹, max |ΔZPE| {worst_zpe:.2e} eV"
    );
}
