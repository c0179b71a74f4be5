//! The reaction benchmark on the shipped data and model: one test-split reaction through the
//! pipeline with the three Hessians, graded consistently.

use std::path::PathBuf;
use std::sync::Arc;

use hip_bench::reaction_bench::{reaction_runs, summarize};

#[test]
fn reaction_benchmark_runs_each_hessian_and_grades_consistently() {
    hip_model::enable_second_order_autodiff();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let model = Arc::new(hip_model::default_model::load(None).expect("the embedded model"));
    let all = hip_bench::reaction_cases(&model, &root.join("datasets/gfn2-train.h5"), 0).expect("cases");
    assert!(!all.is_empty(), "the shipped data has test-split reactions with stored IRC ends");
    // the smallest one keeps the test to seconds
    let cases = vec![all.iter().min_by_key(|c| c.ts.len()).expect("non-empty").clone()];
    let c = &cases[0];
    assert_eq!(c.reactant.numbers, c.product.numbers);
    assert!(c.barrier_ev.is_finite() && c.barrier_ev > -1e-6, "a TS is above its reactant: {}", c.barrier_ev);
    let runs = reaction_runs(model, &cases).expect("runs");
    assert_eq!(runs.len(), 3);
    for label in ["hip", "autodiff", "quasi_newton"] {
        let s = summarize(&runs, label);
        assert_eq!(s.runs, 1, "{label}");
        // a graded success is a converged search; the reference match is a subset of successes
        assert!(s.ts_success <= s.ts_converged && s.matches_reference <= s.ts_success, "{label}: {s:?}");
    }
    for r in &runs {
        assert!(r.rmsd_to_reference.is_finite() && r.barrier_error_ev.is_finite() && r.seconds > 0.0, "{r:?}");
        assert_eq!(r.matches_reference, r.ts_success && r.rmsd_to_reference < hip_bench::ts_bench::MATCH_RMSD);
    }
}
