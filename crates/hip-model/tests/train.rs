//! Training on a tiny dataset: the loss goes down, and an interrupted run resumes to bitwise the
//! same weights as an uninterrupted one.

use std::path::PathBuf;

use candle_core::Device;
use hip_model::train::{RunOptions, TrainConfig, fit_statistics, load_split, train};
use hip_model::{HipModel, ModelConfig, checkpoint};

fn data() -> Vec<hip_core::io::dataset::Sample> {
    let f = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../hip-core/tests/fixtures/smoke.h5");
    let mut all = load_split(&f, "train").unwrap();
    all.extend(load_split(&f, "test").unwrap());
    all
}

fn fresh(samples: &[hip_core::io::dataset::Sample]) -> HipModel {
    let mut cfg = ModelConfig {
        hidden_irreps: "8x0e+4x1o+2x1e+2x2e".into(),
        head_irreps: "4x0e+2x1e+2x2e".into(),
        ..Default::default()
    };
    let (refs, scale, nn) = fit_statistics(samples, &cfg.species, cfg.cutoff).unwrap();
    cfg.reference_energies = refs;
    cfg.energy_scale = scale;
    cfg.avg_num_neighbors = nn;
    HipModel::new(cfg, &Device::Cpu).unwrap()
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("hip-model-train-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

#[test]
fn loss_decreases_and_resume_is_bitwise_identical() {
    let samples = data();
    let (train_set, val_set) = samples.split_at(16);
    let cfg = TrainConfig { epochs: 12, batch_size: 4, lr: 1e-2, ..Default::default() };
    let opts = |name: &str, stop_after: usize| RunOptions {
        checkpoint: tmp(name),
        resume: true,
        stop_after,
        provenance: serde_json::json!({"test": true}),
        progress: false,
        sample_repeats: Vec::new(),
    };
    let (full, hist) = train(fresh(&samples), train_set, val_set, &cfg, &opts("full.safetensors", 0)).unwrap();
    assert_eq!(hist.len(), 12);
    eprintln!("{hist:?}");
    let late = hist[6..].iter().map(|h| h.train_loss).fold(f64::INFINITY, f64::min);
    assert!(late < 0.9 * hist[0].train_loss, "loss did not decrease: {hist:?}");
    // interrupted after 2 epochs, then resumed from the checkpoint
    let _ = train(fresh(&samples), train_set, val_set, &cfg, &opts("part.safetensors", 5)).unwrap();
    let (resumed, hist2) = train(fresh(&samples), train_set, val_set, &cfg, &opts("part.safetensors", 0)).unwrap();
    assert_eq!(hist2.len(), 12);
    let (a, b) = (full.params.tensors(), resumed.params.tensors());
    for (name, t) in &a {
        let (x, y) = (
            t.flatten_all().unwrap().to_vec1::<f64>().unwrap(),
            b[name].flatten_all().unwrap().to_vec1::<f64>().unwrap(),
        );
        assert!(x.iter().zip(&y).all(|(p, q)| p.to_bits() == q.to_bits()), "parameter {name} differs after resume");
    }
    // the checkpoint loads back to the same model, and a mismatched config is refused
    let ck = checkpoint::load(&tmp("full.safetensors"), &Device::Cpu).unwrap();
    assert_eq!(ck.model.config, full.config);
    let other = ModelConfig { hidden_irreps: "4x0e".into(), ..full.config.clone() };
    let e = checkpoint::load_expecting(&tmp("full.safetensors"), &other, &Device::Cpu).unwrap_err().to_string();
    assert!(e.contains("hidden_irreps"), "{e}");
    // corrupt files are clear errors
    std::fs::write(tmp("bad.safetensors"), b"garbage").unwrap();
    let e = checkpoint::load(&tmp("bad.safetensors"), &Device::Cpu).unwrap_err().to_string();
    assert!(e.contains("bad.safetensors"), "{e}");
}

fn opts(name: &str, stop_after: usize) -> RunOptions {
    RunOptions {
        checkpoint: tmp(name),
        resume: true,
        stop_after,
        provenance: serde_json::json!({"test": true}),
        progress: false,
        sample_repeats: Vec::new(),
    }
}

fn training_json(name: &str) -> serde_json::Value {
    checkpoint::load(&tmp(name), &Device::Cpu).unwrap().training
}

#[test]
fn a_training_subset_is_spread_over_the_molecules() {
    // The fixture's train split is ordered by molecule (7 samples of each of 2 molecules); a
    // prefix of 4 would see one molecule, an even spread sees both.
    let f = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../hip-core/tests/fixtures/smoke.h5");
    let train_set = load_split(&f, "train").unwrap();
    let n_mol = train_set.iter().map(|s| &s.molecule_id).collect::<std::collections::BTreeSet<_>>().len();
    assert!(n_mol >= 2);
    assert_eq!(hip_model::train::spread_indices(14, 4), vec![0, 3, 7, 10]);
    assert_eq!(hip_model::train::spread_indices(5, 0), vec![0, 1, 2, 3, 4]);
    let cfg = TrainConfig { epochs: 1, batch_size: 4, max_train: 4, ..Default::default() };
    train(fresh(&train_set), &train_set, &train_set[..2], &cfg, &opts("spread.safetensors", 0)).unwrap();
    let t = training_json("spread.safetensors");
    assert_eq!(t["n_train"], 4);
    assert_eq!(t["train_molecules"], n_mol);
}

#[test]
fn kind_repeats_oversample_a_kind_in_every_epoch() {
    use std::collections::BTreeMap;
    let repeats: BTreeMap<String, usize> = [("ts".to_string(), 3)].into();
    let pool = hip_model::train::epoch_pool(&["minimum", "ts", "thermal", "ts"], &repeats);
    assert_eq!(pool, vec![0, 1, 1, 1, 2, 3, 3, 3]);
    // TOML form, and values outside 1..=100 are refused with the key named
    let c = TrainConfig::from_toml("kind_repeats = { ts = 5, path = 2 }").unwrap();
    assert_eq!((c.kind_repeats["ts"], c.kind_repeats["path"]), (5, 2));
    for bad in ["kind_repeats = { ts = 0 }", "kind_repeats = { ts = 101 }"] {
        let e = TrainConfig::from_toml(bad).unwrap_err().to_string();
        assert!(e.contains("kind_repeats.ts"), "{e}");
    }
    // training sees each sample of the repeated kind that many times per epoch
    let f = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../hip-core/tests/fixtures/smoke.h5");
    let train_set = load_split(&f, "train").unwrap();
    let kind = train_set[0].kind.clone();
    let n_kind = train_set.iter().filter(|s| s.kind == kind).count();
    let cfg = TrainConfig { epochs: 1, batch_size: 4, kind_repeats: [(kind, 4)].into(), ..Default::default() };
    train(fresh(&train_set), &train_set, &train_set[..2], &cfg, &opts("repeats.safetensors", 0)).unwrap();
    let t = training_json("repeats.safetensors");
    assert_eq!(t["n_train"], train_set.len());
    assert_eq!(t["epoch_samples"], train_set.len() + 3 * n_kind);
}

#[test]
fn sample_repeats_multiply_kind_repeats_and_data_repeats_are_validated() {
    use std::collections::BTreeMap;
    let repeats: BTreeMap<String, usize> = [("ts".to_string(), 2)].into();
    let pool = hip_model::train::weighted_epoch_pool(&["minimum", "ts", "ts"], &repeats, &[3, 1, 2]);
    assert_eq!(pool, vec![0, 0, 0, 1, 1, 2, 2, 2, 2]);
    // an empty factor list is the unweighted pool
    assert_eq!(
        hip_model::train::weighted_epoch_pool(&["minimum", "ts"], &repeats, &[]),
        hip_model::train::epoch_pool(&["minimum", "ts"], &repeats)
    );
    assert_eq!(TrainConfig::from_toml("data_repeats = [1, 4]").unwrap().data_repeats, vec![1, 4]);
    for bad in ["data_repeats = [0]", "data_repeats = [1, 101]"] {
        let e = TrainConfig::from_toml(bad).unwrap_err().to_string();
        assert!(e.contains("data_repeats"), "{e}");
    }
    // the loop sees sample i `sample_repeats[i]` times per epoch (indices of the training set,
    // before any spread to `max_train`)
    let f = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../hip-core/tests/fixtures/smoke.h5");
    let train_set = load_split(&f, "train").unwrap();
    let sample_repeats: Vec<usize> = (0..train_set.len()).map(|i| 1 + i % 3).collect();
    let cfg = TrainConfig { epochs: 1, batch_size: 4, ..Default::default() };
    let o = RunOptions { sample_repeats: sample_repeats.clone(), ..opts("sample-repeats.safetensors", 0) };
    train(fresh(&train_set), &train_set, &train_set[..2], &cfg, &o).unwrap();
    let t = training_json("sample-repeats.safetensors");
    assert_eq!(t["epoch_samples"], sample_repeats.iter().sum::<usize>());
}

#[test]
fn a_kinds_filter_trains_on_those_kinds_only_and_reads_only_them() {
    let f = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../hip-core/tests/fixtures/smoke.h5");
    let all = load_split(&f, "train").unwrap();
    let kind = all[0].kind.clone();
    let of_kind: Vec<usize> = (0..all.len()).filter(|&i| all[i].kind == kind).collect();
    assert!(of_kind.len() < all.len(), "the fixture needs two kinds for this test to mean anything");
    for max in [0, 1, 2, of_kind.len(), of_kind.len() + 1] {
        let cfg = TrainConfig { kinds: vec![kind.clone()], max_train: max, ..Default::default() };
        let idx = hip_model::train::training_indices(&all, &cfg);
        let want: Vec<usize> =
            hip_model::train::spread_indices(of_kind.len(), max).into_iter().map(|k| of_kind[k]).collect();
        assert_eq!(idx, want, "max {max}");
        // `hip train` reads exactly these from the file
        let read = hip_model::train::load_split_of_kinds(&f, "train", &cfg.kinds, max).unwrap();
        let got: Vec<_> = read.iter().map(|s| (s.index, s.energy)).collect();
        assert_eq!(got, idx.iter().map(|&i| (all[i].index, all[i].energy)).collect::<Vec<_>>(), "max {max}");
    }
    // no filter: the plain spread
    let cfg = TrainConfig { max_train: 3, ..Default::default() };
    assert_eq!(hip_model::train::training_indices(&all, &cfg), hip_model::train::spread_indices(all.len(), 3));
    // training records the filtered count; a kind with no sample is an error naming the kinds
    let cfg = TrainConfig { epochs: 1, batch_size: 4, kinds: vec![kind.clone()], ..Default::default() };
    train(fresh(&all), &all, &all[..2], &cfg, &opts("kinds.safetensors", 0)).unwrap();
    assert_eq!(training_json("kinds.safetensors")["n_train"], of_kind.len());
    let none = TrainConfig { kinds: vec!["no-such-kind".into()], ..cfg };
    let e = train(fresh(&all), &all, &all[..2], &none, &opts("nokind.safetensors", 0)).unwrap_err().to_string();
    assert!(e.contains("no-such-kind"), "{e}");
    // TOML form; an empty or repeated kind is refused
    assert_eq!(TrainConfig::from_toml("kinds = [\"ts\", \"path\"]").unwrap().kinds, ["ts", "path"]);
    for bad in ["kinds = [\"\"]", "kinds = [\"ts\", \"ts\"]"] {
        let e = TrainConfig::from_toml(bad).unwrap_err().to_string();
        assert!(e.contains("kinds"), "{e}");
    }
}

#[test]
fn a_spread_read_is_the_spread_of_the_whole_split() {
    // `hip train` reads only the samples it uses; they must be those train() would pick from the
    // whole split, in the same order, so a run (and its resume check) does not depend on which.
    let f = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../hip-core/tests/fixtures/smoke.h5");
    let all = load_split(&f, "train").unwrap();
    for max in [0, 1, 4, all.len() - 1, all.len(), all.len() + 3] {
        let part = hip_model::train::load_split_spread(&f, "train", max).unwrap();
        let want: Vec<_> = hip_model::train::spread_indices(all.len(), max).into_iter().map(|k| &all[k]).collect();
        assert_eq!(part.len(), want.len(), "max {max}");
        for (a, b) in part.iter().zip(want) {
            assert_eq!((a.index, &a.molecule_id, a.energy), (b.index, &b.molecule_id, b.energy), "max {max}");
        }
        // spreading the spread again takes it whole
        assert_eq!(hip_model::train::spread_indices(part.len(), max), (0..part.len()).collect::<Vec<_>>());
    }
}

#[test]
fn empty_evaluation_sets_are_errors() {
    let samples = data();
    let model = fresh(&samples);
    let cfg = TrainConfig::default();
    let e = hip_model::train::validate(&model, &[], &cfg).unwrap_err().to_string();
    assert!(e.contains("empty"), "{e}");
    let e = hip_model::eval::evaluate(&model, &[], hip_model::HessianMethod::Direct).unwrap_err().to_string();
    assert!(e.contains("empty"), "{e}");
    // training without validation samples reports NaN validation errors, not zeros
    let cfg = TrainConfig { epochs: 1, ..Default::default() };
    let (_, hist) = train(fresh(&samples), &samples[..4], &[], &cfg, &opts("empty.safetensors", 0)).unwrap();
    assert!(hist[0].val_energy_mae.is_nan() && hist[0].val_forces_mae.is_nan() && hist[0].val_hessian_mae.is_nan());
    // and the NaN history survives the checkpoint: resuming for a second epoch continues it
    let cfg2 = TrainConfig { epochs: 2, ..cfg.clone() };
    let (_, first) = train(fresh(&samples), &samples[..4], &[], &cfg2, &opts("empty-resume.safetensors", 1)).unwrap();
    let (_, hist2) = train(fresh(&samples), &samples[..4], &[], &cfg2, &opts("empty-resume.safetensors", 0)).unwrap();
    assert_eq!(hist2.len(), 2);
    // kept, not retrained: a retrained epoch would differ by milliseconds; JSON keeps the value to
    // within an ulp (serde_json's float parsing is not guaranteed bit-exact)
    let dt = (hist2[0].wall_s - first[0].wall_s).abs();
    assert!(dt < 1e-9 * first[0].wall_s.max(1.0), "the resumed run kept its first epoch (Δ {dt} s)");
    let e = train(fresh(&samples), &[], &samples[..2], &cfg, &opts("empty2.safetensors", 0)).unwrap_err().to_string();
    assert!(e.contains("training set is empty"), "{e}");
}

#[test]
fn load_expecting_checks_every_architecture_field() {
    let samples = data();
    let cfg = TrainConfig { epochs: 1, batch_size: 8, ..Default::default() };
    let (m, _) = train(fresh(&samples), &samples[..8], &samples[8..12], &cfg, &opts("arch.safetensors", 0)).unwrap();
    let base = m.config.clone();
    checkpoint::load_expecting(&tmp("arch.safetensors"), &base, &Device::Cpu).unwrap();
    // fitted fields may differ
    let fitted = ModelConfig { energy_scale: 3.0, hessian_scale: 7.0, seed: 99, ..base.clone() };
    checkpoint::load_expecting(&tmp("arch.safetensors"), &fitted, &Device::Cpu).unwrap();
    for (field, other) in [
        ("envelope_p", ModelConfig { envelope_p: base.envelope_p + 1, ..base.clone() }),
        ("head_pair_tp", ModelConfig { head_pair_tp: !base.head_pair_tp, ..base.clone() }),
        ("head_num_bessel", ModelConfig { head_num_bessel: 13, ..base.clone() }),
        ("diag_correction", ModelConfig { diag_correction: !base.diag_correction, ..base.clone() }),
        ("head_radial_hidden", ModelConfig { head_radial_hidden: 24, ..base.clone() }),
    ] {
        let e = checkpoint::load_expecting(&tmp("arch.safetensors"), &other, &Device::Cpu).unwrap_err().to_string();
        assert!(e.contains(field), "{field}: {e}");
    }
}

/// Run by `training_refuses_without_second_order` in a child process without the variable.
#[test]
#[ignore]
fn child_training_without_second_order() {
    let samples = data();
    let cfg = TrainConfig { epochs: 1, batch_size: 4, ..Default::default() };
    match train(fresh(&samples), &samples[..4], &samples[4..6], &cfg, &opts("child.safetensors", 0)) {
        Ok(_) => println!("CHILD-RESULT: trained"),
        Err(e) => println!("CHILD-RESULT: {e}"),
    }
}

#[test]
fn training_refuses_without_second_order() {
    // Without CANDLE_GRAD_DO_NOT_DETACH the force loss has a wrong (missing) parameter
    // gradient: train() must refuse rather than train silently without it.
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "child_training_without_second_order", "--nocapture"])
        .env_remove("CANDLE_GRAD_DO_NOT_DETACH")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("CHILD-RESULT: second-order autodiff is disabled"), "{text}");
}

fn v2_model(samples: &[hip_core::io::dataset::Sample]) -> HipModel {
    let mut cfg = ModelConfig {
        hidden_irreps: "8x0e+4x1o+2x1e+2x2e".into(),
        head_irreps: "4x0e+2x1o+2x1e+2x2e".into(),
        head_pair_tp: true,
        head_radial_scalars: true,
        head_num_bessel: 12,
        head_envelope: true,
        ..Default::default()
    };
    let (refs, scale, nn) = fit_statistics(samples, &cfg.species, cfg.cutoff).unwrap();
    cfg.reference_energies = refs;
    cfg.energy_scale = scale;
    cfg.avg_num_neighbors = nn;
    cfg.hessian_scale = hip_model::train::fit_hessian_scale(samples);
    HipModel::new(cfg, &Device::Cpu).unwrap()
}

#[test]
fn head_only_training_freezes_the_backbone_and_resumes_bitwise_with_ema() {
    let samples = data();
    let (train_set, val_set) = samples.split_at(16);
    let cfg = TrainConfig {
        epochs: 8,
        batch_size: 4,
        lr: 1e-2,
        w_energy: 0.0,
        w_forces: 0.0,
        w_subspace: 5.0,
        head_only: true,
        ema_decay: 0.9,
        ..Default::default()
    };
    let start = v2_model(&samples);
    let before = start.params.tensors();
    let (full, hist) = train(v2_model(&samples), train_set, val_set, &cfg, &opts("head.safetensors", 0)).unwrap();
    let after = full.params.tensors();
    let bits = |t: &candle_core::Tensor| -> Vec<u64> {
        t.flatten_all().unwrap().to_vec1::<f64>().unwrap().iter().map(|x| x.to_bits()).collect()
    };
    let mut head_changed = false;
    for (name, t) in &before {
        if name.starts_with("head.") {
            head_changed |= bits(t) != bits(&after[name]);
        } else {
            assert_eq!(bits(t), bits(&after[name]), "backbone parameter {name} changed");
        }
    }
    assert!(head_changed, "the head did not train");
    assert!(hist.last().unwrap().val_hessian_mae < hist[0].val_hessian_mae, "{hist:?}");
    assert!(hist[0].val_forces_mae.is_finite(), "head-only validation still reports the frozen F MAE");
    // interrupted and resumed: bitwise the same EMA weights
    let _ = train(v2_model(&samples), train_set, val_set, &cfg, &opts("head-part.safetensors", 3)).unwrap();
    let (resumed, _) = train(v2_model(&samples), train_set, val_set, &cfg, &opts("head-part.safetensors", 0)).unwrap();
    for (name, t) in &after {
        assert_eq!(bits(t), bits(&resumed.params.tensors()[name]), "parameter {name} differs after resume");
    }
}

#[test]
fn subspace_targets_are_vibrational_modes_of_the_projected_reference() {
    // U = the k lowest vibrational modes of the mass-weighted, Eckart-projected reference
    // (Cartesian displacements): no translation in them (Σ_i m_i U_i = 0 per axis), and
    // Uᵀ H_ref U = Λ. Raw Cartesian eigenvectors of H fail the first at a minimum. Tolerance
    // 1e-8 relative: eigen-solver round-off on f32-stored Hessians.
    let samples = data();
    for s in &samples {
        let Some(t) = hip_model::train::subspace_target(s, 8, &Device::Cpu).unwrap() else { continue };
        let u = t.modes.to_vec2::<f64>().unwrap();
        let lam = t.lambda.to_vec2::<f64>().unwrap();
        let k = lam.len();
        let masses = s.molecule.masses(hip_core::MassConvention::Iupac).unwrap();
        for c in 0..k {
            for a in 0..3 {
                let p: f64 = (0..s.molecule.len()).map(|i| masses[i] * u[3 * i + a][c]).sum();
                let norm: f64 = (0..u.len()).map(|r| masses[r / 3] * u[r][c] * u[r][c]).sum::<f64>().sqrt();
                assert!(p.abs() < 1e-8 * norm.max(1.0), "mode {c} translates along {a}: {p}");
            }
        }
        let d = u.len();
        let scale = lam.iter().enumerate().map(|(i, r)| r[i].abs()).fold(1.0, f64::max);
        for a in 0..k {
            for b in 0..k {
                let mut v = 0.0;
                for r in 0..d {
                    for c in 0..d {
                        v += u[r][a] * s.hessian.get(r, c) * u[c][b];
                    }
                }
                assert!((v - lam[a][b]).abs() < 1e-8 * scale, "UᵀHU ≠ Λ at ({a},{b}): {v} vs {}", lam[a][b]);
            }
        }
    }
}

/// The committed v2 campaign checkpoints resume under the current code: the training config
/// stored in each (written by the binary that started the run, perhaps before fields were
/// added to `TrainConfig`) equals its TOML as parsed today, which is what `train` checks.
#[test]
fn campaign_checkpoints_resume_with_their_configs() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models/v2");
    for (ck, toml) in [
        ("ef-baseline.safetensors", "train-ef.toml"),
        ("hip-e2e.safetensors", "train-hip-e2e.toml"),
        ("hip-head.safetensors", "train-hip-head.toml"),
        ("hip-head-ts.safetensors", "train-hip-head-ts.toml"),
        ("hip-e2e-prod.safetensors", "train-hip-e2e.toml"),
        ("ef-prod.safetensors", "train-ef.toml"),
    ] {
        let (ck, toml) = (dir.join(ck), dir.join(toml));
        if !ck.exists() {
            continue;
        }
        let bytes = std::fs::read(&ck).unwrap();
        let (_, meta) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
        let training: serde_json::Value =
            serde_json::from_str(&meta.metadata().as_ref().unwrap()[checkpoint::KEY_TRAINING]).unwrap();
        let saved: TrainConfig = serde_json::from_value(training["train_config"].clone()).unwrap();
        let mut now = TrainConfig::from_toml(&std::fs::read_to_string(&toml).unwrap()).unwrap();
        if training["train_config"]["w_hessian"] == 0.0 {
            (now.w_hessian, now.w_subspace) = (0.0, 0.0); // --ef-only
        }
        assert_eq!(saved, now, "{}", ck.display());
        assert!(!checkpoint::history_of_bytes(&bytes, "ck").unwrap().is_empty());
    }
}

#[test]
fn per_sample_rows_average_to_the_report() {
    let samples = data();
    let model = fresh(&samples);
    let pick: Vec<&hip_core::io::dataset::Sample> = samples.iter().take(5).collect();
    let r = hip_model::eval::evaluate(&model, &pick, hip_model::HessianMethod::Direct).unwrap();
    assert_eq!(r.samples.len(), pick.len());
    let n = pick.len() as f64;
    let mean = |f: fn(&hip_model::eval::SampleRow) -> f64| r.samples.iter().map(f).sum::<f64>() / n;
    // the report's means are over the same rows: equal to rounding (relative 1e-12)
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0);
    assert!(close(mean(|s| s.hessian.cos_v1), r.hessian.cos_v1));
    assert!(close(mean(|s| s.hessian.hessian_mae), r.hessian.hessian_mae));
    assert!(close(mean(|s| s.energy_ae_ev), r.energy_mae_ev));
    for (s, p) in r.samples.iter().zip(&pick) {
        assert_eq!((s.index, s.kind.as_str(), s.n_atoms), (p.index, p.kind.as_str(), p.molecule.len()));
        // λ₁ error of the row is the one its metrics report; the reference gap is ordered
        assert!(close((s.lambda1_pred - s.lambda1_ref).abs(), s.hessian.lambda1_mae));
        assert!(s.lambda2_ref >= s.lambda1_ref);
    }
    let mut buf = Vec::new();
    hip_model::eval::write_sample_table(&r.samples, &mut buf).unwrap();
    let text = String::from_utf8(buf).unwrap();
    assert_eq!(text.lines().count(), pick.len() + 1);
    assert!(text.lines().all(|l| l.split('\t').count() == 13));
}

#[test]
fn taylor_labels_follow_a_real_surface_to_second_order() {
    use hip_core::Potential;
    use hip_tasks::potentials::{Analytic, BondedForceField};
    use irreps::rotation::SplitMix64;
    // a bonded force field around a fixture molecule (bonds in Cartesian coordinates: not
    // quadratic), evaluated away from its minimum so that forces are not zero
    let base = data().swap_remove(0);
    let pot = Analytic(BondedForceField::new(&base.molecule).unwrap());
    let mut rng = SplitMix64(7);
    let x0: Vec<f64> = base.molecule.flat_positions().iter().map(|x| x + 0.05 * rng.normal()).collect();
    let m0 = base.molecule.with_flat_positions(&x0);
    let ef = pot.energy_forces(&m0).unwrap();
    let s = hip_core::io::dataset::Sample {
        molecule: m0.clone(),
        energy: ef.energy,
        forces: ef.forces.clone(),
        hessian: pot.hessian(&m0).unwrap(),
        ..base
    };
    let dir: Vec<f64> = (0..x0.len()).map(|_| rng.normal()).collect();
    let errors = |t: f64| {
        let delta: Vec<f64> = dir.iter().map(|d| t * d).collect();
        let moved = hip_model::train::taylor_displaced(&s, &delta).unwrap();
        let exact = pot.energy_forces(&moved.molecule).unwrap();
        let x1 = moved.molecule.flat_positions();
        assert!(x1.iter().zip(&x0).zip(&delta).all(|((a, b), d)| (a - b - d).abs() < 1e-12), "moved by δ");
        let flat = |f: &[[f64; 3]]| f.iter().flatten().copied().collect::<Vec<f64>>();
        let (fl, fe, f0) = (flat(&moved.forces), flat(&exact.forces), flat(&s.forces));
        let max_abs = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
        (max_abs(&fl, &fe), max_abs(&fe, &f0), (moved.energy - exact.energy).abs())
    };
    let (f1, change, e1) = errors(0.01);
    let (f2, _, e2) = errors(0.005);
    eprintln!("force error {f1:.3e} -> {f2:.3e} (force change {change:.3e}); energy error {e1:.3e} -> {e2:.3e}");
    // the expansion carries most of the force change; halving δ divides the force error by ~4
    // (second order; a sign error would leave it first order, ~2) and the energy error by ~8
    assert!(f1 < 0.1 * change, "force error {f1} against a change of {change}");
    assert!(f2 < 0.35 * f1, "force error not second order: {f1} -> {f2}");
    assert!(e2 < 0.2 * e1, "energy error not third order: {e1} -> {e2}");
    // wrong length is an error, not a panic
    assert!(hip_model::train::taylor_displaced(&s, &[0.0; 2]).is_err());
}

#[test]
fn taylor_augmentation_is_configurable_deterministic_and_changes_training() {
    let c = TrainConfig::from_toml("taylor_sigma = 0.02\ntaylor_fraction = 0.5").unwrap();
    assert_eq!((c.taylor_sigma, c.taylor_fraction), (0.02, 0.5));
    for (bad, key) in [
        ("taylor_sigma = 0.2", "taylor_sigma"),
        ("taylor_sigma = -0.01", "taylor_sigma"),
        ("taylor_fraction = 1.5", "taylor_fraction"),
        ("taylor_sigma = 0.02\nhead_only = true", "force loss"),
        ("taylor_sigma = 0.02\nw_forces = 0.0", "force loss"),
    ] {
        let e = TrainConfig::from_toml(bad).unwrap_err().to_string();
        assert!(e.contains(key), "{bad}: {e}");
    }
    let samples = data();
    let (train_set, val_set) = samples.split_at(8);
    let run = |name: &str, sigma: f64| {
        let cfg =
            TrainConfig { epochs: 1, batch_size: 4, taylor_sigma: sigma, taylor_fraction: 1.0, ..Default::default() };
        let (_, hist) = train(fresh(&samples), train_set, val_set, &cfg, &opts(name, 0)).unwrap();
        hist[0].train_loss
    };
    let (plain, a, b) =
        (run("taylor0.safetensors", 0.0), run("taylor1.safetensors", 0.02), run("taylor2.safetensors", 0.02));
    assert_eq!(a, b, "the displacements are deterministic in seed, epoch and visit");
    assert_ne!(a, plain, "displaced visits change what is trained on");
}

#[test]
fn curvature_loss_vanishes_for_the_models_own_curvature_and_trains() {
    use hip_model::HessianMethod;
    let samples = data();
    let model = fresh(&samples);
    let cfg = TrainConfig { w_curvature: 1.0, curvature_sigma: 0.01, ..Default::default() };
    let loss = |s: &hip_core::io::dataset::Sample| {
        hip_model::train::curvature_loss(&model, &[s], &cfg, 3).unwrap().to_scalar::<f64>().unwrap()
    };
    // against the reference Hessian the (untrained) model's curvature is wrong; against its own
    // autodiff Hessian the central difference agrees to O(δ²)
    let reference = samples[0].clone();
    let own = hip_core::io::dataset::Sample {
        hessian: model.hessian(&reference.molecule, HessianMethod::Autodiff).unwrap(),
        ..reference.clone()
    };
    let (l_ref, l_own) = (loss(&reference), loss(&own));
    eprintln!("curvature loss: reference {l_ref:.4e}, own autodiff Hessian {l_own:.4e}");
    assert!(l_ref > 1e-3 && l_own < 1e-2 * l_ref, "{l_own} vs {l_ref}");
    // config checks, and a training run with it changes the optimization
    for (bad, key) in [
        ("curvature_sigma = 0.0", "curvature_sigma"),
        ("curvature_sigma = 0.5", "curvature_sigma"),
        ("w_curvature = -1.0", "w_curvature"),
        ("w_curvature = 1.0\nhead_only = true", "force path"),
    ] {
        let e = TrainConfig::from_toml(bad).unwrap_err().to_string();
        assert!(e.contains(key), "{bad}: {e}");
    }
    let (train_set, val_set) = samples.split_at(8);
    let run = |name: &str, w: f64| {
        let cfg =
            TrainConfig { epochs: 1, batch_size: 4, w_curvature: w, curvature_per_batch: 2, ..Default::default() };
        let (m, hist) = train(fresh(&samples), train_set, val_set, &cfg, &opts(name, 0)).unwrap();
        (m.params.tensors(), hist[0].train_loss)
    };
    let ((plain, _), (curv, l)) = (run("curv0.safetensors", 0.0), run("curv1.safetensors", 1.0));
    assert!(l.is_finite());
    let differs = plain.iter().any(|(k, t)| {
        let (a, b) = (
            t.flatten_all().unwrap().to_vec1::<f64>().unwrap(),
            curv[k].flatten_all().unwrap().to_vec1::<f64>().unwrap(),
        );
        a != b
    });
    assert!(differs, "the curvature loss must reach the weights");
}

#[test]
fn mode_curvature_loss_is_the_mean_rayleigh_quotient_error_of_the_low_modes() {
    // With only w_modes on, the validation total of one sample is mean_i |u_iᵀ H u_i − λ_i| over
    // its subspace target's k modes (each divided by |λ_i| + floor with modes_floor > 0), H the
    // model's direct Hessian: recomputed here by hand. Tolerance 1e-9 relative: the same f64
    // arithmetic in another order.
    use hip_model::HessianMethod;
    let samples = data();
    let model = fresh(&samples);
    for floor in [0.0, 0.05] {
        let cfg = TrainConfig {
            w_energy: 0.0,
            w_forces: 0.0,
            w_hessian: 0.0,
            w_modes: 1.0,
            modes_floor: floor,
            subspace_k: 5,
            batch_size: 1,
            ..Default::default()
        };
        for s in samples.iter().take(4) {
            let t = hip_model::train::subspace_target(s, cfg.subspace_k, &Device::Cpu).unwrap().unwrap();
            let u = t.modes.to_vec2::<f64>().unwrap();
            let lam = t.lambda.to_vec2::<f64>().unwrap();
            let h = model.hessian(&s.molecule, HessianMethod::Direct).unwrap();
            let d = h.dim();
            let k = lam.len();
            let want = (0..k)
                .map(|i| {
                    let q: f64 = (0..d)
                        .flat_map(|r| (0..d).map(move |c| (r, c)))
                        .map(|(r, c)| u[r][i] * h.get(r, c) * u[c][i])
                        .sum();
                    let scale = if floor > 0.0 { lam[i][i].abs() + floor } else { 1.0 };
                    (q - lam[i][i]).abs() / scale
                })
                .sum::<f64>()
                / k as f64;
            let got = hip_model::train::validate(&model, &[s], &cfg).unwrap().total;
            assert!((got - want).abs() <= 1e-9 * want.abs().max(1e-12), "floor {floor}: {got} vs {want}");
        }
    }
    for bad in ["w_modes = -1.0", "modes_floor = -0.1"] {
        let key = bad.split(' ').next().unwrap();
        assert!(TrainConfig::from_toml(bad).unwrap_err().to_string().contains(key), "{bad}");
    }
}

#[test]
fn squared_hessian_loss_is_the_papers_mse_on_entries_and_subspace() {
    // hessian_loss = "squared": the validation total of one sample is
    // w_H · mean (H − H_ref)² + w_sub · mean (UᵀHU − Λ)², recomputed here by hand (the paper's
    // 0.1 : 1.0); `subspace_loss` changes the subspace term's norm alone (L1 entries beside a
    // squared subspace, and the reverse). Tolerance 1e-9 relative: the same f64 arithmetic in
    // another order.
    use hip_model::HessianMethod;
    use hip_model::train::HessianLoss::{self, L1, Squared};
    let samples = data();
    let model = fresh(&samples);
    let norm = |kind: HessianLoss, errs: &[f64]| -> f64 {
        let p = if kind == Squared { 2 } else { 1 };
        errs.iter().map(|e| e.abs().powi(p)).sum::<f64>() / errs.len() as f64
    };
    for (entries_kind, subspace_kind) in [(Squared, None), (L1, Some(Squared)), (Squared, Some(L1))] {
        let cfg = TrainConfig {
            w_energy: 0.0,
            w_forces: 0.0,
            w_hessian: 0.1,
            w_subspace: 1.0,
            hessian_loss: entries_kind,
            subspace_loss: subspace_kind,
            subspace_k: 5,
            batch_size: 1,
            ..Default::default()
        };
        for s in samples.iter().take(4) {
            let t = hip_model::train::subspace_target(s, cfg.subspace_k, &Device::Cpu).unwrap().unwrap();
            let (u, lam) = (t.modes.to_vec2::<f64>().unwrap(), t.lambda.to_vec2::<f64>().unwrap());
            let h = model.hessian(&s.molecule, HessianMethod::Direct).unwrap();
            let (d, k) = (h.dim(), lam.len());
            let entry_errs: Vec<f64> = (0..d * d).map(|i| h.as_slice()[i] - s.hessian.as_slice()[i]).collect();
            let mut sub_errs = Vec::with_capacity(k * k);
            for i in 0..k {
                for j in 0..k {
                    let q: f64 = (0..d)
                        .flat_map(|r| (0..d).map(move |c| (r, c)))
                        .map(|(r, c)| u[r][i] * h.get(r, c) * u[c][j])
                        .sum();
                    sub_errs.push(q - lam[i][j]);
                }
            }
            let want = 0.1 * norm(entries_kind, &entry_errs) + norm(subspace_kind.unwrap_or(entries_kind), &sub_errs);
            let got = hip_model::train::validate(&model, &[s], &cfg).unwrap().total;
            assert!(
                (got - want).abs() <= 1e-9 * want.abs().max(1e-12),
                "{entries_kind:?}/{subspace_kind:?}: {got} vs {want}"
            );
        }
    }
    assert_eq!(TrainConfig::from_toml("hessian_loss = \"squared\"").unwrap().hessian_loss, Squared);
    assert_eq!(TrainConfig::from_toml("subspace_loss = \"squared\"").unwrap().subspace_loss, Some(Squared));
    assert_eq!(TrainConfig::from_toml("").unwrap().subspace_loss, None);
    assert!(TrainConfig::from_toml("hessian_loss = \"cubic\"").unwrap_err().to_string().contains("hessian_loss"));
    assert!(TrainConfig::from_toml("subspace_loss = \"cubic\"").unwrap_err().to_string().contains("subspace_loss"));
}

#[test]
fn consistency_targets_are_the_backbones_hessian_vector_products_and_the_loss_uses_them() {
    // T = −ΔF/2ε along unit directions U is H_autodiff·U up to O(ε²) (ε = 1e-3 Å here: a few
    // 1e-6 relative for this smooth random model; tolerance 1e-4 relative to max |T|); and with
    // only w_consistency on, the validation total is mean |H_direct U − T|.
    use hip_model::HessianMethod;
    let samples = data();
    let model = v2_model(&samples);
    let cfg = TrainConfig {
        head_only: true,
        w_energy: 0.0,
        w_forces: 0.0,
        w_hessian: 0.0,
        w_consistency: 1.0,
        consistency_eps: 1e-3,
        consistency_random: 2,
        subspace_k: 4,
        batch_size: 1,
        ..Default::default()
    };
    for (i, s) in samples.iter().take(3).enumerate() {
        let (u, t) = hip_model::train::consistency_target(&model, s, &cfg, i as u64).unwrap().unwrap();
        let (u, t) = (u.to_vec2::<f64>().unwrap(), t.to_vec2::<f64>().unwrap());
        let m = u[0].len();
        assert_eq!(m, 4 + 2);
        let had = model.hessian(&s.molecule, HessianMethod::Autodiff).unwrap();
        let hd = model.hessian(&s.molecule, HessianMethod::Direct).unwrap();
        let d = had.dim();
        let scale = t.iter().flatten().fold(0.0f64, |a, x| a.max(x.abs()));
        let mut l1 = 0.0;
        for j in 0..m {
            let norm: f64 = (0..d).map(|r| u[r][j] * u[r][j]).sum::<f64>().sqrt();
            assert!((norm - 1.0).abs() < 1e-12);
            for r in 0..d {
                let hu: f64 = (0..d).map(|c| had.get(r, c) * u[c][j]).sum();
                assert!((hu - t[r][j]).abs() < 1e-4 * scale, "sample {i}, dir {j}, row {r}: {hu} vs {}", t[r][j]);
                let du: f64 = (0..d).map(|c| hd.get(r, c) * u[c][j]).sum();
                l1 += (du - t[r][j]).abs();
            }
        }
        // without random directions the targets do not depend on the seed: the validation total
        // is exactly the mean |H_direct U − T| over the modes (1e-9 relative: same arithmetic)
        let modes_only = TrainConfig { consistency_random: 0, ..cfg.clone() };
        let (u0, t0) = hip_model::train::consistency_target(&model, s, &modes_only, 0).unwrap().unwrap();
        let (u0, t0) = (u0.to_vec2::<f64>().unwrap(), t0.to_vec2::<f64>().unwrap());
        let want = (0..4)
            .flat_map(|j| (0..d).map(move |r| (r, j)))
            .map(|(r, j)| ((0..d).map(|c| hd.get(r, c) * u0[c][j]).sum::<f64>() - t0[r][j]).abs())
            .sum::<f64>()
            / (4 * d) as f64;
        let got = hip_model::train::validate(&model, &[s], &modes_only).unwrap().total;
        assert!((got - want).abs() <= 1e-9 * want, "{got} vs {want}");
        assert!(l1 > 0.0);
    }
    assert!(TrainConfig::from_toml("w_consistency = 1.0").unwrap_err().to_string().contains("head_only"));
}

fn weights(name: &str) -> Vec<(String, Vec<u64>)> {
    let m = checkpoint::load(&tmp(name), &Device::Cpu).unwrap().model;
    m.params
        .tensors()
        .into_iter()
        .map(|(k, t)| (k, t.flatten_all().unwrap().to_vec1::<f64>().unwrap().iter().map(|x| x.to_bits()).collect()))
        .collect()
}

#[test]
fn block_shuffled_orders_are_seeded_permutations_that_keep_neighbours_in_a_window() {
    use hip_model::train::stream::{BLOCK, block_shuffled};
    let pool: Vec<usize> = (0..1000).flat_map(|i| std::iter::repeat_n(i, 1 + i % 2)).collect();
    let window = 4 * BLOCK;
    let a = block_shuffled(&pool, 7, 3, window);
    let mut sorted = a.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, pool, "every entry once");
    assert_eq!(a, block_shuffled(&pool, 7, 3, window), "a function of (seed, epoch)");
    assert_ne!(a, block_shuffled(&pool, 7, 4, window));
    assert_ne!(a, pool, "shuffled");
    // each window holds whole blocks of the pool: at most window / BLOCK runs of neighbours
    for w in a.chunks(window) {
        let mut s = w.to_vec();
        s.sort_unstable();
        let runs = 1 + s.windows(2).filter(|p| p[1] > p[0] + 1).count();
        assert!(runs <= window / BLOCK, "{runs} runs in a window");
    }
}

#[test]
fn streaming_trains_on_the_files_samples_and_resumes_bitwise() {
    use hip_model::train::stream::StreamSource;
    let f = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../hip-core/tests/fixtures/smoke.h5");
    let in_memory = load_split(&f, "train").unwrap();
    let val = load_split(&f, "test").unwrap(); // the fixture has no val split
    let cfg = TrainConfig { epochs: 3, batch_size: 4, lr: 1e-2, ..Default::default() };
    let src = StreamSource::open(&f, &cfg).unwrap();
    assert_eq!(src.len(), in_memory.len());
    for k in 0..src.len() {
        let s = src.read(k).unwrap();
        assert_eq!((s.kind.as_str(), &s.molecule.positions), (src.kind(k), &in_memory[k].molecule.positions));
    }
    let model = || fresh(&in_memory);
    hip_model::train::train_streaming(model(), &src, &val, &cfg, &opts("stream-full.safetensors", 0)).unwrap();
    let t = training_json("stream-full.safetensors");
    assert_eq!((t["n_train"].as_u64(), t["epoch_samples"].as_u64()), (Some(src.len() as u64), Some(src.len() as u64)));
    let h = t["history"].as_array().unwrap();
    assert_eq!(h.len(), 3);
    assert!(h.iter().all(|e| e["val_hessian_mae"].as_f64().is_some_and(f64::is_finite)));
    // each epoch records the samples it visited and the process's peak memory
    assert!(h.iter().all(|e| e["samples"].as_u64() == Some(src.len() as u64)), "{h:?}");
    assert!(h.iter().all(|e| e["peak_rss_mib"].as_f64().is_some_and(|m| m > 0.0)), "{h:?}");
    // interrupted after one epoch and resumed: bitwise the same weights
    for _ in 0..3 {
        hip_model::train::train_streaming(model(), &src, &val, &cfg, &opts("stream-resumed.safetensors", 1)).unwrap();
    }
    assert_eq!(weights("stream-full.safetensors"), weights("stream-resumed.safetensors"));
    // the kinds filter and max_train select as in memory
    let kind = in_memory[0].kind.clone();
    let sel = TrainConfig { kinds: vec![kind.clone()], max_train: 2, ..cfg.clone() };
    let s = StreamSource::open(&f, &sel).unwrap();
    let want = hip_model::train::training_indices(&in_memory, &sel);
    assert_eq!(s.len(), want.len());
    for (k, &i) in want.iter().enumerate() {
        assert_eq!(s.read(k).unwrap().molecule.positions, in_memory[i].molecule.positions);
    }
}

/// A fine-tune at another level of theory: labels that are the model's own energies plus
/// per-species constants (what separates two levels' total energies) are fitted exactly by
/// `fit_reference_shift`, and the shifted model's energies move by exactly `Σ_s n_s δ_s`.
/// Tolerance 1e-6 eV relative to the keV-sized shifts: normal equations of 4 unknowns over the
/// fixture's compositions in f64 (conditioning ~1e4) leave far less than that.
#[test]
fn a_reference_energy_shift_to_another_level_is_fitted_and_applied_exactly() {
    let samples = data();
    let model = fresh(&samples);
    let delta = [-13.6 * 37.0, -1029.8, -1486.1, -2041.6]; // eV, per species (H, C, N, O)
    assert_eq!(model.config.species, vec![1, 6, 7, 8]);
    let energies = |m: &HipModel| -> Vec<f64> {
        let mols: Vec<&hip_core::Molecule> = samples.iter().map(|s| &s.molecule).collect();
        let batch = hip_model::graph::Batch::new(&mols, &m.config, m.device()).unwrap();
        m.forward(&batch, &batch.positions, false).unwrap().energies.to_vec1().unwrap()
    };
    let level_shift = |s: &hip_core::io::dataset::Sample| -> f64 {
        s.molecule.numbers.iter().map(|&z| delta[species_index(z)]).sum()
    };
    let before = energies(&model);
    let mut relabelled = samples.clone();
    for (s, e) in relabelled.iter_mut().zip(&before) {
        s.energy = e + level_shift(s);
    }
    let shift = hip_model::train::fit_reference_shift(&model, &relabelled).unwrap();
    for (k, (d, want)) in shift.iter().zip(delta).enumerate() {
        let present = samples.iter().any(|s| s.molecule.numbers.contains(&model.config.species[k]));
        // a species absent from the samples (the fixture has no N) is not shifted
        let want = if present { want } else { 0.0 };
        assert!((d - want).abs() <= 1e-6 * delta[k].abs(), "shift {shift:?}, want {delta:?} where present");
    }
    let refs: Vec<f64> = model.config.reference_energies.iter().zip(&shift).map(|(r, d)| r + d).collect();
    let shifted = model.with_reference_energies(refs).unwrap();
    for ((s, a), b) in relabelled.iter().zip(&before).zip(energies(&shifted)) {
        let want = a + level_shift(s);
        assert!((b - want).abs() <= 1e-6 * want.abs(), "{b} vs {want}");
    }
    // the weights are untouched
    assert_eq!(model.params.tensors().len(), shifted.params.tensors().len());
}

fn species_index(z: u8) -> usize {
    [1u8, 6, 7, 8].iter().position(|&x| x == z).unwrap()
}
