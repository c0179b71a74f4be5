//! The dataset fuzz input (shared by `fuzz_targets/dataset.rs` and hip-core's corpus replay
//! test, which includes this file by path): a description of the tables of a dataset — either
//! consistent ones derived from per-sample sizes (to reach sample reading, statistics and the
//! filter check) or raw arbitrary ones — with optional overrides of single values by extreme
//! numbers. [`run`] writes them to an HDF5 file and exercises the reader.

use std::path::{Path, PathBuf};

use arbitrary::Arbitrary;
use hdf5::types::VarLenUnicode;
use hip_core::io::dataset::Dataset;

#[derive(Arbitrary, Debug)]
pub struct Input {
    /// Atoms per sample (consistent mode: clamped to 1..=6).
    n_atoms: Vec<i64>,
    consistent: bool,
    atom_offset: Vec<i64>,
    hessian_offset: Vec<i64>,
    numbers: Vec<i64>,
    values: Vec<f32>,
    full_hessian: bool,
    split: Vec<i64>,
    kind: Vec<i64>,
    molecule_index: Vec<i64>,
    reaction_index: Vec<i64>,
    n_molecules: u8,
    n_reactions: u8,
    with_classes: bool,
    format_version: Option<i64>,
    filter: Option<String>,
    kind_names: Option<String>,
    overrides: Vec<(u8, u16, i64)>,
}

fn cycle<T: Copy>(src: &[T], n: usize, default: T) -> Vec<T> {
    (0..n).map(|k| if src.is_empty() { default } else { src[k % src.len()] }).collect()
}

struct Tables {
    n_atoms: Vec<i64>,
    atom_offset: Vec<i64>,
    hessian_offset: Vec<i64>,
    numbers: Vec<i64>,
    positions: Vec<f64>,
    forces: Vec<f64>,
    hessian: Vec<f64>,
    energy: Vec<f64>,
    split: Vec<i64>,
    kind: Vec<i64>,
    molecule_index: Vec<i64>,
    reaction_index: Vec<i64>,
}

fn tables(inp: &Input) -> Tables {
    let s = inp.n_atoms.len().min(16);
    let vals: Vec<f64> = inp.values.iter().map(|&v| v as f64).collect();
    let (n_atoms, atom_offset, hessian_offset, total_a, total_h) = if inp.consistent {
        let n: Vec<i64> = inp.n_atoms[..s].iter().map(|&v| 1 + v.rem_euclid(6)).collect();
        let (mut a, mut h, mut ao, mut ho) = (0i64, 0i64, vec![], vec![]);
        for &k in &n {
            let d = 3 * k;
            ao.push(a);
            ho.push(h);
            a += k;
            h += if inp.full_hessian { d * d } else { d * (d + 1) / 2 };
        }
        (n, ao, ho, a as usize, h as usize)
    } else {
        let ta = inp.numbers.len().min(64);
        let th = inp.values.len().min(2048);
        (inp.n_atoms[..s].to_vec(), cycle(&inp.atom_offset, s, 0), cycle(&inp.hessian_offset, s, 0), ta, th)
    };
    let numbers = cycle(&inp.numbers, total_a, 1)
        .into_iter()
        .map(|z| if inp.consistent { [1, 6, 7, 8][z.rem_euclid(4) as usize] } else { z })
        .collect();
    let positions =
        (0..3 * total_a).map(|k| if vals.is_empty() { k as f64 } else { vals[k % vals.len()] + k as f64 }).collect();
    let forces = cycle(&vals, 3 * total_a, 0.0);
    let hessian = cycle(&vals, total_h, 1.0);
    let m = inp.n_molecules.max(1) as i64;
    let r = inp.n_reactions as i64;
    let pick = |v: &[i64], n: i64, k: usize| -> i64 {
        let x = if v.is_empty() { 0 } else { v[k % v.len()] };
        if inp.consistent { if n == 0 { -1 } else { x.rem_euclid(n) } } else { x }
    };
    Tables {
        energy: cycle(&vals, s, -1.0),
        split: (0..s).map(|k| pick(&inp.split, 3, k)).collect(),
        kind: (0..s).map(|k| pick(&inp.kind, 5, k)).collect(),
        molecule_index: (0..s).map(|k| pick(&inp.molecule_index, m, k)).collect(),
        reaction_index: (0..s).map(|k| pick(&inp.reaction_index, r, k)).collect(),
        n_atoms,
        atom_offset,
        hessian_offset,
        numbers,
        positions,
        forces,
        hessian,
    }
}

fn apply_overrides(t: &mut Tables, overrides: &[(u8, u16, i64)]) {
    for &(field, index, value) in overrides.iter().take(4) {
        let v = match field % 8 {
            0 => &mut t.n_atoms,
            1 => &mut t.atom_offset,
            2 => &mut t.hessian_offset,
            3 => &mut t.numbers,
            4 => &mut t.split,
            5 => &mut t.kind,
            6 => &mut t.molecule_index,
            _ => &mut t.reaction_index,
        };
        if !v.is_empty() {
            let k = index as usize % v.len();
            v[k] = value;
        }
    }
}

fn write(path: &Path, inp: &Input, t: &Tables) -> hdf5::Result<()> {
    // the core driver builds the file in memory and writes it once at close (fewer syscalls)
    let f = hdf5::File::with_options().with_fapl(|p| p.core_filebacked(true)).create(path)?;
    let text = |name: &str, s: &str| -> hdf5::Result<()> {
        let v: VarLenUnicode = s.parse().unwrap_or_else(|_| "x".parse().expect("ascii"));
        f.new_attr::<VarLenUnicode>().create(name)?.write_scalar(&v)
    };
    text("format_name", "hip-hessian-dataset")?;
    f.new_attr::<i64>().create("format_version")?.write_scalar(&inp.format_version.unwrap_or(1))?;
    text("level_of_theory", "fuzz")?;
    if let Some(s) = &inp.filter {
        text("filter", s)?;
    }
    if let Some(s) = &inp.kind_names {
        text("kind_names", s)?;
    }
    for (name, v) in [
        ("n_atoms", &t.n_atoms),
        ("atom_offset", &t.atom_offset),
        ("hessian_offset", &t.hessian_offset),
        ("atomic_numbers", &t.numbers),
        ("split", &t.split),
        ("kind", &t.kind),
        ("molecule_index", &t.molecule_index),
        ("reaction_index", &t.reaction_index),
    ] {
        f.new_dataset_builder().with_data(v.as_slice()).create(name)?;
    }
    f.new_dataset_builder().with_data(t.energy.as_slice()).create("energy")?;
    for (name, v) in [("positions", &t.positions), ("forces", &t.forces)] {
        f.new_dataset::<f64>().shape((v.len() / 3, 3)).create(name)?.write_raw(v.as_slice())?;
    }
    let hname = if inp.full_hessian { "hessian" } else { "hessian_triu" };
    f.new_dataset_builder().with_data(t.hessian.as_slice()).create(hname)?;
    let strings = |name: &str, n: usize, prefix: &str| -> hdf5::Result<()> {
        let v: Vec<VarLenUnicode> = (0..n).map(|k| format!("{prefix}{k}").parse().expect("ascii")).collect();
        f.new_dataset_builder().with_data(v.as_slice()).create(name).map(|_| ())
    };
    strings("molecule_id", inp.n_molecules as usize, "m")?;
    strings("molecule_smiles", inp.n_molecules as usize, "C")?;
    strings("reaction_id", inp.n_reactions as usize, "r")?;
    if inp.with_classes {
        strings("reaction_class", inp.n_reactions as usize, "h_shift")?;
    }
    Ok(())
}

/// Writes `inp` to an HDF5 file in `dir` and opens it: every sample must read or give a clean
/// error. Returns whether the file opened as a dataset.
pub fn run(inp: &Input, dir: &Path) -> bool {
    let mut t = tables(inp);
    apply_overrides(&mut t, &inp.overrides);
    let _ = std::fs::create_dir_all(dir);
    let path: PathBuf = dir.join("d.h5");
    if write(&path, inp, &t).is_err() {
        return false;
    }
    let Ok(ds) = Dataset::open(&path) else { return false };
    let _ = ds.validate();
    let _ = ds.info();
    let _ = ds.kind_stats();
    let _ = ds.bond_rearranging_ts();
    if let Some(filter) = ds.declared_filter() {
        let _ = ds.check_filter(&filter);
    }
    for i in 0..ds.len() {
        let _ = ds.sample(i);
    }
    true
}
