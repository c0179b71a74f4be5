//! # hip_rs — Python bindings of hip-rs
//!
//! The extension module `hip_rs._hip_rs`; the Python package `hip_rs` (`python/hip_rs`) re-exports
//! it and adds the ASE calculator (`hip_rs.ase`). Units: Å, eV, eV/Å, eV/Å², amu, cm⁻¹.
//!
//! - [`PyModel`] (`hip_rs.Model`): energies, forces and Hessians of one molecule or a batch;
//! - [`vibrations`] (`hip_rs.vibrations`): the harmonic analysis of `hip freq`;
//! - [`PyGfn2`] (`hip_rs.Gfn2`): GFN2-xTB (tblite, loaded at run time), the models' reference level;
//! - [`reaction`] (`hip_rs.reaction`): `hip reaction`'s pipeline on a `Model` or on `Gfn2`.
//!
//! Inputs are anything numpy converts (`numbers`: `(N,)` atomic numbers, `positions`: `(N, 3)`
//! Å); outputs are float64 numpy arrays. Every error of the Rust side becomes a Python exception
//! with the same one-line message: `ValueError` for bad input (shapes, elements, NaN, unknown
//! method), `OSError` for files, `RuntimeError` for failures inside the model. Model-domain
//! warnings (atoms closer than in the training data, atoms without neighbours) are Python
//! `UserWarning`s. The GIL is released while the model runs.

use std::ffi::CString;
use std::path::PathBuf;

use hip_core::{Hessian, MassConvention, Molecule};
use hip_model::{HessianMethod, HipModel};
use hip_tasks::Vibrations;
use numpy::ndarray::{Array1, Array2, Array3};
use numpy::{AllowTypeChange, IntoPyArray, PyArray2, PyArrayLikeDyn, PyUntypedArrayMethods};
use pyo3::exceptions::{PyFileNotFoundError, PyOSError, PyRuntimeError, PyUserWarning, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

/// A hip-core error as a Python exception: files → `OSError`, everything else → `ValueError`.
fn core_err(e: hip_core::Error) -> PyErr {
    match &e {
        hip_core::Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            PyFileNotFoundError::new_err(e.to_string())
        }
        hip_core::Error::Io { .. } => PyOSError::new_err(e.to_string()),
        _ => PyValueError::new_err(e.to_string()),
    }
}

/// A hip-model error as a Python exception: input and checkpoint problems → `ValueError` (or
/// `OSError` for files), tensor failures and a disabled second-order autodiff → `RuntimeError`.
fn model_err(e: hip_model::Error) -> PyErr {
    match e {
        hip_model::Error::Core(c) => core_err(c),
        hip_model::Error::Input(_) | hip_model::Error::Checkpoint(_) => PyValueError::new_err(e.to_string()),
        _ => PyRuntimeError::new_err(e.to_string()),
    }
}

/// A float64 numpy matrix.
type Matrix<'py> = Bound<'py, PyArray2<f64>>;

/// A shape as Python prints it: `(3, 3)`, `(9,)`.
fn shape_str(shape: &[usize]) -> String {
    match shape {
        [n] => format!("({n},)"),
        _ => format!("({})", shape.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", ")),
    }
}

/// `numbers` `(N,)` and `positions` `(N, 3)` → a checked [`Molecule`].
fn molecule(
    numbers: &PyArrayLikeDyn<'_, f64, AllowTypeChange>,
    positions: &PyArrayLikeDyn<'_, f64, AllowTypeChange>,
) -> PyResult<Molecule> {
    if numbers.ndim() != 1 {
        return Err(PyValueError::new_err(format!(
            "numbers: expected a 1-d array of atomic numbers, got shape {}",
            shape_str(numbers.shape())
        )));
    }
    let n = numbers.len();
    if positions.shape() != [n, 3] {
        return Err(PyValueError::new_err(format!(
            "positions: expected shape ({n}, 3) (x, y, z in Å for each of the {n} atoms), got {}",
            shape_str(positions.shape())
        )));
    }
    let mut z = Vec::with_capacity(n);
    for (i, &v) in numbers.as_array().iter().enumerate() {
        if !(v.fract() == 0.0 && (1.0..=255.0).contains(&v)) {
            return Err(PyValueError::new_err(format!("numbers: atom {i} has atomic number {v}, not a known element")));
        }
        z.push(v as u8);
    }
    let xyz: Vec<f64> = positions.as_array().iter().copied().collect();
    let pos = xyz.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect();
    Molecule::new(z, pos).map_err(core_err)
}

/// A row-major `rows × cols` float64 array.
fn matrix(py: Python<'_>, rows: usize, cols: usize, data: Vec<f64>) -> PyResult<Matrix<'_>> {
    let a = Array2::from_shape_vec((rows, cols), data).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    Ok(a.into_pyarray(py))
}

fn forces_array<'py>(py: Python<'py>, forces: &[[f64; 3]]) -> PyResult<Matrix<'py>> {
    matrix(py, forces.len(), 3, forces.iter().flatten().copied().collect())
}

fn hessian_array(py: Python<'_>, h: Hessian) -> PyResult<Matrix<'_>> {
    let d = h.dim();
    matrix(py, d, d, h.into_vec())
}

/// Emits each message as a Python `UserWarning`.
fn warn_all(py: Python<'_>, messages: &[String]) -> PyResult<()> {
    let category = py.get_type::<PyUserWarning>();
    for m in messages {
        let text = CString::new(m.replace('\0', " ")).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        PyErr::warn(py, category.as_any(), &text, 2)?;
    }
    Ok(())
}

/// A trained HIP model: energies (eV), forces (eV/Å) and Hessians (eV/Å², `(3N, 3N)`, row-major
/// over (atom, xyz)) of molecules in vacuum, on the CPU in float64.
#[derive(Debug)]
#[pyclass(name = "Model", module = "hip_rs", frozen)]
pub struct PyModel {
    inner: std::sync::Arc<HipModel>,
    source: String,
}

impl PyModel {
    /// The molecule, checked against the model's domain (coincident atoms → `ValueError`,
    /// warnings → `UserWarning`).
    fn checked(
        &self,
        py: Python<'_>,
        numbers: &PyArrayLikeDyn<'_, f64, AllowTypeChange>,
        positions: &PyArrayLikeDyn<'_, f64, AllowTypeChange>,
    ) -> PyResult<Molecule> {
        let mol = molecule(numbers, positions)?;
        let warnings = hip_core::domain::check(&mol, self.inner.config.cutoff).map_err(core_err)?;
        warn_all(py, &warnings)?;
        Ok(mol)
    }

    /// A structure of `hessians`: a `(numbers, positions)` pair or an object with
    /// `get_atomic_numbers()` and `get_positions()` (an ASE `Atoms`).
    fn structure(&self, py: Python<'_>, k: usize, item: &Bound<'_, PyAny>) -> PyResult<Molecule> {
        let (numbers, positions) = if item.hasattr("get_atomic_numbers")? {
            (item.call_method0("get_atomic_numbers")?, item.call_method0("get_positions")?)
        } else {
            let t = item.cast::<PyTuple>().map_err(|_| {
                PyValueError::new_err(format!("structures[{k}]: expected a (numbers, positions) pair or an ASE Atoms"))
            })?;
            if t.len() != 2 {
                return Err(PyValueError::new_err(format!(
                    "structures[{k}]: expected a (numbers, positions) pair, got {} items",
                    t.len()
                )));
            }
            (t.get_item(0)?, t.get_item(1)?)
        };
        let numbers: PyArrayLikeDyn<'_, f64, AllowTypeChange> = numbers.extract()?;
        let positions: PyArrayLikeDyn<'_, f64, AllowTypeChange> = positions.extract()?;
        self.checked(py, &numbers, &positions)
            .map_err(|e| PyValueError::new_err(format!("structures[{k}]: {}", e.value(py))))
    }
}

fn parse_method(method: &str) -> PyResult<HessianMethod> {
    method.parse().map_err(model_err)
}

#[pymethods]
impl PyModel {
    /// Loads a checkpoint (`.safetensors` written by `hip train`), or the default model embedded
    /// in the package when `path` is None, onto `device` ("cpu", "cuda", "cuda:N"; default: the
    /// `HIP_DEVICE` environment variable, else the CPU) in `dtype` ("f64" or "f32": the network's
    /// precision; inputs and outputs stay float64).
    #[staticmethod]
    #[pyo3(signature = (path=None, device=None, dtype="f64"))]
    fn load(py: Python<'_>, path: Option<PathBuf>, device: Option<String>, dtype: &str) -> PyResult<Self> {
        if let Some(p) = &path
            && !p.exists()
        {
            return Err(PyFileNotFoundError::new_err(format!("{}: no such model file", p.display())));
        }
        let precision: hip_model::Precision = dtype.parse().map_err(model_err)?;
        let device = hip_model::compute::device(device.as_deref()).map_err(model_err)?;
        let source = path.as_ref().map_or("embedded default model".to_string(), |p| p.display().to_string());
        let inner = py
            .detach(|| hip_model::default_model::load(path.as_deref())?.to(&device, precision.dtype()))
            .map_err(model_err)?;
        Ok(PyModel { inner: std::sync::Arc::new(inner), source })
    }

    /// Atomic numbers the model was trained on.
    #[getter]
    fn species(&self) -> Vec<u8> {
        self.inner.config.species.clone()
    }

    /// Interaction cutoff of the backbone, Å.
    #[getter]
    fn cutoff(&self) -> f64 {
        self.inner.config.cutoff
    }

    /// Energy (eV) and forces (`(N, 3)`, eV/Å).
    fn energy_forces<'py>(
        &self,
        py: Python<'py>,
        numbers: PyArrayLikeDyn<'py, f64, AllowTypeChange>,
        positions: PyArrayLikeDyn<'py, f64, AllowTypeChange>,
    ) -> PyResult<(f64, Matrix<'py>)> {
        let mol = self.checked(py, &numbers, &positions)?;
        let (e, f) = py.detach(|| self.inner.predict_energy_forces(&mol)).map_err(model_err)?;
        Ok((e, forces_array(py, &f)?))
    }

    /// The Hessian, `(3N, 3N)` eV/Å², by `method`: `"direct"` (the HIP head, one forward pass),
    /// `"autodiff"` (second derivatives of the energy) or `"fd"` (central differences of forces,
    /// 0.01 Å). With `mode_probes = k > 0`, refined along its `k` lowest modes by the model's own
    /// Hessian-vector products (2 force calls each): where a direct Hessian is least reliable
    /// (the soft modes, the reaction mode at a TS), the curvature becomes the surface's — what a
    /// saddle search such as Sella needs to converge to a first-order saddle.
    #[pyo3(signature = (numbers, positions, method="direct", mode_probes=0))]
    fn hessian<'py>(
        &self,
        py: Python<'py>,
        numbers: PyArrayLikeDyn<'py, f64, AllowTypeChange>,
        positions: PyArrayLikeDyn<'py, f64, AllowTypeChange>,
        method: &str,
        mode_probes: i64,
    ) -> PyResult<Matrix<'py>> {
        let method = parse_method(method)?;
        let probes = usize::try_from(mode_probes)
            .map_err(|_| PyValueError::new_err(format!("mode_probes = {mode_probes}: need a count >= 0")))?;
        let mol = self.checked(py, &numbers, &positions)?;
        let h = if probes == 0 {
            py.detach(|| self.inner.hessian(&mol, method)).map_err(model_err)?
        } else {
            let pot = hip_model::ModelPotential { model: self.inner.clone(), method };
            py.detach(|| {
                let refined = hip_tasks::optimize::probe::ProbeRefined { inner: &pot, probes };
                hip_core::Potential::hessian(&refined, &mol)
            })
            .map_err(core_err)?
        };
        hessian_array(py, h)
    }

    /// Energy, forces and Hessian from one call: `(energy, forces (N, 3), hessian (3N, 3N))`.
    #[pyo3(signature = (numbers, positions, method="direct"))]
    fn predict<'py>(
        &self,
        py: Python<'py>,
        numbers: PyArrayLikeDyn<'py, f64, AllowTypeChange>,
        positions: PyArrayLikeDyn<'py, f64, AllowTypeChange>,
        method: &str,
    ) -> PyResult<(f64, Matrix<'py>, Matrix<'py>)> {
        let method = parse_method(method)?;
        let mol = self.checked(py, &numbers, &positions)?;
        let p = py.detach(|| self.inner.predict(&mol, method)).map_err(model_err)?;
        Ok((p.energy, forces_array(py, &p.forces)?, hessian_array(py, p.hessian)?))
    }

    /// Direct Hessians of many molecules in **one batched forward pass**: `structures` is a list
    /// of `(numbers, positions)` pairs or ASE `Atoms`; the result is a list of `(3N, 3N)` arrays
    /// in the same order.
    fn hessians<'py>(&self, py: Python<'py>, structures: &Bound<'py, PyAny>) -> PyResult<Vec<Matrix<'py>>> {
        let mut mols = Vec::new();
        for (k, item) in structures.try_iter()?.enumerate() {
            mols.push(self.structure(py, k, &item?)?);
        }
        let refs: Vec<&Molecule> = mols.iter().collect();
        let hs = py.detach(|| self.inner.hessians_direct(&refs)).map_err(model_err)?;
        hs.into_iter().map(|h| hessian_array(py, h)).collect()
    }

    /// For the overhead benchmark (`crates/hip-py/bench/overhead.py`): seconds of each of
    /// `repeats` calls of the Rust `HipModel::hessian` (`what="hessian"`) or `predict`
    /// (`what="predict"`) on an already converted molecule, timed inside Rust — what the `hip`
    /// binary spends in-process on the same call.
    #[pyo3(signature = (numbers, positions, method="direct", what="hessian", repeats=1))]
    fn _rust_seconds<'py>(
        &self,
        py: Python<'py>,
        numbers: PyArrayLikeDyn<'py, f64, AllowTypeChange>,
        positions: PyArrayLikeDyn<'py, f64, AllowTypeChange>,
        method: &str,
        what: &str,
        repeats: usize,
    ) -> PyResult<Vec<f64>> {
        let method = parse_method(method)?;
        let mol = self.checked(py, &numbers, &positions)?;
        let predict = match what {
            "hessian" => false,
            "predict" => true,
            _ => return Err(PyValueError::new_err(format!("what: \"{what}\" (hessian, predict)"))),
        };
        py.detach(|| {
            (0..repeats)
                .map(|_| {
                    let t = std::time::Instant::now();
                    if predict {
                        self.inner.predict(&mol, method).map(|_| ())?;
                    } else {
                        self.inner.hessian(&mol, method).map(|_| ())?;
                    }
                    Ok(t.elapsed().as_secs_f64())
                })
                .collect::<hip_model::Result<Vec<f64>>>()
        })
        .map_err(model_err)
    }

    fn __repr__(&self) -> String {
        let c = &self.inner.config;
        format!(
            "hip_rs.Model({}: species {:?}, cutoff {} Å, {} parameters)",
            self.source,
            c.species,
            c.cutoff,
            self.inner.params.numel()
        )
    }
}

/// Harmonic analysis of a Hessian (eV/Å², `(3N, 3N)`) at a geometry: the numbers `hip freq`
/// prints. Returns a dict with `frequencies_cm` (ascending, imaginary as negative), `modes`
/// (`(n_modes, N, 3)`, Cartesian displacements, PySCF's normalization), `reduced_masses_amu`,
/// `eigenvalues` (eV/(Å² amu)), `zpe_ev`, `zpe_kcal_mol`, `n_imaginary`, `classification`
/// (`atom`, `minimum`, `transition_state`, `higher_order_saddle`), `rotor`, `masses_amu`.
/// `masses`: `iupac` (default; PySCF's thermo), `paper` or `isotope`; modes below `threshold`
/// cm⁻¹ count as imaginary.
#[pyfunction]
#[pyo3(signature = (numbers, positions, hessian, masses="iupac", threshold=hip_tasks::DEFAULT_IMAGINARY_THRESHOLD_CM))]
fn vibrations<'py>(
    py: Python<'py>,
    numbers: PyArrayLikeDyn<'py, f64, AllowTypeChange>,
    positions: PyArrayLikeDyn<'py, f64, AllowTypeChange>,
    hessian: PyArrayLikeDyn<'py, f64, AllowTypeChange>,
    masses: &str,
    threshold: f64,
) -> PyResult<Bound<'py, PyDict>> {
    let mol = molecule(&numbers, &positions)?;
    let n = mol.len();
    let shape = hessian.shape().to_vec();
    if shape.len() != 2 {
        return Err(PyValueError::new_err(format!(
            "hessian: expected shape ({d}, {d}) for {n} atoms, got {}",
            shape_str(&shape),
            d = 3 * n
        )));
    }
    let data: Vec<f64> = hessian.as_array().iter().copied().collect();
    let h = Hessian::from_shape(n, shape[0], shape[1], data).map_err(core_err)?;
    let convention: MassConvention = masses.parse().map_err(core_err)?;
    let m = mol.masses(convention).map_err(core_err)?;
    let vib = py.detach(|| Vibrations::new(&mol, &h, &m)).map_err(core_err)?;
    let zpe = vib.zpe_ev();
    let n_modes = vib.frequencies_cm.len();
    let modes: Vec<f64> = vib.modes.iter().flatten().copied().collect();
    let modes = Array3::from_shape_vec((n_modes, n, 3), modes).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    let d = PyDict::new(py);
    d.set_item("frequencies_cm", Array1::from(vib.frequencies_cm.clone()).into_pyarray(py))?;
    d.set_item("modes", modes.into_pyarray(py))?;
    d.set_item("reduced_masses_amu", Array1::from(vib.reduced_masses.clone()).into_pyarray(py))?;
    d.set_item("eigenvalues", Array1::from(vib.eigenvalues.clone()).into_pyarray(py))?;
    d.set_item("zpe_ev", zpe)?;
    d.set_item("zpe_kcal_mol", zpe * hip_core::units::EV_KCAL_MOL)?;
    d.set_item("n_imaginary", vib.n_imaginary(threshold))?;
    d.set_item("classification", vib.classify(threshold).as_str())?;
    d.set_item("rotor", rotor_name(vib.rotor))?;
    d.set_item("masses_amu", Array1::from(m).into_pyarray(py))?;
    d.set_item("mass_convention", masses)?;
    d.set_item("imaginary_threshold_cm", threshold)?;
    Ok(d)
}

fn rotor_name(r: hip_tasks::RotorType) -> &'static str {
    match r {
        hip_tasks::RotorType::Atom => "atom",
        hip_tasks::RotorType::Linear => "linear",
        hip_tasks::RotorType::Nonlinear => "nonlinear",
    }
}

/// GFN2-xTB (through tblite's C library, found as `hip --potential gfn2` finds it): energies (eV),
/// forces (eV/Å) and finite-difference Hessians (eV/Å²) of neutral closed-shell molecules; one
/// thread, bitwise reproducible.
#[derive(Debug, Default)]
#[pyclass(name = "Gfn2", module = "hip_rs", frozen)]
pub struct PyGfn2 {
    inner: hip_xtb::Gfn2,
}

#[pymethods]
impl PyGfn2 {
    /// Loads tblite (`RuntimeError` naming what was tried when it cannot).
    #[new]
    fn new() -> PyResult<Self> {
        hip_xtb::available().map_err(PyRuntimeError::new_err)?;
        Ok(PyGfn2::default())
    }

    /// Energy (eV) and forces (`(N, 3)`, eV/Å).
    fn energy_forces<'py>(
        &self,
        py: Python<'py>,
        numbers: PyArrayLikeDyn<'py, f64, AllowTypeChange>,
        positions: PyArrayLikeDyn<'py, f64, AllowTypeChange>,
    ) -> PyResult<(f64, Matrix<'py>)> {
        let mol = molecule(&numbers, &positions)?;
        let ef = py.detach(|| hip_core::Potential::energy_forces(&self.inner, &mol)).map_err(core_err)?;
        Ok((ef.energy, forces_array(py, &ef.forces)?))
    }

    /// The Hessian, `(3N, 3N)` eV/Å², by central differences of gradients (0.005 Bohr).
    fn hessian<'py>(
        &self,
        py: Python<'py>,
        numbers: PyArrayLikeDyn<'py, f64, AllowTypeChange>,
        positions: PyArrayLikeDyn<'py, f64, AllowTypeChange>,
    ) -> PyResult<Matrix<'py>> {
        let mol = molecule(&numbers, &positions)?;
        let h = py.detach(|| hip_core::Potential::hessian(&self.inner, &mol)).map_err(core_err)?;
        hessian_array(py, h)
    }

    fn __repr__(&self) -> String {
        match hip_xtb::library() {
            Ok((v, path)) => format!("hip_rs.Gfn2(tblite {}.{}.{} at {path})", v / 10000, v / 100 % 100, v % 100),
            Err(e) => format!("hip_rs.Gfn2(unavailable: {e})"),
        }
    }
}

/// `hip reaction`'s pipeline from `reactant` to `product` (`(N, 3)` Å each, same atoms in the same
/// order): relax both ends, IDPP band, climbing-image NEB, RS-P-RFO from the climbing image with
/// the potential's Hessian every step (`mode_probes` > 0: corrected by that many measured
/// curvatures), frequency check, IRC both ways, ends graded against R and P. `potential`: a
/// `Model` (Hessians by `method`) or `Gfn2`. Returns a dict: `ts_success`, `intended`,
/// `ts_positions` (`(N, 3)`), `ts_energy`, `ts_steps`, `ts_converged`, `n_imaginary` (by the
/// search's Hessian), `neb_converged`, `band_energies`, `irc_ends` (forward, reverse:
/// `reactant`/`product`/`other`), and `summary` (the JSON of `hip reaction --json`, as a string).
#[pyfunction]
#[pyo3(signature = (numbers, reactant, product, potential, method="direct", mode_probes=0))]
fn reaction<'py>(
    py: Python<'py>,
    numbers: PyArrayLikeDyn<'py, f64, AllowTypeChange>,
    reactant: PyArrayLikeDyn<'py, f64, AllowTypeChange>,
    product: PyArrayLikeDyn<'py, f64, AllowTypeChange>,
    potential: &Bound<'py, PyAny>,
    method: &str,
    mode_probes: usize,
) -> PyResult<Bound<'py, PyDict>> {
    let r = molecule(&numbers, &reactant)?;
    let p = molecule(&numbers, &product)?;
    hip_core::io::reaction::check_pair(&r, &p, "reaction").map_err(core_err)?;
    let mut opts = hip_tasks::reaction::pipeline::PipelineOptions::default();
    opts.ts.mode_probes = mode_probes;
    let out = if let Ok(m) = potential.cast::<PyModel>() {
        let model = m.get();
        for mol in [&r, &p] {
            warn_all(py, &hip_core::domain::check(mol, model.inner.config.cutoff).map_err(core_err)?)?;
        }
        let method = parse_method(method)?;
        let pot = hip_model::ModelPotential { model: model.inner.clone(), method };
        py.detach(|| hip_tasks::reaction::pipeline::run(&pot, &r, &p, &opts))
    } else if let Ok(g) = potential.cast::<PyGfn2>() {
        if method != "direct" {
            return Err(PyValueError::new_err("method applies to a Model; Gfn2's Hessian is finite differences"));
        }
        let g = g.get();
        py.detach(|| hip_tasks::reaction::pipeline::run(&g.inner, &r, &p, &opts))
    } else {
        return Err(PyValueError::new_err("potential: expected a hip_rs.Model or a hip_rs.Gfn2"));
    }
    .map_err(core_err)?;
    let d = PyDict::new(py);
    d.set_item("ts_success", out.ts_success)?;
    d.set_item("intended", out.intended)?;
    d.set_item("ts_positions", forces_array(py, &out.ts.molecule.positions)?)?;
    d.set_item("ts_energy", out.ts.energy)?;
    d.set_item("ts_steps", out.ts.steps)?;
    d.set_item("ts_converged", out.ts.converged)?;
    d.set_item("n_imaginary", out.ts.final_point.as_ref().map(|f| f.n_imaginary))?;
    d.set_item("neb_converged", out.neb.converged)?;
    d.set_item("band_energies", Array1::from(out.neb.energies.clone()).into_pyarray(py))?;
    let end = |e: hip_tasks::reaction::pipeline::EndMatch| {
        serde_json::to_value(e).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
    };
    d.set_item("irc_ends", out.ends.map(|[f, r]| (end(f), end(r))))?;
    d.set_item("summary", serde_json::to_string(&out).map_err(|e| PyRuntimeError::new_err(e.to_string()))?)?;
    Ok(d)
}

/// The extension module.
#[pymodule]
fn _hip_rs(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyModel>()?;
    m.add_class::<PyGfn2>()?;
    m.add_function(wrap_pyfunction!(reaction, m)?)?;
    m.add_function(wrap_pyfunction!(vibrations, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("DEFAULT_IMAGINARY_THRESHOLD_CM", hip_tasks::DEFAULT_IMAGINARY_THRESHOLD_CM)?;
    Ok(())
}
