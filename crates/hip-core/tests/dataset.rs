//! HDF5 dataset format: round trip, files written by the Python generator, one test per
//! validation error, and the by-molecule split of every shipped dataset.

use std::path::{Path, PathBuf};

use hip_core::io::dataset::{Dataset, HessianLayout, Record, write_dataset};
use hip_core::{Hessian, Molecule};

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hip-core-dataset-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn record(seed: u64, n: usize, split: &str, molecule: &str, asymmetric: bool) -> Record {
    let mut s = seed;
    let mut next = move || {
        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((s >> 11) as f64 / (1u64 << 53) as f64) - 0.5
    };
    let numbers: Vec<u8> = (0..n).map(|k| [1u8, 6, 7, 8][k % 4]).collect();
    let positions: Vec<[f64; 3]> = (0..n).map(|k| [k as f64 + next(), next(), next()]).collect();
    let forces: Vec<[f64; 3]> = (0..n).map(|_| [next(), next(), next()]).collect();
    let d = 3 * n;
    let mut h = vec![0.0; d * d];
    for r in 0..d {
        for c in r..d {
            let v = 10.0 * next();
            h[r * d + c] = v;
            h[c * d + r] = if asymmetric && r != c { v + 1.0 } else { v };
        }
    }
    Record {
        molecule: Molecule::new(numbers, positions).unwrap(),
        energy: -100.0 * next(),
        forces,
        hessian: Hessian::from_vec(n, h).unwrap(),
        split: split.into(),
        kind: "displaced".into(),
        molecule_id: molecule.into(),
        smiles: String::new(),
        reaction_id: if seed % 2 == 0 { Some("r1".into()) } else { None },
    }
}

fn records() -> Vec<Record> {
    vec![record(1, 3, "train", "a", false), record(2, 5, "val", "b", false), record(3, 4, "test", "c", false)]
}

#[test]
fn round_trip_is_identical() {
    for layout in [HessianLayout::UpperTriangle, HessianLayout::Full] {
        let path = tmp(&format!("rt-{layout:?}.h5"));
        let recs = records();
        write_dataset(&path, "test-level", &recs, layout, "test").unwrap();
        let ds = Dataset::open(&path).unwrap();
        assert_eq!(ds.len(), recs.len());
        assert_eq!(ds.level_of_theory, "test-level");
        ds.validate().unwrap();
        for (i, r) in recs.iter().enumerate() {
            let s = ds.sample(i).unwrap();
            assert_eq!(s.molecule, r.molecule);
            assert_eq!(s.forces, r.forces);
            assert_eq!(s.energy, r.energy);
            assert_eq!(
                (s.split.as_str(), s.kind.as_str(), s.molecule_id.as_str()),
                (r.split.as_str(), "displaced", r.molecule_id.as_str())
            );
            assert_eq!(s.reaction_id, r.reaction_id);
            // Hessians are stored as f32 (see datasets/README.md): equal to f32 rounding.
            let expected: Vec<f64> = r.hessian.as_slice().iter().map(|&x| x as f32 as f64).collect();
            assert_eq!(s.hessian.as_slice(), expected.as_slice());
        }
    }
}

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smoke.h5")
}

fn check_generator_file(path: &Path) {
    let ds = Dataset::open(path).unwrap_or_else(|e| panic!("{e}"));
    assert!(!ds.is_empty());
    ds.validate().unwrap_or_else(|e| panic!("{e}"));
    let info = ds.info().unwrap();
    assert_eq!(info.n_samples, ds.len());
    assert_eq!(info.level_of_theory, "GFN2-xTB");
    let s = ds.sample(0).unwrap();
    assert!(s.hessian.max_asymmetry() == 0.0);
}

#[test]
fn reads_the_committed_generator_fixture() {
    check_generator_file(&fixture());
}

#[test]
fn reads_a_freshly_generated_smoke_file_when_python_is_available() {
    let have = std::process::Command::new("python3")
        .args(["-c", "import h5py, rdkit, tblite, ase, pyscf"])
        .status()
        .is_ok_and(|s| s.success());
    if !have {
        eprintln!("skipped: python3 with h5py, rdkit, tblite, ase, pyscf is not available");
        return;
    }
    let out = tmp("fresh-smoke.h5");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../datasets/generate.py");
    let st = std::process::Command::new("python3")
        .arg(&script)
        .args(["--smoke", "--workers", "1", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(st.status.success(), "generator failed: {}", String::from_utf8_lossy(&st.stderr));
    check_generator_file(&out);
}

/// Every dataset shipped under `datasets/` (and the fixture): no molecule in two splits.
#[test]
fn splits_are_by_molecule() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../datasets");
    let mut files = vec![fixture()];
    if let Ok(rd) = std::fs::read_dir(&dir) {
        files.extend(rd.map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "h5")));
    }
    for f in files {
        let ds = Dataset::open(&f).unwrap();
        let mut split_of = std::collections::HashMap::new();
        let mut reaction_split = std::collections::HashMap::new();
        for i in 0..ds.len() {
            let m = ds.molecule_index_of(i);
            let s = ds.split_of(i).to_string();
            let prev = split_of.entry(m).or_insert_with(|| s.clone());
            assert_eq!(*prev, s, "{}: molecule {} is in {prev} and {s}", f.display(), ds.molecule_ids[m]);
            if let Some(r) = ds.reaction_index_of(i) {
                let prev = reaction_split.entry(r).or_insert_with(|| s.clone());
                assert_eq!(*prev, s, "{}: reaction {} is split", f.display(), ds.reaction_ids[r]);
            }
        }
    }
}

/// Rewrites one dataset of a good file.
fn corrupt(name: &str, what: &str, edit: impl FnOnce(&hdf5::File)) -> PathBuf {
    let path = tmp(name);
    write_dataset(&path, "x", &records(), HessianLayout::UpperTriangle, "test").unwrap();
    let f = hdf5::File::open_rw(&path).unwrap();
    f.unlink(what).unwrap();
    edit(&f);
    f.close().unwrap(); // strong close: no handle may keep the file locked for the reader
    path
}

fn open_or_sample_error(path: &Path) -> String {
    match Dataset::open(path) {
        Err(e) => e.to_string(),
        Ok(ds) => ds.validate().expect_err("the corruption must be detected").to_string(),
    }
}

#[test]
fn truncated_file_is_an_error() {
    let path = tmp("trunc.h5");
    write_dataset(&path, "x", &records(), HessianLayout::UpperTriangle, "test").unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let e = Dataset::open(&path).unwrap_err().to_string();
    assert!(e.contains("trunc.h5"), "{e}");
}

#[test]
fn wrong_shape_is_an_error() {
    let p = corrupt("shape.h5", "positions", |f| {
        f.new_dataset::<f64>().shape((12, 2)).create("positions").unwrap();
    });
    let e = open_or_sample_error(&p);
    assert!(e.contains("shape.h5") && e.contains("positions") && e.contains("shape"), "{e}");
}

#[test]
fn nan_is_an_error() {
    let p = corrupt("nan.h5", "forces", |f| {
        let mut v = vec![0.5; 36];
        v[3 * 4 + 1] = f64::NAN; // atom 4 = sample 1
        f.new_dataset::<f64>().shape((12, 3)).create("forces").unwrap().write_raw(&v).unwrap();
    });
    let e = open_or_sample_error(&p);
    assert!(e.contains("nan.h5") && e.contains("sample 1") && e.contains("not finite"), "{e}");
}

#[test]
fn unknown_element_is_an_error() {
    let p = corrupt("element.h5", "atomic_numbers", |f| {
        let mut z = vec![1i64; 12];
        z[9] = 200; // sample 2
        f.new_dataset_builder().with_data(&z).create("atomic_numbers").unwrap();
    });
    let e = open_or_sample_error(&p);
    assert!(e.contains("element.h5") && e.contains("sample 2") && e.contains("unknown atomic number 200"), "{e}");
}

#[test]
fn asymmetric_hessian_is_an_error() {
    let path = tmp("asym.h5");
    let recs = vec![record(1, 3, "train", "a", false), record(5, 2, "train", "a", true)];
    write_dataset(&path, "x", &recs, HessianLayout::Full, "test").unwrap();
    let e = open_or_sample_error(&path);
    assert!(e.contains("asym.h5") && e.contains("sample 1") && e.contains("not symmetric"), "{e}");
}

#[test]
fn offsets_out_of_range_are_an_error() {
    let p = corrupt("offsets.h5", "atom_offset", |f| {
        f.new_dataset_builder().with_data(&[0i64, 3, 99]).create("atom_offset").unwrap();
    });
    let e = open_or_sample_error(&p);
    assert!(e.contains("offsets.h5") && e.contains("sample 2") && e.contains("atom_offset"), "{e}");
}

#[test]
fn wrong_format_and_missing_file_are_errors() {
    let e = Dataset::open(Path::new("/nonexistent/x.h5")).unwrap_err().to_string();
    assert!(e.contains("/nonexistent/x.h5"), "{e}");
    let path = tmp("notdataset.h5");
    hdf5::File::create(&path).unwrap();
    let e = Dataset::open(&path).unwrap_err().to_string();
    assert!(e.contains("format_name"), "{e}");
}

fn filter_record(kind: &str, energy: f64, positions: Vec<[f64; 3]>, reaction: Option<&str>) -> Record {
    let n = positions.len();
    Record {
        molecule: Molecule::new(vec![8, 1, 1], positions).unwrap(),
        energy,
        forces: vec![[0.1, 0.0, 0.0]; n],
        hessian: Hessian::from_vec(n, vec![0.0; 9 * n * n]).unwrap(),
        split: "train".into(),
        kind: kind.into(),
        molecule_id: "water".into(),
        smiles: String::new(),
        reaction_id: reaction.map(String::from),
    }
}

fn declare_filter(path: &Path, json: &str) {
    let f = hdf5::File::open_rw(path).unwrap();
    let v: hdf5::types::VarLenUnicode = json.parse().unwrap();
    f.new_attr::<hdf5::types::VarLenUnicode>().create("filter").unwrap().write_scalar(&v).unwrap();
}

#[test]
fn the_declared_geometry_filter_is_checked() {
    use hip_core::io::dataset::Filter;
    let water = vec![[0.0, 0.0, 0.0], [0.96, 0.0, 0.0], [-0.24, 0.93, 0.0]];
    let squeezed = vec![[0.0, 0.0, 0.0], [0.96, 0.0, 0.0], [0.96, 0.30, 0.0]]; // H–H 0.30 Å = 0.48 × 0.62
    let json = r#"{"min_pair_ratio": 0.7, "max_e_per_atom_sampled_eV": 0.3, "max_e_reaction_eV": 5.0}"#;
    assert_eq!(Filter::from_json(json), Some(Filter::V2));
    let cases: [(Vec<Record>, Option<&str>); 4] = [
        // minimum + a sample 0.8 eV above it (bound 3 × 0.3 = 0.9 eV) + a reaction point 4 eV above
        (
            vec![
                filter_record("minimum", -100.0, water.clone(), None),
                filter_record("thermal", -99.2, water.clone(), None),
                filter_record("path", -96.0, water.clone(), Some("r")),
            ],
            None,
        ),
        (
            vec![
                filter_record("minimum", -100.0, water.clone(), None),
                filter_record("thermal", -99.0, water.clone(), None),
            ],
            Some("eV above its molecule's minimum"),
        ),
        (
            vec![
                filter_record("minimum", -100.0, water.clone(), None),
                filter_record("path", -94.0, water.clone(), Some("r")),
            ],
            Some("bound 5 eV for reaction samples"),
        ),
        (
            vec![
                filter_record("minimum", -100.0, water.clone(), None),
                filter_record("displaced", -99.9, squeezed, None),
            ],
            Some("sum of covalent radii"),
        ),
    ];
    for (k, (recs, expect)) in cases.into_iter().enumerate() {
        let path = tmp(&format!("filter-{k}.h5"));
        write_dataset(&path, "test", &recs, HessianLayout::UpperTriangle, "test").unwrap();
        assert_eq!(Dataset::open(&path).unwrap().declared_filter(), None, "no filter declared yet");
        declare_filter(&path, json);
        let ds = Dataset::open(&path).unwrap();
        let f = ds.declared_filter().unwrap();
        match (ds.check_filter(&f), expect) {
            (Ok(()), None) => {}
            (Err(e), Some(want)) => {
                let e = e.to_string();
                assert!(e.contains(want) && e.contains("sample 1"), "case {k}: {e}");
                assert!(e.contains(&path.display().to_string()), "case {k}: the error names the file: {e}");
            }
            (got, want) => panic!("case {k}: {got:?}, expected {want:?}"),
        }
        let stats = ds.kind_stats().unwrap();
        assert_eq!(stats["minimum"].count, 1);
        assert!((stats["minimum"].force_rms - (0.01f64 / 3.0).sqrt()).abs() < 1e-12);
        assert!((stats["minimum"].min_distance - 0.96).abs() < 1e-12);
    }
}
