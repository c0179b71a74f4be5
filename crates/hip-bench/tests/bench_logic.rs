//! The bench's bookkeeping without timing anything: molecule sizes, scaling fits, ratios, the
//! regression check and the report text.

use hip_bench::baseline::compare;
use hip_bench::molecules::{alkane, alkane_bundle};
use hip_bench::peer::parse;
use hip_bench::report::{PeerRatio, RatioRow, Results, markdown, peer_ratios};
use hip_bench::speed::{SpeedRow, pair_scaling_exponent, ratio, scaling_exponent};

fn row(n: usize, provider: &str, ms: f64) -> SpeedRow {
    hip_bench::speed::row_of(n, provider, &[ms])
}

#[test]
fn molecules_have_the_requested_size() {
    for n in [1, 2, 5, 10, 29, 30, 100] {
        assert_eq!(alkane(n).len(), n);
    }
    assert_eq!(alkane_bundle(500).len(), 500);
}

#[test]
fn scaling_and_ratios() {
    let rows: Vec<SpeedRow> = [10usize, 20, 40]
        .iter()
        .flat_map(|&n| {
            let x = n as f64;
            [row(n, "direct", x), row(n, "autodiff", x * x)]
        })
        .collect();
    assert!((scaling_exponent(&rows, "autodiff", 10).unwrap() - 2.0).abs() < 1e-12);
    assert!((scaling_exponent(&rows, "direct", 10).unwrap() - 1.0).abs() < 1e-12);
    assert_eq!(scaling_exponent(&rows, "fd", 10), None);
    assert_eq!(ratio(&rows, "autodiff", 20), Some(20.0));
    // block-sparse rows: time ∝ pairs, pairs ∝ N^1.5 → exponent 1.5 in N, 1 in pairs
    let blocks: Vec<SpeedRow> = [100usize, 400, 1600]
        .iter()
        .map(|&n| {
            let pairs = (n as f64).powf(1.5) as usize;
            SpeedRow { n_pairs: Some(pairs), ..row(n, "direct_blocks", 0.01 * pairs as f64) }
        })
        .collect();
    assert!((scaling_exponent(&blocks, "direct_blocks", 100).unwrap() - 1.5).abs() < 1e-9);
    assert!((pair_scaling_exponent(&blocks, "direct_blocks").unwrap() - 1.0).abs() < 1e-9);
    assert_eq!(pair_scaling_exponent(&rows, "direct"), None, "rows without pairs");
}

fn results(ad_ratio: f64, hessian_mae: f64) -> Results {
    let mut r = Results::default();
    r.ratios.push(RatioRow {
        n_atoms: 20,
        autodiff_over_direct_with_forces: Some(ad_ratio / 2.0),
        fd_over_direct_with_forces: None,
        autodiff_over_direct: Some(ad_ratio),
        fd_over_direct: None,
        direct_over_energy_forces: Some(1.2),
        direct_with_forces_over_energy_forces: None,
    });
    r.accuracy.insert("direct".into(), serde_json::json!({"hessian": {"hessian_mae": hessian_mae, "cos_v1": 0.7}}));
    r.speed.push(row(20, "direct", 30.0));
    r
}

#[test]
fn regression_check_flags_slower_ratios_and_worse_accuracy() {
    let base = results(100.0, 0.5);
    assert!(compare(&results(90.0, 0.5), &base).iter().all(|c| c.ok));
    let slow = compare(&results(40.0, 0.5), &base);
    assert!(slow.iter().any(|c| !c.ok && c.name.contains("AD/direct")));
    let worse = compare(&results(100.0, 0.6), &base);
    assert!(worse.iter().any(|c| !c.ok && c.name.contains("hessian_mae")));
    // a measurement that disappears fails: a missing ratio row, a missing ratio, a missing
    // provider, a missing metric
    let mut gone = results(100.0, 0.5);
    gone.ratios.clear();
    assert!(compare(&gone, &base).iter().any(|c| !c.ok && c.name == "AD/direct @ 20 atoms (missing)"));
    let mut gone = results(100.0, 0.5);
    gone.ratios[0].autodiff_over_direct = None;
    assert!(compare(&gone, &base).iter().any(|c| !c.ok && c.name.contains("AD/direct") && c.name.contains("missing")));
    let mut gone = results(100.0, 0.5);
    gone.accuracy.clear();
    assert!(compare(&gone, &base).iter().any(|c| !c.ok && c.name == "direct hessian_mae (missing)"));
    let mut gone = results(100.0, 0.5);
    gone.accuracy.insert("direct".into(), serde_json::json!({"hessian": {"hessian_mae": 0.5}}));
    assert!(compare(&gone, &base).iter().any(|c| !c.ok && c.name == "direct cos_v1 (missing)"));
}

#[test]
fn report_has_the_tables() {
    let md = markdown(&results(100.0, 0.5), &[("Speed-up", "speedup.svg")]);
    assert!(
        md.contains("## Time per Hessian") && md.contains("## Accuracy") && md.contains("![Speed-up](speedup.svg)")
    );
    assert!(md.contains("| hessian_mae | 0.5000 |"));
}

#[test]
fn report_has_per_kind_and_training_tables() {
    let mut r = results(100.0, 0.5);
    let by_kind = serde_json::json!({
        "ts": {"n_samples": 3, "energy_mae_ev": 0.25, "forces_mae_ev_a": 0.125,
               "hessian": {"hessian_mae": 0.75, "lambda1_mae": 1.5, "cos_v1": 0.5}},
        "minimum": {"n_samples": 2, "energy_mae_ev": 0.1, "forces_mae_ev_a": 0.05,
                    "hessian": {"hessian_mae": 0.2}}
    });
    r.accuracy.get_mut("direct").unwrap()["by_kind"] = by_kind;
    let epoch = |k: usize, f: f64, h: f64| -> hip_model::train::EpochRecord {
        serde_json::from_value(serde_json::json!({"epoch": k, "train_loss": 1.0, "val_energy_mae": 0.3,
            "val_forces_mae": f, "val_hessian_mae": h, "wall_s": 100.0 * k as f64, "cpu_s": 3600.0 * k as f64}))
        .unwrap()
    };
    r.learning_curves.insert("HIP".into(), vec![epoch(1, 0.2, 0.4), epoch(2, 0.15, 0.3)]);
    r.learning_curves.insert("E+F baseline".into(), vec![epoch(1, 0.18, f64::NAN)]);
    let md = markdown(&r, &[]);
    assert!(md.contains("### Per sample kind"), "{md}");
    // rows sorted by kind, with the provider's numbers (missing metrics as –)
    let min_row = md.find("| minimum | direct | 2 | 0.100 | 0.050 | 0.200 | – |").expect("minimum row");
    let ts_row = md.find("| ts | direct | 3 | 0.250 | 0.125 | 0.750 | – | 1.500 | 0.500 |").expect("ts row");
    assert!(min_row < ts_row);
    assert!(md.contains("| HIP | 2 | 2.00 | 0.3000 | 0.1500 | 0.3000 |"), "{md}");
    assert!(md.contains("| E+F baseline | 1 | 1.00 | 0.3000 | 0.1800 | – |"), "{md}");
    // the optimization and ΔZPE tables
    let run = |method: &str, converged: bool, steps: usize| hip_bench::opt_bench::OptRun {
        name: "m#1".into(),
        n_atoms: 3,
        sigma: 0.1,
        method: method.into(),
        converged,
        n_imaginary: 0,
        graded_by: "autodiff".into(),
        steps,
        gradient_calls: steps + 1,
        hessian_calls: 0,
        seconds: 0.5,
        rmsd_to_reference: 0.01,
    };
    let runs = vec![run("fire", true, 30), run("fire", false, 1000), run("rfo_direct", true, 4)];
    let summary =
        ["fire", "rfo_direct"].iter().map(|m| (m.to_string(), hip_bench::opt_bench::summarize(&runs, m))).collect();
    r.optimizations = Some(hip_bench::report::OptResults { runs, summary });
    r.delta_zpe = Some(hip_bench::zpe_bench::ZpeResults {
        rows: vec![],
        ddzpe_mae_ev: [("direct".to_string(), 0.0125)].into_iter().collect(),
    });
    let md = markdown(&r, &[]);
    assert!(md.contains("| rfo_direct | 1/1 | 1/1 | 4 | 5.0 | 0.0 | 0.50 |"), "{md}");
    assert!(md.contains("| fire | 1/2 | 1/2 | 30 | 516.0 | 0.0 | 0.50 |"), "{md}");
    assert!(md.find("| rfo_direct |").unwrap() < md.find("| fire |").unwrap(), "METHODS order");
    assert!(md.contains("| direct | 0.0125 |"), "{md}");
}

#[test]
fn peer_output_is_parsed_and_compared_at_equal_sizes() {
    // the current script's output (with spread and runs) and an older one's (medians only)
    let out = "some torch warning\n{\"torch\": \"2.15.0\", \"e3nn\": \"0.6.0\", \"threads\": 2, \"rows\": [\
               {\"n_atoms\": 20, \"runs\": 7, \"energy_forces_ms\": 12.0, \"energy_forces_min_ms\": 11.0, \
               \"energy_forces_max_ms\": 15.0, \"autograd_hessian_ms\": 900.0, \"autograd_hessian_min_ms\": 880.0, \
               \"autograd_hessian_max_ms\": 990.0}, \
               {\"n_atoms\": 50, \"energy_forces_ms\": 18.0, \"autograd_hessian_ms\": 4000.0}]}\n";
    let p = parse(out).unwrap();
    assert_eq!((p.threads, p.rows.len(), p.e3nn.as_str()), (2, 2, "0.6.0"));
    assert_eq!((p.rows[0].runs, p.rows[0].autograd_hessian_max_ms, p.rows[1].runs), (7, Some(990.0), 0));
    assert!(parse("Traceback ...\nModuleNotFoundError: No module named 'torch'").is_err());
    let mut r = results(100.0, 0.5);
    // ours at 20 atoms: E+F 8 ms, autodiff 600 ms, direct+forces 36 ms; nothing at 50 atoms
    r.speed.push(row(20, "energy_forces", 8.0));
    r.speed.push(row(20, "autodiff", 600.0));
    r.speed.push(row(20, "direct_with_forces", 36.0));
    r.peer = Some(p.clone());
    let q = peer_ratios(&r, &p);
    assert_eq!(
        q[0],
        PeerRatio {
            n_atoms: 20,
            energy_forces: Some(1.5),
            autodiff_over_autodiff: Some(1.5),
            autodiff_over_direct_with_forces: Some(25.0)
        }
    );
    assert_eq!(
        (q[1].energy_forces, q[1].autodiff_over_autodiff, q[1].autodiff_over_direct_with_forces),
        (None, None, None)
    );
    let md = markdown(&r, &[]);
    assert!(md.contains("## Peer: PyTorch + e3nn"), "{md}");
    assert!(md.contains("| peer E+F / our E+F | peer AD / our AD | peer AD / our direct+forces |"), "{md}");
    assert!(md.contains("| 20 | 7 | 12.00 [11.00–15.00] | 900.0 [880.0–990.0] | 1.50 | 1.50 | 25.0 |"), "{md}");
    assert!(md.contains("| 50 | – | 18.00 | 4000.0 | – | – | – |"), "{md}");
}

#[test]
fn providers_are_timed_interleaved_with_equal_runs() {
    use std::cell::RefCell;
    let order = RefCell::new(Vec::new());
    let mut calls: Vec<hip_bench::speed::Call> = ["a", "b", "c"]
        .iter()
        .map(|&name| {
            let order = &order;
            let f: Box<dyn FnMut() -> hip_model::Result<()>> = Box::new(move || {
                order.borrow_mut().push(name);
                Ok(())
            });
            (name, f)
        })
        .collect();
    let times = hip_bench::speed::time_interleaved(&mut calls, 5, 0.0).unwrap();
    drop(calls);
    assert!(times.iter().all(|t| t.len() == 5), "every provider gets the same number of runs");
    assert!(times.iter().all(|t| t.windows(2).all(|w| w[0] <= w[1])), "sorted");
    // one warm-up each, then rounds a b c a b c ...
    let seq = order.into_inner();
    assert_eq!(&seq[..3], &["a", "b", "c"]);
    assert!(seq[3..].chunks(3).all(|c| c == ["a", "b", "c"]), "{seq:?}");
    let row = hip_bench::speed::row_of(7, "a", &times[0]);
    assert_eq!(row.runs, 5);
    assert!(row.min_ms.unwrap() <= row.median_ms && row.median_ms <= row.max_ms.unwrap());
}

#[test]
fn ts_searches_are_graded_by_the_autodiff_hessian_of_the_searched_model() {
    use std::sync::Arc;
    let model =
        Arc::new(hip_model::HipModel::new(hip_model::ModelConfig::default(), &candle_core::Device::Cpu).unwrap());
    let ts0 = hip_core::Molecule::new(vec![8, 1, 1], vec![[0.0; 3], [0.96, 0.0, 0.0], [-0.24, 0.93, 0.0]]).unwrap();
    let runs = hip_bench::ts_bench::ts_searches(model.clone(), &[("w".into(), ts0)], &[0.05], 1, false).unwrap();
    assert_eq!(runs.len(), 3, "hip, hip_probe8, quasi_newton");
    let probed = runs.iter().find(|r| r.hessian == "hip_probe8").unwrap();
    assert!(probed.steps == 0 || probed.energy_calls > probed.steps + 1, "probes call the gradient");
    for r in &runs {
        assert_eq!(r.graded_by, "autodiff");
        let end = r.rmsd_to_reference;
        assert!(end.is_finite() && (r.matches_reference == (end < hip_bench::ts_bench::MATCH_RMSD)));
    }
    let s = hip_bench::ts_bench::summarize(&runs, "hip");
    assert_eq!(s.runs, 1);
    assert!(s.success <= s.converged && s.matches_reference <= s.success && s.own_agrees <= s.runs);
}

#[test]
fn a_ts_search_that_stops_with_an_error_is_a_failed_run_not_an_aborted_benchmark() {
    use std::sync::Arc;
    let model =
        Arc::new(hip_model::HipModel::new(hip_model::ModelConfig::default(), &candle_core::Device::Cpu).unwrap());
    // an H 0.1 Å from the O: outside the model's domain, so every search stops at its first call
    let collapsed =
        hip_core::Molecule::new(vec![8, 1, 1], vec![[0.0; 3], [0.1, 0.0, 0.0], [-0.24, 0.93, 0.0]]).unwrap();
    let runs = hip_bench::ts_bench::ts_searches(model, &[("c".into(), collapsed)], &[0.0], 1, false).unwrap();
    assert_eq!(runs.len(), 3, "every variant has its run");
    for r in &runs {
        let e = r.error.as_deref().unwrap_or_default();
        assert!(e.contains("coincident") && !r.converged && r.n_imaginary == usize::MAX, "{}: {e:?}", r.hessian);
    }
    let s = hip_bench::ts_bench::summarize(&runs, "hip");
    assert_eq!((s.runs, s.errors, s.converged, s.success, s.own_agrees), (1, 1, 0, 0, 0));
    let json = serde_json::to_string(&runs[0]).unwrap();
    assert!(json.contains("\"error\""), "the reason is in the results file: {json}");
}

#[test]
fn line_plots_draw_min_max_error_bars() {
    let dir = std::env::temp_dir().join(format!("hip-bench-plot-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let series = |spread: Vec<(f64, f64)>| hip_bench::plots::Series {
        label: "autodiff".into(),
        points: vec![(5.0, 10.0), (10.0, 40.0)],
        spread,
        reference: false,
    };
    let svg = |name: &str, s: hip_bench::plots::Series| {
        hip_bench::plots::line_plot(&dir.join(name), "t", "atoms", "ms", &[s]).unwrap();
        std::fs::read_to_string(dir.join(name).with_extension("svg")).unwrap()
    };
    let plain = svg("plain", series(vec![]));
    // bars inside the points' range keep the axes (and so the grid lines) unchanged
    let bars = svg("bars", series(vec![(10.0, 20.0), (15.0, 40.0)]));
    // each error bar is three lines: the bar and two caps
    let count = |s: &str| s.matches("<line").count();
    assert_eq!(count(&bars), count(&plain) + 6, "{bars}");
    std::fs::remove_dir_all(&dir).ok();
}

/// A `state.json` as `scripts/mace_budget.py` writes it (curve rows: epoch, CPU s, val E, val F).
fn mace_state(dir: &std::path::Path, name: &str, json: serde_json::Value) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string(&json).unwrap()).unwrap();
    path
}

#[test]
fn the_mace_reference_curve_is_read_checked_and_graded_against_the_baseline() {
    use hip_bench::reference_curve::{MACE_LABEL, force_ratio, read_mace_state, same_data};
    let dir = std::env::temp_dir().join(format!("hip-bench-mace-{}", std::process::id()));
    let good = mace_state(
        &dir,
        "good.json",
        serde_json::json!({"data": "datasets/gfn2-train.h5", "train_samples": 7, "budget_s": 100.0, "done": true,
            "curve": [[0, 40.0, 1.2, 0.09], [1, 80.0, 0.6, 0.08]], "segments": []}),
    );
    let c = read_mace_state(&good).unwrap();
    assert!(c.done);
    assert_eq!(c.history.len(), 2);
    assert_eq!((c.history[1].epoch, c.history[1].cpu_s, c.history[1].val_forces_mae), (2, 80.0, 0.08));
    assert!(c.history[0].val_hessian_mae.is_nan(), "MACE has no Hessian curve");
    // the same file spelled from another directory is the same data; another file is not
    // the same file spelled from another directory is the same data; another file, or the same
    // name with another train split (an older version of the file), is not
    assert!(same_data(&c, std::path::Path::new("/somewhere/datasets/gfn2-train.h5"), 7));
    assert!(!same_data(&c, std::path::Path::new("datasets/gfn2-v3.h5"), 7));
    assert!(!same_data(&c, std::path::Path::new("datasets/gfn2-train.h5"), 8));

    // bad states are errors that name the file
    let bad = [
        ("nodata.json", serde_json::json!({"budget_s": 1.0, "curve": []}), "no `data` field"),
        ("nosize.json", serde_json::json!({"data": "d.h5", "budget_s": 1.0, "curve": []}), "no `train_samples` field"),
        (
            "nan.json",
            serde_json::json!({"data": "d.h5", "train_samples": 1, "budget_s": 1.0, "curve": [[0, 1.0, null, 0.1]]}),
            "not a MACE",
        ),
        (
            "back.json",
            serde_json::json!({"data": "d.h5", "train_samples": 1, "budget_s": 1.0, "curve": [[0, 9.0, 1.0, 0.1], [1, 5.0, 1.0, 0.1]]}),
            "backwards",
        ),
    ];
    for (name, json, says) in bad {
        let path = mace_state(&dir, name, json);
        let e = read_mace_state(&path).unwrap_err();
        assert!(e.contains(name) && e.contains(says), "{name}: {e}");
    }

    // the ratio takes each run's last epoch, and the report states it against the 1.5× bar
    let epoch = |k: usize, f: f64| hip_model::train::EpochRecord {
        epoch: k,
        train_loss: 1.0,
        val_energy_mae: 0.1,
        val_forces_mae: f,
        val_hessian_mae: f64::NAN,
        wall_s: 1.0,
        cpu_s: k as f64,
        samples: 0,
        peak_rss_mib: 0.0,
    };
    let ef = vec![epoch(1, 0.2), epoch(2, 0.12)];
    assert!((force_ratio(&ef, &c.history).unwrap() - 1.5).abs() < 1e-12);
    assert_eq!(force_ratio(&[], &c.history), None);
    let mut r = results(100.0, 0.5);
    r.learning_curves.insert(hip_bench::report::EF_LABEL.into(), ef);
    r.learning_curves.insert(MACE_LABEL.into(), c.history.clone());
    let md = markdown(&r, &[]);
    assert!(md.contains("| MACE reference | 2 | 0.02 | 0.6000 | 0.0800 | – |"), "{md}");
    assert!(md.contains("val F MAE ratio 1.50× (a real baseline; the bar is ≤ 1.5×)"), "{md}");
    r.learning_curves.insert(hip_bench::report::EF_LABEL.into(), vec![epoch(1, 0.13)]);
    assert!(markdown(&r, &[]).contains("ratio 1.62× (weaker than the reference"));
    let _ = std::fs::remove_dir_all(&dir);
    // the committed reference, which `hip report` reads by default, is readable and finished
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/mace-ref-v2/state.json");
    if shipped.exists() {
        let c = read_mace_state(&shipped).unwrap();
        assert!(c.done && !c.history.is_empty(), "{}", shipped.display());
    }
}
