//! The geometry-optimization study and the ΔZPE comparison on the shipped data and model: the
//! smallest test-split minimum and reaction, every optimizer, bookkeeping that holds for any
//! model (what each optimizer may call, one grader, ΔΔZPE from its definition).

use std::path::PathBuf;
use std::sync::Arc;

use hip_bench::opt_bench::{METHODS, optimizations, starts, summarize};
use hip_core::MassConvention;
use hip_model::HessianMethod;
use hip_tasks::Vibrations;

fn data() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../datasets/gfn2-train.h5")
}

#[test]
fn every_optimizer_runs_from_the_same_starts_and_is_graded_by_autodiff() {
    hip_model::enable_second_order_autodiff();
    let model = Arc::new(hip_model::default_model::load(None).expect("the embedded model"));
    let minima = hip_bench::test_minima(&model, &data(), 0).expect("minima");
    assert!(!minima.is_empty(), "the shipped data has test-split minima");
    let smallest = minima.iter().min_by_key(|m| m.1.len()).expect("non-empty").clone();
    let st = starts(std::slice::from_ref(&smallest), &hip_bench::OPT_SIGMAS);
    assert_eq!(st.len(), 2);
    for (_, sigma, start, reference) in &st {
        let moved = hip_tasks::reaction::align::rmsd(reference, start).unwrap();
        assert!(moved > 0.1 * sigma && moved < 10.0 * sigma, "σ {sigma}: start moved {moved} Å");
    }
    let runs = optimizations(model, &st).expect("runs");
    assert_eq!(runs.len(), 2 * METHODS.len());
    for r in &runs {
        assert_eq!(r.graded_by, "autodiff");
        match r.method.as_str() {
            // gradient-only methods never call a Hessian
            "rfo_bfgs_unit" | "fire" => assert_eq!(r.hessian_calls, 0, "{r:?}"),
            // one Hessian at the start, then updates
            "rfo_bfgs_direct" => assert_eq!(r.hessian_calls, 1, "{r:?}"),
            // a fresh Hessian at the start and after every accepted step
            _ => assert!(r.hessian_calls >= 1 && r.hessian_calls <= r.steps + 1, "{r:?}"),
        }
        assert!(r.gradient_calls >= r.steps && r.seconds > 0.0 && r.rmsd_to_reference.is_finite(), "{r:?}");
    }
    for m in METHODS {
        let s = summarize(&runs, m);
        assert_eq!(s.runs, 2, "{m}");
        assert!(s.success <= s.converged && s.converged <= s.runs, "{m}: {s:?}");
        assert_eq!(s.median_steps.is_nan(), s.converged == 0, "{m}: {s:?}");
    }
}

#[test]
fn delta_zpe_is_graded_against_the_reference_hessians() {
    hip_model::enable_second_order_autodiff();
    let model = hip_model::default_model::load(None).expect("the embedded model");
    let pairs = hip_bench::reaction_end_pairs(&model, &data(), 0).expect("pairs");
    assert!(!pairs.is_empty(), "the shipped data has test-split reactions with IRC ends");
    let pair = pairs.iter().min_by_key(|p| p.1.molecule.len()).expect("non-empty").clone();
    assert_eq!(pair.1.kind, "minimum");
    assert_eq!(pair.2.kind, "minimum");
    let methods = [("direct", &model, HessianMethod::Direct), ("autodiff", &model, HessianMethod::Autodiff)];
    let z = hip_bench::zpe_bench::delta_zpe(std::slice::from_ref(&pair), &methods).expect("ΔZPE");
    let zpe = |s: &hip_core::io::dataset::Sample, h: &hip_core::Hessian| {
        Vibrations::new(&s.molecule, h, &s.molecule.masses(MassConvention::Iupac).unwrap()).unwrap().zpe_ev()
    };
    let reference = zpe(&pair.2, &pair.2.hessian) - zpe(&pair.1, &pair.1.hessian);
    assert!((z.rows[0].reference_ev - reference).abs() < 1e-12);
    for (label, _, method) in methods {
        let h = |s: &hip_core::io::dataset::Sample| model.hessian(&s.molecule, method).unwrap();
        let d = zpe(&pair.2, &h(&pair.2)) - zpe(&pair.1, &h(&pair.1));
        // ZPEs are sums of O(10) terms of O(0.1) eV: 1e-12 is rounding
        assert!((z.rows[0].by_method[label] - d).abs() < 1e-12, "{label}");
        assert!((z.ddzpe_mae_ev[label] - (d - reference).abs()).abs() < 1e-12, "{label}");
    }
}

#[test]
fn quartiles_and_box_plot() {
    use hip_bench::plots::five_numbers;
    assert_eq!(five_numbers(&[]), None);
    assert_eq!(five_numbers(&[3.0]), Some([3.0; 5]));
    assert_eq!(five_numbers(&[4.0, 1.0, 3.0, 2.0, 5.0]), Some([1.0, 2.0, 3.0, 4.0, 5.0]));
    assert_eq!(five_numbers(&[1.0, 2.0, f64::NAN, 3.0, 4.0]), Some([1.0, 1.75, 2.5, 3.25, 4.0]));
    let dir = std::env::temp_dir().join(format!("hip-bench-box-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let groups = vec![("a".to_string(), vec![1.0, 2.0, 5.0]), ("empty".to_string(), vec![])];
    hip_bench::plots::box_plot(&dir.join("box"), "steps", "steps", &groups).unwrap();
    let svg = std::fs::read_to_string(dir.join("box.svg")).unwrap();
    assert!(svg.contains("<svg") && svg.contains("empty"));
    assert!(dir.join("box.png").exists());
}
