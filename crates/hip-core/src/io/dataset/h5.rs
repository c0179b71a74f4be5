//! Reading and writing the HDF5 files (cargo feature `hdf5`, on by default).

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use hdf5::types::VarLenUnicode;

use super::tables::{Extents, RawTables, Tables};
use super::{
    FORMAT_NAME, FORMAT_VERSION, HessianLayout, Info, KIND_NAMES, Record, SPLIT_NAMES, SYMMETRY_TOLERANCE, Sample,
    pack_upper, unpack_upper,
};
use crate::{Error, Hessian, Molecule, Result, elements};

mod quality;
pub use quality::{Filter, KindStats, ReactionSamples};

/// An open dataset: the small per-sample tables are in memory, coordinates and Hessians are read
/// on demand.
#[derive(Debug)]
pub struct Dataset {
    path: PathBuf,
    file: hdf5::File,
    layout: HessianLayout,
    /// Level of theory (root attribute).
    pub level_of_theory: String,
    n_atoms: Vec<usize>,
    atom_offset: Vec<usize>,
    hessian_offset: Vec<usize>,
    energy: Vec<f64>,
    split: Vec<usize>,
    kind: Vec<usize>,
    molecule_index: Vec<usize>,
    reaction_index: Vec<Option<usize>>,
    split_names: Vec<String>,
    kind_names: Vec<String>,
    /// Molecule identifiers.
    pub molecule_ids: Vec<String>,
    /// Molecule SMILES (same order as `molecule_ids`; may be empty strings).
    pub molecule_smiles: Vec<String>,
    /// Reaction identifiers.
    pub reaction_ids: Vec<String>,
    /// Reaction classes (optional `reaction_class`; empty if absent).
    reaction_classes: Vec<String>,
    total_atoms: usize,
    total_hessian: usize,
}

fn h5err(path: &Path, what: &str) -> impl Fn(hdf5::Error) -> Error + use<> {
    let (path, what) = (path.display().to_string(), what.to_string());
    move |e| Error::invalid(&path, format!("{what}: {e}"))
}

fn read_strings(file: &hdf5::File, path: &Path, name: &str) -> Result<Vec<String>> {
    if !file.link_exists(name) {
        return Ok(Vec::new());
    }
    let ds = file.dataset(name).map_err(h5err(path, name))?;
    Ok(ds.read_raw::<VarLenUnicode>().map_err(h5err(path, name))?.into_iter().map(|s| s.to_string()).collect())
}

fn attr_string(file: &hdf5::File, name: &str) -> Option<String> {
    let a = file.attr(name).ok()?;
    a.read_scalar::<VarLenUnicode>()
        .map(|s| s.to_string())
        .or_else(|_| a.read_scalar::<hdf5::types::VarLenAscii>().map(|s| s.to_string()))
        .ok()
}

fn json_list(s: Option<String>, default: &[&str]) -> Vec<String> {
    s.and_then(|s| {
        let t = s.trim().strip_prefix('[')?.strip_suffix(']')?.to_string();
        Some(t.split(',').map(|x| x.trim().trim_matches('"').to_string()).filter(|x| !x.is_empty()).collect())
    })
    .unwrap_or_else(|| default.iter().map(|s| s.to_string()).collect())
}

impl Dataset {
    /// Opens a dataset and checks its structure: format name and version, array lengths,
    /// offsets in range and contiguous, split/kind/molecule/reaction indices valid. Per-sample
    /// values (finite numbers, elements, symmetry) are checked by [`Dataset::validate`].
    pub fn open(path: &Path) -> Result<Self> {
        if !path.exists() {
            return Err(Error::io(path, std::io::Error::new(std::io::ErrorKind::NotFound, "no such file")));
        }
        let file = hdf5::File::open(path).map_err(h5err(path, "cannot open as HDF5"))?;
        let ctx = path.display().to_string();
        let fmt = attr_string(&file, "format_name");
        if fmt.as_deref() != Some(FORMAT_NAME) {
            return Err(Error::invalid(&ctx, format!("format_name is {fmt:?}, expected \"{FORMAT_NAME}\"")));
        }
        let version =
            file.attr("format_version").and_then(|a| a.read_scalar::<i64>()).map_err(h5err(path, "format_version"))?;
        if version != FORMAT_VERSION {
            return Err(Error::invalid(
                &ctx,
                format!("format_version {version} is not supported (this build reads {FORMAT_VERSION})"),
            ));
        }
        let level_of_theory = attr_string(&file, "level_of_theory").unwrap_or_default();
        let ints = |name: &str| -> Result<Vec<i64>> {
            file.dataset(name).and_then(|d| d.read_raw::<i64>()).map_err(h5err(path, name))
        };
        let optional = |name: &str| -> Result<Option<Vec<i64>>> {
            if file.link_exists(name) { ints(name).map(Some) } else { Ok(None) }
        };
        let energy = file.dataset("energy").and_then(|d| d.read_raw::<f64>()).map_err(h5err(path, "energy"))?;
        let raw = RawTables {
            n_atoms: ints("n_atoms")?,
            atom_offset: ints("atom_offset")?,
            hessian_offset: ints("hessian_offset")?,
            split: ints("split")?,
            kind: optional("kind")?,
            molecule_index: ints("molecule_index")?,
            reaction_index: optional("reaction_index")?,
            n_energies: energy.len(),
        };
        let layout = if file.link_exists("hessian_triu") {
            HessianLayout::UpperTriangle
        } else if file.link_exists("hessian") {
            HessianLayout::Full
        } else {
            return Err(Error::invalid(&ctx, "no Hessian dataset (expected hessian_triu or hessian)"));
        };
        let size = |name: &str| file.dataset(name).map(|d| d.size()).map_err(h5err(path, name));
        let total_atoms = size("atomic_numbers")?;
        for name in ["positions", "forces"] {
            let shape = file.dataset(name).map(|d| d.shape()).map_err(h5err(path, name))?;
            if shape != [total_atoms, 3] {
                return Err(Error::invalid(&ctx, format!("{name} has shape {shape:?}, expected ({total_atoms}, 3)")));
            }
        }
        let total_hessian = size(layout.dataset())?;
        let split_names = json_list(attr_string(&file, "split_names"), &SPLIT_NAMES);
        let kind_names = json_list(attr_string(&file, "kind_names"), &KIND_NAMES);
        let molecule_ids = read_strings(&file, path, "molecule_id")?;
        let molecule_smiles = read_strings(&file, path, "molecule_smiles")?;
        let reaction_ids = read_strings(&file, path, "reaction_id")?;
        let reaction_classes = read_strings(&file, path, "reaction_class")?;
        if !reaction_classes.is_empty() && reaction_classes.len() != reaction_ids.len() {
            return Err(Error::invalid(
                &ctx,
                format!(
                    "reaction_class has {} entries but reaction_id has {}",
                    reaction_classes.len(),
                    reaction_ids.len()
                ),
            ));
        }
        let extents = Extents {
            total_atoms,
            total_hessian,
            layout,
            n_splits: split_names.len(),
            n_kinds: kind_names.len(),
            n_molecules: molecule_ids.len(),
            n_reactions: reaction_ids.len(),
        };
        let Tables { n_atoms, atom_offset, hessian_offset, split, kind, molecule_index, reaction_index } =
            Tables::check(&ctx, raw, &extents)?;
        Ok(Dataset {
            path: path.to_path_buf(),
            file,
            layout,
            level_of_theory,
            n_atoms,
            atom_offset,
            hessian_offset,
            energy,
            split,
            kind,
            molecule_index,
            reaction_index,
            split_names,
            kind_names,
            molecule_ids,
            molecule_smiles,
            reaction_ids,
            reaction_classes,
            total_atoms,
            total_hessian,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.n_atoms.len()
    }

    /// `true` when the file holds no sample.
    pub fn is_empty(&self) -> bool {
        self.n_atoms.is_empty()
    }

    /// Atoms of sample `i`.
    pub fn n_atoms(&self, i: usize) -> usize {
        self.n_atoms[i]
    }

    /// Split name of sample `i`.
    pub fn split_of(&self, i: usize) -> &str {
        &self.split_names[self.split[i]]
    }

    /// Kind name of sample `i`.
    pub fn kind_of(&self, i: usize) -> &str {
        &self.kind_names[self.kind[i]]
    }

    /// Molecule index of sample `i` (into `molecule_ids`).
    pub fn molecule_index_of(&self, i: usize) -> usize {
        self.molecule_index[i]
    }

    /// Reaction index of sample `i`.
    pub fn reaction_index_of(&self, i: usize) -> Option<usize> {
        self.reaction_index[i]
    }

    /// Energy of sample `i` (eV), without reading anything.
    pub fn energy_of(&self, i: usize) -> f64 {
        self.energy[i]
    }

    /// Indices of the samples in a split.
    pub fn indices_in_split(&self, split: &str) -> Vec<usize> {
        (0..self.len()).filter(|&i| self.split_of(i) == split).collect()
    }

    /// Stored atom and Hessian-value counts.
    pub fn totals(&self) -> (usize, usize) {
        (self.total_atoms, self.total_hessian)
    }

    /// Hessian storage.
    pub fn layout(&self) -> HessianLayout {
        self.layout
    }

    fn err(&self, i: usize, msg: impl std::fmt::Display) -> Error {
        Error::invalid(format!("{}: sample {i}", self.path.display()), msg.to_string())
    }

    fn read_range<T: hdf5::H5Type + Clone>(&self, name: &str, r: Range<usize>) -> Result<Vec<T>> {
        let ds = self.file.dataset(name).map_err(h5err(&self.path, name))?;
        Ok(ds.read_slice_1d::<T, _>(r).map_err(h5err(&self.path, name))?.to_vec())
    }

    fn read_rows3(&self, name: &str, r: Range<usize>) -> Result<Vec<[f64; 3]>> {
        let ds = self.file.dataset(name).map_err(h5err(&self.path, name))?;
        let a = ds.read_slice_2d::<f64, _>((r, ..)).map_err(h5err(&self.path, name))?;
        Ok(a.rows().into_iter().map(|row| [row[0], row[1], row[2]]).collect())
    }

    /// Reads sample `i`, checking that its values are usable (finite, known elements, Hessian
    /// symmetric within [`SYMMETRY_TOLERANCE`] for full storage).
    pub fn sample(&self, i: usize) -> Result<Sample> {
        if i >= self.len() {
            return Err(Error::invalid(
                self.path.display().to_string(),
                format!("sample {i} does not exist ({} samples)", self.len()),
            ));
        }
        let n = self.n_atoms[i];
        let a = self.atom_offset[i]..self.atom_offset[i] + n;
        let numbers: Vec<i64> = self.read_range("atomic_numbers", a.clone())?;
        let numbers: Vec<u8> = numbers
            .into_iter()
            .enumerate()
            .map(|(k, z)| {
                u8::try_from(z)
                    .ok()
                    .filter(|&z| elements::symbol(z).is_ok())
                    .ok_or_else(|| self.err(i, format!("atom {k} has unknown atomic number {z}")))
            })
            .collect::<Result<_>>()?;
        let positions = self.read_rows3("positions", a.clone())?;
        let forces = self.read_rows3("forces", a)?;
        for (what, v) in [("positions", &positions), ("forces", &forces)] {
            if let Some(k) = v.iter().position(|p| p.iter().any(|x| !x.is_finite())) {
                return Err(self.err(i, format!("{what} of atom {k} are not finite: {:?}", v[k])));
            }
        }
        if !self.energy[i].is_finite() {
            return Err(self.err(i, format!("energy is not finite ({})", self.energy[i])));
        }
        let h0 = self.hessian_offset[i];
        let raw: Vec<f64> = self.read_range(self.layout.dataset(), h0..h0 + self.layout.len(n))?;
        if let Some(k) = raw.iter().position(|x| !x.is_finite()) {
            return Err(self.err(i, format!("Hessian value {k} is not finite ({})", raw[k])));
        }
        let d = 3 * n;
        let full = match self.layout {
            HessianLayout::Full => raw,
            HessianLayout::UpperTriangle => unpack_upper(&raw, d),
        };
        let hessian = Hessian::from_vec(n, full).map_err(|e| self.err(i, e))?;
        if self.layout == HessianLayout::Full {
            let asym = hessian.max_asymmetry();
            if asym > SYMMETRY_TOLERANCE {
                return Err(self.err(
                    i,
                    format!("Hessian is not symmetric: max |H - Hᵀ| = {asym:.3e} eV/Å² > {SYMMETRY_TOLERANCE:e}"),
                ));
            }
        }
        let molecule = Molecule { numbers, positions, charge: 0, multiplicity: 1 };
        molecule.validate().map_err(|e| self.err(i, e))?;
        Ok(Sample {
            index: i,
            molecule,
            energy: self.energy[i],
            forces,
            hessian,
            split: self.split_of(i).to_string(),
            kind: self.kind_of(i).to_string(),
            molecule_id: self.molecule_ids[self.molecule_index[i]].clone(),
            reaction_id: self.reaction_index[i].map(|r| self.reaction_ids[r].clone()),
        })
    }

    /// Iterates over all samples in file order.
    pub fn iter(&self) -> impl Iterator<Item = Result<Sample>> + '_ {
        (0..self.len()).map(|i| self.sample(i))
    }

    /// Reads and checks every sample; returns the first problem.
    pub fn validate(&self) -> Result<()> {
        for i in 0..self.len() {
            self.sample(i)?;
        }
        Ok(())
    }

    /// Summary statistics (no per-sample reads beyond the atomic numbers).
    pub fn info(&self) -> Result<Info> {
        let mut by_split = BTreeMap::new();
        let mut by_kind = BTreeMap::new();
        for i in 0..self.len() {
            *by_split.entry(self.split_of(i).to_string()).or_insert(0) += 1;
            *by_kind.entry(self.kind_of(i).to_string()).or_insert(0) += 1;
        }
        let numbers: Vec<i64> = self.read_range("atomic_numbers", 0..self.total_atoms)?;
        let mut by_element = BTreeMap::new();
        for z in numbers {
            let sym = u8::try_from(z).ok().and_then(|z| elements::symbol(z).ok()).unwrap_or("?");
            *by_element.entry(sym.to_string()).or_insert(0) += 1;
        }
        let (min, max) =
            (self.n_atoms.iter().copied().min().unwrap_or(0), self.n_atoms.iter().copied().max().unwrap_or(0));
        let mean = self.n_atoms.iter().sum::<usize>() as f64 / self.len().max(1) as f64;
        let molecules_used: std::collections::BTreeSet<usize> = self.molecule_index.iter().copied().collect();
        Ok(Info {
            path: self.path.display().to_string(),
            n_samples: self.len(),
            level_of_theory: self.level_of_theory.clone(),
            n_molecules: molecules_used.len(),
            n_reactions: self.reaction_ids.len(),
            by_split,
            by_kind,
            atoms_by_element: by_element,
            atoms_min: min,
            atoms_mean: mean,
            atoms_max: max,
            hessian_layout: format!("{:?}", self.layout),
            file_size_bytes: std::fs::metadata(&self.path).map(|m| m.len()).unwrap_or(0),
        })
    }
}

/// Writes a dataset in the same format (for predictions and conversions). Samples are collected
/// in memory and written by [`write_dataset`].
pub fn write_dataset(
    path: &Path,
    level_of_theory: &str,
    records: &[Record],
    layout: HessianLayout,
    provenance: &str,
) -> Result<()> {
    let ctx = path.display().to_string();
    let mut mol_ids: Vec<String> = Vec::new();
    let mut mol_smiles: Vec<String> = Vec::new();
    let mut rxn_ids: Vec<String> = Vec::new();
    let (mut n_atoms, mut atom_offset, mut hess_offset) = (Vec::new(), Vec::new(), Vec::new());
    let (mut numbers, mut positions, mut forces, mut energy, mut hess) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut split, mut kind, mut mol_index, mut rxn_index, mut residual) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (i, r) in records.iter().enumerate() {
        r.molecule.validate().map_err(|e| e.in_context(&format!("{ctx}: record {i}")))?;
        let n = r.molecule.len();
        if r.forces.len() != n || r.hessian.n_atoms() != n {
            return Err(Error::invalid(
                &ctx,
                format!(
                    "record {i}: {n} atoms but {} forces and a Hessian for {} atoms",
                    r.forces.len(),
                    r.hessian.n_atoms()
                ),
            ));
        }
        let s = SPLIT_NAMES
            .iter()
            .position(|s| *s == r.split)
            .ok_or_else(|| Error::invalid(&ctx, format!("record {i}: unknown split \"{}\"", r.split)))?;
        let k = KIND_NAMES
            .iter()
            .position(|s| *s == r.kind)
            .ok_or_else(|| Error::invalid(&ctx, format!("record {i}: unknown kind \"{}\"", r.kind)))?;
        let m = match mol_ids.iter().position(|m| *m == r.molecule_id) {
            Some(m) => m,
            None => {
                mol_ids.push(r.molecule_id.clone());
                mol_smiles.push(r.smiles.clone());
                mol_ids.len() - 1
            }
        };
        let rx = r.reaction_id.as_ref().map(|id| match rxn_ids.iter().position(|x| x == id) {
            Some(p) => p as i64,
            None => {
                rxn_ids.push(id.clone());
                rxn_ids.len() as i64 - 1
            }
        });
        n_atoms.push(n as i64);
        atom_offset.push(numbers.len() as i64);
        hess_offset.push(hess.len() as i64);
        numbers.extend(r.molecule.numbers.iter().map(|&z| z as i64));
        positions.extend(r.molecule.positions.iter().flatten().copied());
        forces.extend(r.forces.iter().flatten().copied());
        energy.push(r.energy);
        let d = 3 * n;
        match layout {
            HessianLayout::Full => hess.extend(r.hessian.as_slice().iter().map(|&x| x as f32)),
            HessianLayout::UpperTriangle => {
                hess.extend(pack_upper(r.hessian.symmetrized().as_slice(), d).into_iter().map(|x| x as f32))
            }
        }
        split.push(s as i64);
        kind.push(k as i64);
        mol_index.push(m as i64);
        rxn_index.push(rx.unwrap_or(-1));
        residual.push(r.hessian.acoustic_sum_rule_residual());
    }
    let tmp = path.with_extension("h5.tmp");
    let e = |what: &'static str| {
        move |err: hdf5::Error| Error::invalid(path.display().to_string(), format!("writing {what}: {err}"))
    };
    {
        let f = hdf5::File::create(&tmp).map_err(e("file"))?;
        let sattr = |name: &'static str, v: &str| -> Result<()> {
            let v: VarLenUnicode =
                v.parse().map_err(|_| Error::invalid(&ctx, format!("attribute {name} is not valid text")))?;
            f.new_attr::<VarLenUnicode>().create(name).and_then(|a| a.write_scalar(&v)).map_err(e(name))
        };
        sattr("format_name", FORMAT_NAME)?;
        f.new_attr::<i64>()
            .create("format_version")
            .and_then(|a| a.write_scalar(&FORMAT_VERSION))
            .map_err(e("format_version"))?;
        sattr("level_of_theory", level_of_theory)?;
        sattr(
            "units",
            r#"{"positions": "Angstrom", "energy": "eV", "forces": "eV/Angstrom", "hessian": "eV/Angstrom^2"}"#,
        )?;
        sattr("split_names", r#"["train", "val", "test"]"#)?;
        sattr("kind_names", r#"["minimum", "thermal", "displaced", "ts", "path"]"#)?;
        sattr("generator", provenance)?;
        let ints = |name: &'static str, v: &[i64]| {
            f.new_dataset_builder().with_data(v).create(name).map(|_| ()).map_err(e(name))
        };
        ints("n_atoms", &n_atoms)?;
        ints("atom_offset", &atom_offset)?;
        ints("hessian_offset", &hess_offset)?;
        ints("atomic_numbers", &numbers)?;
        ints("split", &split)?;
        ints("kind", &kind)?;
        ints("molecule_index", &mol_index)?;
        ints("reaction_index", &rxn_index)?;
        let floats = |name: &'static str, v: &[f64]| {
            f.new_dataset_builder().with_data(v).create(name).map(|_| ()).map_err(e(name))
        };
        floats("energy", &energy)?;
        floats("sum_rule_residual", &residual)?;
        for (name, v) in [("positions", &positions), ("forces", &forces)] {
            let ds = f.new_dataset::<f64>().shape((v.len() / 3, 3)).create(name).map_err(e("positions/forces"))?;
            ds.write_raw(v.as_slice()).map_err(e("positions/forces"))?;
        }
        f.new_dataset_builder().with_data(&hess).create(layout.dataset()).map_err(e("hessian"))?;
        let strings = |name: &'static str, v: &[String]| -> Result<()> {
            let v: Vec<VarLenUnicode> = v.iter().map(|s| s.parse().unwrap_or_default()).collect();
            f.new_dataset_builder().with_data(&v).create(name).map(|_| ()).map_err(e(name))
        };
        strings("molecule_id", &mol_ids)?;
        strings("molecule_smiles", &mol_smiles)?;
        strings("reaction_id", &rxn_ids)?;
    }
    std::fs::rename(&tmp, path).map_err(|err| Error::io(path, err))
}
