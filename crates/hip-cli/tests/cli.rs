//! End-to-end tests of the `hip` binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use hip_core::io::matrix::{write_npy, write_text};
use hip_core::io::xyz::write_xyz;
use hip_core::{Hessian, Molecule};
use serde_json::Value;

fn hip(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hip")).args(args).output().expect("run hip")
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hip-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn fixture() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../hip-core/tests/fixtures/smoke.h5").display().to_string()
}

/// One line on stderr, non-zero exit, no panic.
#[track_caller]
fn assert_clean_failure(out: &Output, must_contain: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "should fail: {err}");
    assert!(!err.contains("panicked"), "panicked: {err}");
    let lines: Vec<&str> =
        err.lines().filter(|l| !l.trim().is_empty() && !l.starts_with("HDF5") && !l.starts_with("  ")).collect();
    assert_eq!(lines.len(), 1, "expected one error line, got: {err}");
    assert!(lines[0].starts_with("error: ") && lines[0].contains(must_contain), "{err}");
}

fn qm_files() -> Vec<PathBuf> {
    let dir = std::env::var_os("QM_REFERENCE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/qm"));
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "h5"))
        .collect();
    v.sort();
    v
}

#[test]
fn freq_with_hessian_reproduces_the_qm_reference() {
    let mut n = 0;
    for path in qm_files() {
        let file = hdf5::File::open(&path).unwrap();
        for name in file.member_names().unwrap() {
            let g = file.group(&name).unwrap();
            let read = |d: &str| g.dataset(d).unwrap().read_raw::<f64>().unwrap();
            let z: Vec<u8> =
                g.dataset("atomic_numbers").unwrap().read_raw::<i64>().unwrap().iter().map(|&z| z as u8).collect();
            let pos = read("positions");
            let mol = Molecule::new(z, pos.chunks(3).map(|c| [c[0], c[1], c[2]]).collect()).unwrap();
            let xyz = tmp(&format!("{name}.xyz"));
            write_xyz(&xyz, &mol, &name).unwrap();
            let d = 3 * mol.len();
            // alternate between .npy and text to exercise both readers
            let h = if n % 2 == 0 { tmp(&format!("{name}.npy")) } else { tmp(&format!("{name}.txt")) };
            if n % 2 == 0 {
                write_npy(&h, d, d, &read("hessian")).unwrap()
            } else {
                write_text(&h, d, d, &read("hessian")).unwrap()
            }
            let out = hip(&["freq", xyz.to_str().unwrap(), "--hessian", h.to_str().unwrap(), "--json"]);
            assert!(out.status.success(), "{name}: {}", String::from_utf8_lossy(&out.stderr));
            let v: Value = serde_json::from_slice(&out.stdout).unwrap();
            let got: Vec<f64> = v["frequencies_cm"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
            let want = read("frequencies_cm");
            assert_eq!(got.len(), want.len(), "{name}");
            for (a, b) in got.iter().zip(&want) {
                if b.abs() > 50.0 {
                    // XYZ keeps 10 decimals (1e-10 Å): far below the 0.1 cm⁻¹ tolerance
                    assert!((a - b).abs() <= 0.1, "{name}: {a} vs {b}");
                }
            }
            assert!((v["zpe_ev"].as_f64().unwrap() - read("zpe")[0]).abs() <= 1e-5, "{name}");
            let masses: Vec<f64> = v["masses_amu"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
            assert_eq!(masses, read("masses"), "{name}: default masses are IUPAC, as the reference");
            let kind = g.attr("kind").unwrap().read_scalar::<hdf5::types::VarLenUnicode>().unwrap().to_string();
            let expected = match kind.as_str() {
                "minimum" => Some("minimum"),
                "transition_state" => Some("transition_state"),
                _ => None,
            };
            if let Some(c) = expected {
                assert_eq!(v["classification"], c, "{name}");
            }
            n += 1;
        }
    }
    assert!(n > 0);
}

#[test]
fn freq_on_a_dataset_sample_and_mass_conventions() {
    let spec = format!("{}:0", fixture());
    let out = hip(&["freq", &spec, "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in ["frequencies_cm", "n_imaginary", "zpe_ev", "classification", "masses_amu"] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    let paper: Value = serde_json::from_slice(&hip(&["freq", &spec, "--json", "--masses", "paper"]).stdout).unwrap();
    for m in paper["masses_amu"].as_array().unwrap() {
        assert!([1.00794, 12.0107, 14.0067, 15.9994].contains(&m.as_f64().unwrap()), "{m} is not a paper mass");
    }
    let human = hip(&["freq", &spec]);
    assert!(String::from_utf8_lossy(&human.stdout).contains("classification"));
}

/// `hip data info F | head -1`: the reader closes the pipe after the first line; the command
/// must end without a panic message (exit status 141, the shell's for SIGPIPE) however many
/// lines it had left.
#[test]
fn closed_stdout_ends_quietly() {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_hip"))
        .args(["data", "info", &fixture()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run hip");
    drop(child.stdout.take());
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    let status = child.wait().unwrap();
    assert!(!err.contains("panicked"), "panicked: {err}");
    assert!(status.success() || status.code() == Some(141), "{status:?}: {err}");
}

#[test]
fn data_info_and_check() {
    let out = hip(&["data", "info", &fixture(), "--json"]);
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["level_of_theory"], "GFN2-xTB");
    assert!(v["n_samples"].as_u64().unwrap() > 0);
    assert!(v["n_molecules"].as_u64().unwrap() > 0);
    assert!(v["by_split"].is_object() && v["by_kind"].is_object());
    let total: u64 = v["by_split"].as_object().unwrap().values().map(|x| x.as_u64().unwrap()).sum();
    assert_eq!(total, v["n_samples"].as_u64().unwrap());
    assert!(hip(&["data", "check", &fixture()]).status.success());
    let bad = tmp("bad.h5");
    std::fs::write(&bad, b"not hdf5 at all").unwrap();
    assert_clean_failure(&hip(&["data", "check", bad.to_str().unwrap()]), "bad.h5");
}

fn water(path: &Path) {
    std::fs::write(path, "3\nwater\nO 0 0 0.1173\nH 0 0.7572 -0.4692\nH 0 -0.7572 -0.4692\n").unwrap();
}

#[test]
fn bad_input_gives_one_line_and_nonzero_exit() {
    let good = tmp("w.xyz");
    water(&good);
    let h = tmp("w.npy");
    write_npy(&h, 9, 9, Hessian::zeros(3).as_slice()).unwrap();
    assert_clean_failure(
        &hip(&["freq", "/nonexistent/mol.xyz", "--hessian", h.to_str().unwrap()]),
        "/nonexistent/mol.xyz",
    );
    let malformed = tmp("malformed.xyz");
    std::fs::write(&malformed, "3\nc\nO 0 0\n").unwrap();
    assert_clean_failure(
        &hip(&["freq", malformed.to_str().unwrap(), "--hessian", h.to_str().unwrap()]),
        "malformed.xyz:3",
    );
    let unknown = tmp("unknown.xyz");
    std::fs::write(&unknown, "1\nc\nXq 0 0 0\n").unwrap();
    assert_clean_failure(
        &hip(&["freq", unknown.to_str().unwrap(), "--hessian", h.to_str().unwrap()]),
        "unknown element",
    );
    let wrong = tmp("wrong.npy");
    write_npy(&wrong, 6, 6, &[0.0; 36]).unwrap();
    assert_clean_failure(
        &hip(&["freq", good.to_str().unwrap(), "--hessian", wrong.to_str().unwrap()]),
        "expected (9, 9)",
    );
    let nan = tmp("nan.txt");
    let mut vals = vec![0.0; 81];
    vals[10] = f64::NAN;
    write_text(&nan, 9, 9, &vals).unwrap();
    assert_clean_failure(&hip(&["freq", good.to_str().unwrap(), "--hessian", nan.to_str().unwrap()]), "not finite");
    assert_clean_failure(
        &hip(&["freq", good.to_str().unwrap(), "--model", "/nonexistent/model.safetensors"]),
        "/nonexistent/model.safetensors",
    );
    assert_clean_failure(
        &hip(&["freq", good.to_str().unwrap(), "--hessian", h.to_str().unwrap(), "--masses", "heavy"]),
        "mass convention",
    );
    assert_clean_failure(&hip(&["freq", &format!("{}:999", fixture())]), "sample 999");
}

/// Trains a tiny model on the committed fixture (1 epoch, seconds) for the model commands.
fn tiny_model() -> PathBuf {
    let out = tmp("tiny.safetensors");
    if !out.exists() {
        let cfg = tmp("tiny-train.toml");
        std::fs::write(&cfg, "epochs = 1\nbatch_size = 4\n").unwrap();
        let mcfg = tmp("tiny-model.toml");
        let m = hip_model::ModelConfig {
            hidden_irreps: "8x0e+4x1o+2x1e+2x2e".into(),
            head_irreps: "4x0e+2x1e+2x2e".into(),
            ..Default::default()
        };
        std::fs::write(&mcfg, m.to_toml()).unwrap();
        let o = hip(&[
            "train",
            "--data",
            &fixture(),
            "--config",
            cfg.to_str().unwrap(),
            "--model-config",
            mcfg.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    out
}

#[test]
fn model_commands_end_to_end() {
    let model = tiny_model();
    let m = model.to_str().unwrap();
    let w = tmp("w2.xyz");
    water(&w);
    let ws = w.to_str().unwrap();
    // hessian: each method, each output format
    for (method, ext) in [("direct", "npy"), ("autodiff", "txt"), ("fd", "h5")] {
        let out = tmp(&format!("h-{method}.{ext}"));
        let o = hip(&["hessian", ws, "--model", m, "--method", method, "-o", out.to_str().unwrap(), "--json"]);
        assert!(o.status.success(), "{method}: {}", String::from_utf8_lossy(&o.stderr));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["hessian_ev_a2"].as_array().unwrap().len(), 81);
        if method == "direct" {
            assert_eq!(v["max_asymmetry"].as_f64().unwrap(), 0.0);
        }
        assert!(out.exists());
    }
    // the .txt and .npy outputs feed back into freq --hessian
    let o = hip(&["freq", ws, "--hessian", tmp("h-direct.npy").to_str().unwrap(), "--json"]);
    assert!(o.status.success());
    let o = hip(&["data", "check", tmp("h-fd.h5").to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // freq with the model
    let o = hip(&["freq", ws, "--model", m, "--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["frequencies_cm"].as_array().unwrap().len(), 3);
    // opt with each optimizer, ts, eval
    for opt in ["rfo", "bfgs", "fire"] {
        let out = tmp(&format!("opt-{opt}.xyz"));
        let o = hip(&[
            "opt",
            ws,
            "--model",
            m,
            "--optimizer",
            opt,
            "--max-steps",
            "5",
            "-o",
            out.to_str().unwrap(),
            "--json",
        ]);
        assert!(o.status.success(), "{opt}: {}", String::from_utf8_lossy(&o.stderr));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert!(v["steps"].as_u64().unwrap() <= 5 && v.get("converged").is_some());
        assert!(out.exists());
    }
    let o = hip(&["ts", ws, "--model", m, "--max-steps", "3", "--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["final_point"]["n_imaginary"].as_u64().is_some());
    let o = hip(&["ts", ws, "--model", m, "--max-steps", "3", "--secant", "--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["method"].as_str().unwrap().contains("secant"), "{v}");
    // probes cost two gradient calls each, on top of one per step
    let o = hip(&["ts", ws, "--model", m, "--max-steps", "3", "--mode-probes", "2", "--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["method"].as_str().unwrap().contains("mode_probes=2"), "{v}");
    let (calls, steps) = (v["energy_calls"].as_u64().unwrap(), v["steps"].as_u64().unwrap());
    assert!(steps == 0 || calls > steps + 1, "probes must call the gradient: {v}");
    let table = tmp("per-sample.tsv");
    let o = hip(&[
        "eval",
        "--data",
        &fixture(),
        "--split",
        "test",
        "--model",
        m,
        "--max",
        "3",
        "--json",
        "--per-sample",
        table.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    // --per-sample: a header and one row per evaluated sample, the samples of the JSON report
    let text = std::fs::read_to_string(&table).unwrap();
    let n = v["n_samples"].as_u64().unwrap() as usize;
    assert_eq!(text.lines().count(), n + 1, "{text}");
    assert_eq!(v["samples"].as_array().unwrap().len(), n);
    assert!(text.starts_with("index\tmolecule\tkind"));
    for key in [
        "hessian_mae",
        "asymmetry",
        "eigenvalue_mae",
        "cos_v1",
        "lambda1_mae",
        "neg_count_agreement",
        "ts_agreement",
        "zpe_error_ev",
    ] {
        assert!(v["hessian"].get(key).is_some(), "missing {key}");
    }
    // bad model file and bad method are one-line errors
    let bad = tmp("bad.safetensors");
    std::fs::write(&bad, b"nope").unwrap();
    assert_clean_failure(&hip(&["hessian", ws, "--model", bad.to_str().unwrap()]), "bad.safetensors");
    assert_clean_failure(&hip(&["hessian", ws, "--model", m, "--method", "magic"]), "unknown Hessian method");
}

fn example(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/reaction").join(name).display().to_string()
}

#[test]
fn reaction_pipeline_runs_end_to_end_and_writes_its_outputs() {
    let dir = tmp("rx");
    let out = hip(&["reaction", &example("hcn.xyz"), &example("hnc.xyz"), "-o", dir.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in ["neb", "ts", "ts_success", "intended", "criteria", "warnings"] {
        assert!(v.get(key).is_some(), "summary has no {key}: {v}");
    }
    for f in ["band.xyz", "ts.xyz", "profile.png", "profile.svg", "summary.json"] {
        assert!(dir.join(f).exists(), "{f} missing");
    }
    // the band file holds every image of the NEB (10 by default)
    let band = hip_core::io::xyz::read_xyz_frames(&dir.join("band.xyz")).unwrap();
    assert_eq!(band.len(), v["neb"]["energies"].as_array().unwrap().len());
    assert_eq!(band.len(), 10);
    // the TS search of the pipeline takes the mode probes
    let out = hip(&[
        "reaction",
        &example("hcn.xyz"),
        &example("hnc.xyz"),
        "-o",
        tmp("rx-probes").to_str().unwrap(),
        "--mode-probes",
        "4",
        "--json",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["ts"].to_string().contains("mode_probes=4"), "{}", v["ts"]);
    // reactant and product with other atom orders are one clear error
    let swapped = tmp("nch.xyz");
    let hcn = hip_core::io::xyz::read_xyz(Path::new(&example("hcn.xyz"))).unwrap();
    let mol = Molecule::new(vec![hcn.numbers[1], hcn.numbers[0], hcn.numbers[2]], hcn.positions.clone()).unwrap();
    write_xyz(&swapped, &mol, "swapped").unwrap();
    let out = hip(&["reaction", &example("hcn.xyz"), swapped.to_str().unwrap(), "-o", dir.to_str().unwrap()]);
    assert_clean_failure(&out, "permutation");
    // an empty evaluation is an error, not a perfect score
    assert_clean_failure(&hip(&["eval", "--data", &fixture(), "--split", "test", "--max", "0"]), "empty");
    // hip irc from a point that is not a saddle is a clear error
    let out = hip(&["irc", &example("hcn.xyz"), "-o", tmp("irc.xyz").to_str().unwrap()]);
    assert_clean_failure(&out, "not a saddle point");
}

#[test]
fn reaction_inputs_with_the_wrong_frames_or_atoms_are_one_clear_error_each() {
    let hcn = std::fs::read_to_string(example("hcn.xyz")).unwrap();
    let hnc = std::fs::read_to_string(example("hnc.xyz")).unwrap();
    let out = tmp("rx-bad");
    let o = out.to_str().unwrap();
    // one file with both frames is a reaction; with one or three frames it is an error naming the count
    let two = tmp("two.xyz");
    std::fs::write(&two, hcn.clone() + &hnc).unwrap();
    let ok = hip(&["reaction", two.to_str().unwrap(), "-o", o, "--json"]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    for (k, text) in [(1, hcn.clone()), (3, hcn.clone() + &hnc + &hnc)] {
        let f = tmp(&format!("frames{k}.xyz"));
        std::fs::write(&f, text).unwrap();
        assert_clean_failure(&hip(&["reaction", f.to_str().unwrap(), "-o", o]), &format!("{k} frame(s)"));
    }
    // identical ends, different atom counts, different elements
    assert_clean_failure(&hip(&["reaction", &example("hcn.xyz"), &example("hcn.xyz"), "-o", o]), "same geometry");
    let w = tmp("w-rx.xyz");
    water(&w);
    assert_clean_failure(&hip(&["reaction", &example("hcn.xyz"), w.to_str().unwrap(), "-o", o]), "different elements");
    let two_atoms = tmp("cn.xyz");
    std::fs::write(&two_atoms, "2\nCN\nC 0 0 0\nN 0 0 1.17\n").unwrap();
    assert_clean_failure(
        &hip(&["reaction", &example("hcn.xyz"), two_atoms.to_str().unwrap(), "-o", o]),
        "3 atoms, product 2",
    );
}

#[test]
fn potential_gfn2_is_refused_with_model_flags_and_unknown_potentials_are_errors() {
    let w = tmp("w-pot.xyz");
    water(&w);
    let ws = w.to_str().unwrap();
    assert_clean_failure(&hip(&["hessian", ws, "--potential", "dftb"]), "unknown (model, gfn2)");
    assert_clean_failure(&hip(&["hessian", ws, "--potential", "gfn2", "--method", "autodiff"]), "--method applies");
    if hip_xtb::available().is_err() {
        eprintln!("skipped the GFN2-xTB run: tblite not found (./scripts/setup.sh installs it)");
        return;
    }
    // the CLI's GFN2-xTB Hessian is the library's, and the freq command runs on it
    let out = hip(&["hessian", ws, "--potential", "gfn2", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mol = hip_core::io::xyz::read_xyz(&w).unwrap();
    let (ef, h) = hip_xtb::Gfn2::default().energy_forces_hessian(&mol).unwrap();
    // same library, same input, one thread: equal up to the JSON round trip (serde_json's parser
    // without `float_roundtrip` may be off by one ulp)
    let near = |a: f64, b: f64| (a - b).abs() <= 1e-14 * b.abs().max(1.0);
    assert!(near(v["energy_ev"].as_f64().unwrap(), ef.energy));
    let hv: Vec<f64> = v["hessian_ev_a2"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
    assert!(hv.len() == h.as_slice().len() && hv.iter().zip(h.as_slice()).all(|(a, b)| near(*a, *b)));
    let out = hip(&["freq", ws, "--potential", "gfn2", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["classification"], "minimum", "GFN2-xTB's water near its minimum: {v}");
}

#[test]
fn device_and_dtype_flags() {
    let model = tiny_model();
    let m = model.to_str().unwrap();
    let w = tmp("w-dtype.xyz");
    water(&w);
    let ws = w.to_str().unwrap();
    let run = |extra: &[&str]| -> Value {
        let mut args = vec!["hessian", ws, "--model", m, "--json"];
        args.extend_from_slice(extra);
        let o = hip(&args);
        assert!(o.status.success(), "{extra:?}: {}", String::from_utf8_lossy(&o.stderr));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    fn flat(x: &Value) -> Vec<f64> {
        match x {
            Value::Array(a) => a.iter().flat_map(flat).collect(),
            _ => vec![x.as_f64().unwrap()],
        }
    }
    let nums = |v: &Value, key: &str| flat(&v[key]);
    let f64_ = run(&["--device", "cpu", "--dtype", "f64"]);
    let default = run(&[]);
    let f32_ = run(&["--dtype", "f32"]);
    // f32 rounding through the network: 1e-4 of each output's scale, the f32 tolerance of
    // `hip device-check` (hip_bench::device_check::tolerance, where it is derived)
    for key in ["energy_ev", "forces_ev_a", "hessian_ev_a2"] {
        assert_eq!(nums(&default, key), nums(&f64_, key), "{key}: cpu/f64 is the default");
        let (a, b) = (nums(&f32_, key), nums(&f64_, key));
        let scale = b.iter().fold(1.0f64, |m, x| m.max(x.abs()));
        let err = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
        assert!(err <= 1e-4 * scale, "{key}: {err} of {scale}");
        assert!(a != b || key == "energy_ev", "{key}: f32 gave bitwise the f64 numbers");
    }
    assert_clean_failure(&hip(&["hessian", ws, "--model", m, "--dtype", "f16"]), "use f64 or f32");
    assert_clean_failure(&hip(&["hessian", ws, "--model", m, "--device", "tpu"]), "use cpu, cuda or cuda:N");
    let env = Command::new(env!("CARGO_BIN_EXE_hip"))
        .args(["hessian", ws, "--model", m])
        .env("HIP_DEVICE", "nonsense")
        .output()
        .unwrap();
    assert_clean_failure(&env, "HIP_DEVICE");
    if !cfg!(feature = "cuda") {
        assert_clean_failure(&hip(&["hessian", ws, "--model", m, "--device", "cuda"]), "no CUDA support");
        assert_clean_failure(&hip(&["device-check", "--model", m]), "no CUDA support");
    }
    // the device check end to end on the CPU: f32 against f64 for the three Hessians
    let out = tmp("device-check");
    let o = hip(&[
        "device-check",
        "--device",
        "cpu",
        "--dtypes",
        "f32",
        "--atoms",
        "12",
        "--model",
        m,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_str(&std::fs::read_to_string(out.join("device_check.json")).unwrap()).unwrap();
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 6, "2 molecules x 3 methods");
    assert!(v["ok"].as_bool().unwrap() && rows.iter().all(|r| r["dtype"] == "f32" && r["ok"] == true));
    assert!(rows.iter().all(|r| r["hessian_rel_err"].as_f64().unwrap() > 0.0), "f32 really ran: {v}");
    assert_clean_failure(&hip(&["device-check", "--device", "cpu", "--dtypes", "f16", "--model", m]), "--dtypes");
}

#[test]
fn gpu_check_script_runs_end_to_end_on_the_cpu() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = tmp("gpu-check");
    let o = Command::new("bash")
        .arg(root.join("scripts/gpu-check.sh"))
        .args(["--device", "cpu", "--hip", env!("CARGO_BIN_EXE_hip"), "--out", out.to_str().unwrap()])
        .current_dir(&root)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    let check: Value = serde_json::from_str(&std::fs::read_to_string(out.join("device_check.json")).unwrap()).unwrap();
    assert_eq!(check["ok"], true);
    assert_eq!(check["rows"].as_array().unwrap().len(), 12, "2 molecules x 3 methods x 2 dtypes");
    for dt in ["f32", "f64"] {
        let r: Value =
            serde_json::from_str(&std::fs::read_to_string(out.join(format!("bench-{dt}/results.json"))).unwrap())
                .unwrap();
        assert_eq!(r["meta"]["compute"], format!("cpu {dt}"));
        assert!(!r["speed"].as_array().unwrap().is_empty());
    }
    assert!(std::fs::read_to_string(out.join("env.txt")).unwrap().contains("device: cpu"));
}

#[test]
fn eval_grades_gfn2_itself_against_a_dataset() {
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../datasets/wb97x-small.h5");
    let d = data.to_str().unwrap();
    assert_clean_failure(&hip(&["eval", "--data", d, "--potential", "dftb"]), "expected model or gfn2");
    assert_clean_failure(
        &hip(&["eval", "--data", d, "--potential", "gfn2", "--method", "autodiff"]),
        "--model and --method are for the model",
    );
    if hip_xtb::available().is_err() {
        eprintln!("skipped the GFN2-xTB run: tblite not found (./scripts/setup.sh installs it)");
        return;
    }
    let out = hip(&["eval", "--data", d, "--split", "test", "--potential", "gfn2", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["method"], "gfn2-xtb");
    // GFN2-xTB against wB97X: a different level, but the same molecules — errors finite and
    // nonzero, the lowest modes mostly aligned (|cos v1| is between 0 and 1 by definition)
    let h = &v["hessian"];
    let (mae, cos) = (h["hessian_mae"].as_f64().unwrap(), h["cos_v1"].as_f64().unwrap());
    assert!(mae.is_finite() && mae > 0.0 && (0.0..=1.0).contains(&cos), "{h}");
}

#[test]
fn bench_train_reports_samples_per_cpu_second_per_precision() {
    let (cfg, mcfg, out) = (tmp("tb-train.toml"), tmp("tb-model.toml"), tmp("tb.json"));
    std::fs::write(&cfg, "epochs = 3\nbatch_size = 2\nw_subspace = 1.0\n").unwrap();
    let m = hip_model::ModelConfig {
        hidden_irreps: "8x0e+4x1o+2x1e+2x2e".into(),
        head_irreps: "4x0e+2x1e+2x2e".into(),
        ..Default::default()
    };
    std::fs::write(&mcfg, m.to_toml()).unwrap();
    let (c, mc, o, d) = (cfg.to_str().unwrap(), mcfg.to_str().unwrap(), out.to_str().unwrap(), fixture());
    let args = ["bench", "train", "--data", &d, "--config", c, "--model-config", mc, "--samples", "4", "--reps", "2"];
    let run = hip(&[&args[..], &["--out", o]].concat());
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "f64 and f32 by default: {v}");
    for r in rows {
        let rates = r["samples_per_cpu_s"].as_array().unwrap();
        assert_eq!(rates.len(), 2);
        // positive; min <= median <= max
        let (lo, med, hi) = (r["min"].as_f64().unwrap(), r["median"].as_f64().unwrap(), r["max"].as_f64().unwrap());
        assert!(lo > 0.0 && lo <= med && med <= hi, "{r}");
    }
    assert_clean_failure(&hip(&[&args[..8], &["--samples", "1000"]].concat()), "fewer than 1000 training samples");
    assert_clean_failure(&hip(&[&args[..], &["--dtypes", "f16"]].concat()), "--dtypes");
}

#[test]
fn bench_batch_times_batched_single_and_autodiff_hessians() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let (set, names, out) = (root.join("datasets/reactbench/ts1x.tar.gz"), tmp("batch-names.txt"), tmp("batch.json"));
    std::fs::write(&names, "rxn160\nrxn1461\n").unwrap();
    let (s, n, o) = (set.to_str().unwrap(), names.to_str().unwrap(), out.to_str().unwrap());
    let run = hip(&["bench", "batch", "--set", s, "--names", n, "--molecules", "2", "--reps", "1", "--out", o]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert!(rows.iter().all(|r| r["median"].as_f64().unwrap() > 0.0), "{v}");
    assert_eq!(v["atoms"].as_array().unwrap().len(), 2);
    assert_clean_failure(
        &hip(&["bench", "batch", "--set", s, "--names", n, "--molecules", "3"]),
        "fewer than 3 reactions",
    );
}

/// The fixture's path, and a one-epoch training config and a small model config written under
/// `tag`: what the `hip train` tests run.
fn tiny_training(tag: &str) -> (String, String, String) {
    let cfg = tmp(&format!("{tag}-train.toml"));
    std::fs::write(&cfg, "epochs = 1\nbatch_size = 4\nmax_val = 2\n").unwrap();
    let mcfg = tmp(&format!("{tag}-model.toml"));
    let m = hip_model::ModelConfig {
        hidden_irreps: "4x0e+2x1o".into(),
        head_irreps: "2x0e+1x1e+1x2e".into(),
        ..Default::default()
    };
    std::fs::write(&mcfg, m.to_toml()).unwrap();
    (fixture(), cfg.to_str().unwrap().to_string(), mcfg.to_str().unwrap().to_string())
}

/// `hip train --data A --data B` joins the files' train splits (here the fixture twice: twice the
/// samples of one; validation from each, none in this fixture) and names both in its log; a missing second file is one
/// clear error naming it.
#[test]
fn train_joins_several_data_files() {
    let (d, c, mc) = tiny_training("join");
    let counts = |files: &[&str], out: &str| -> (usize, usize) {
        let mut args = vec!["train"];
        for f in files {
            args.extend(["--data", f]);
        }
        let out = tmp(out);
        args.extend(["--config", &c, "--model-config", &mc, "--out", out.to_str().unwrap()]);
        let o = hip(&args);
        let err = String::from_utf8_lossy(&o.stderr).to_string();
        assert!(o.status.success(), "{err}");
        // "training P parameters on N samples (V validation) from A + B; ..."
        let line = err.lines().find(|l| l.starts_with("training ")).expect("the training line");
        assert!(line.contains(&vec![d.as_str(); files.len()].join(" + ")), "{line}");
        let num = |after: &str| line.split(after).nth(1).unwrap().split_whitespace().next().unwrap().parse().unwrap();
        (num(" on "), num(" samples ("))
    };
    let (one, val_one) = counts(&[&d], "join-1.safetensors");
    let (two, val_two) = counts(&[&d, &d], "join-2.safetensors");
    assert!(one > 0);
    assert_eq!((two, val_two), (2 * one, 2 * val_one));
    // `data_repeats = [1, 3]`: the second file's samples three times per epoch
    let rep = tmp("join-repeats-ok.toml");
    std::fs::write(&rep, "epochs = 1\nbatch_size = 4\nmax_val = 2\ndata_repeats = [1, 3]\n").unwrap();
    let out = tmp("join-5.safetensors");
    let args = ["train", "--data", &d, "--data", &d, "--config", rep.to_str().unwrap(), "--model-config", &mc];
    let o = hip(&[&args[..], &["--out", out.to_str().unwrap()]].concat());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let t = hip_model::checkpoint::load(&out, &candle_core::Device::Cpu).unwrap().training;
    assert_eq!(t["epoch_samples"], 4 * one);
    // `data_repeats` needs one value per file
    let bad = tmp("join-repeats.toml");
    std::fs::write(&bad, "epochs = 1\nbatch_size = 4\ndata_repeats = [1, 2, 3]\n").unwrap();
    let out = tmp("join-4.safetensors");
    let o =
        hip(&["train", "--data", &d, "--data", &d, "--config", bad.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_clean_failure(&o, "data_repeats has 3 values for 2 --data files");
    assert_clean_failure(
        &hip(&[
            "train",
            "--data",
            &d,
            "--data",
            "/nonexistent/b.h5",
            "--out",
            tmp("join-3.safetensors").to_str().unwrap(),
        ]),
        "/nonexistent/b.h5",
    );
}

/// Ammonia's inversion as a ReactBench-format reaction (two frames: the pyramid and its mirror).
fn ammonia_inversion_set() -> PathBuf {
    let set = tmp("rb-set");
    std::fs::create_dir_all(&set).unwrap();
    let frame = |z: f64| {
        let h = |a: f64| format!("H {:.6} {:.6} {:.6}\n", a.to_radians().cos(), a.to_radians().sin(), -z / 3.0);
        format!("4\nframe\nN 0 0 {z:.6}\n{}{}{}", h(0.0), h(120.0), h(240.0))
    };
    std::fs::write(set.join("nh3.xyz"), frame(0.36) + &frame(-0.36)).unwrap();
    set
}

#[test]
fn bench_reactions_runs_the_model_providers_on_one_band_and_caps_them() {
    let set = ammonia_inversion_set();
    let run = |out: &str, cap: &str| -> Vec<serde_json::Value> {
        let out = tmp(out);
        let _ = std::fs::remove_dir_all(&out);
        let args = ["bench", "reactions", "--set", set.to_str().unwrap(), "--providers", "direct,autodiff"];
        let o = hip(&[&args[..], &["--workers", "1", "--cap", cap, "--out", out.to_str().unwrap()]].concat());
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let text = std::fs::read_to_string(out.join("runs.jsonl")).unwrap();
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    };
    // one worker for both model providers: records of both, each marked as sharing the band
    let recs = run("rb-shared", "900");
    let providers: Vec<&str> = recs.iter().map(|r| r["provider"].as_str().unwrap()).collect();
    assert_eq!(providers, ["direct", "autodiff"]);
    for r in &recs {
        assert_eq!(r["name"], "nh3");
        assert_eq!(r["shared_band"], true, "{r}");
        assert!(r["error"].is_null(), "{r}");
        assert!(r["gradient_calls"].as_u64().unwrap() > 0, "{r}");
    }
    // a cap the band cannot meet: every provider of the group is a time-cap error
    let recs = run("rb-capped", "0");
    assert_eq!(recs.len(), 2);
    for r in &recs {
        assert_eq!(r["error"], "time cap of 0 s", "{r}");
    }
}

#[test]
fn train_streams_one_file_and_refuses_two() {
    let (d, c, mc) = tiny_training("stream");
    let out = tmp("stream.safetensors");
    let o = hip(&[
        "train",
        "--stream",
        "--data",
        &d,
        "--config",
        &c,
        "--model-config",
        &mc,
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    let n_train = hip_model::train::load_split(std::path::Path::new(&d), "train").unwrap().len();
    assert!(err.contains(&format!("on {n_train} samples, streamed")), "{err}");
    let t = hip_model::checkpoint::load(&out, &candle_core::Device::Cpu).unwrap().training;
    assert_eq!(t["history"][0]["samples"], n_train);
    let two =
        hip(&["train", "--stream", "--data", &d, "--data", &d, "--out", tmp("stream-2.safetensors").to_str().unwrap()]);
    assert_clean_failure(&two, "--stream reads one --data file, got 2");
}

/// `refit_reference_energies`: with `--init-from`, the started model's reference energies are
/// refitted to the data (the shift is reported and the checkpoint carries the shifted values);
/// without a started model it is one clear error.
#[test]
fn refit_reference_energies_needs_a_started_model_and_shifts_its_references() {
    let start = tiny_model();
    let cfg = tmp("refit.toml");
    std::fs::write(&cfg, "epochs = 1\nbatch_size = 4\nrefit_reference_energies = true\n").unwrap();
    let out = tmp("refit.safetensors");
    let (d, c, o) = (fixture(), cfg.to_str().unwrap().to_string(), out.to_str().unwrap().to_string());
    let run = hip(&["train", "--data", &d, "--config", &c, "--init-from", start.to_str().unwrap(), "--out", &o]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(String::from_utf8_lossy(&run.stderr).contains("reference energies shifted by"));
    let before = hip_model::checkpoint::load(&start, &candle_core::Device::Cpu).unwrap().model.config;
    let after = hip_model::checkpoint::load(&out, &candle_core::Device::Cpu).unwrap().model.config;
    assert_ne!(before.reference_energies, after.reference_energies, "the references were not refitted");
    let bad = hip(&["train", "--data", &d, "--config", &c, "--out", tmp("refit-bad.safetensors").to_str().unwrap()]);
    assert_clean_failure(&bad, "refit_reference_energies needs --init-from");
}
