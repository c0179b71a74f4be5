//! The report's DFT check: graded by the dataset's own references, every sample and the TS
//! subset apart, read from every split of the file.

use std::path::PathBuf;

use hip_bench::dft_check::{Provider, markdown, read_all, run};
use hip_model::Prediction;

fn horm() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../datasets/horm/sample_100.h5")
}

/// A provider that returns the reference itself (looked up by exact positions) must score zero
/// on every error and |cos v₁| = 1 to rounding (1e-9: the metrics' eigen-decompositions of the
/// same f64 matrix, against values of order 1), and its TS row must count exactly the file's TSs.
#[test]
fn the_reference_itself_scores_perfectly_on_all_samples_and_on_the_ts_subset() {
    let samples = read_all(&horm()).unwrap();
    let n_ts = samples.iter().filter(|s| s.kind == "ts").count();
    assert!(n_ts > 0 && n_ts < samples.len());
    let lookup = |m: &hip_core::Molecule| {
        let s = samples.iter().find(|s| s.molecule.positions == m.positions).expect("a sample of the set");
        Ok(Prediction { energy: s.energy, forces: s.forces.clone(), hessian: s.hessian.clone() })
    };
    let providers: Vec<Provider<'_>> = vec![("reference".into(), Box::new(lookup))];
    let rows = run(&[("HORM".into(), horm())], &providers, false).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!((rows[0].subset.as_str(), rows[0].n_samples), ("all", samples.len()));
    assert_eq!((rows[1].subset.as_str(), rows[1].n_samples), ("TSs", n_ts));
    for r in &rows {
        let h = &r.hessian;
        assert!(r.forces_mae_ev_a < 1e-12 && h.hessian_mae < 1e-12, "{r:?}");
        assert!(h.eigenvalue_mae < 1e-9 && h.lambda1_mae < 1e-9 && (h.cos_v1 - 1.0).abs() < 1e-9, "{r:?}");
        assert!(h.zpe_error_ev < 1e-9 && h.frequency_mae_cm.is_none_or(|f| f < 1e-6), "{r:?}");
    }
    let md = markdown(&rows);
    assert_eq!(md.lines().count(), 2 + rows.len());
    assert!(md.contains("| HORM | TSs | reference | ") && md.contains("| HORM | all | reference | "));
}

/// A provider's failure is the run's error, not a row.
#[test]
fn a_failing_provider_is_an_error() {
    let fail = |_: &hip_core::Molecule| Err(hip_model::Error::Input("no SCF".into()));
    let providers: Vec<Provider<'_>> = vec![("broken".into(), Box::new(fail))];
    let e = run(&[("HORM".into(), horm())], &providers, false).unwrap_err();
    assert!(e.to_string().contains("no SCF"), "{e}");
}
