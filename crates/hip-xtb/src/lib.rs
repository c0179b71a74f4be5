//! GFN2-xTB (Bannwarth, Ehlert & Grimme, JCTC 15, 1652 (2019)) as a [`hip_core::Potential`]:
//! the level of theory the shipped models are trained on, run in-process from tblite's C library.
//!
//! - energy and forces: one tblite singlepoint (tblite's C API; the library of the PyPI wheel
//!   `tblite==0.8.0` that made the datasets, loaded at run time by `ffi`, which also says why not
//!   Debian's libxtb), so a machine without it gets one clear error;
//! - Hessian: central differences of analytic gradients (step 0.005 Bohr, as the datasets'
//!   generator), every displaced SCF restarted from the reference wavefunction, symmetrized.
//!
//! What it is for: the models' own reference level beside the models in every tool
//! (`--potential gfn2`), the ceiling of a model trained on GFN2-xTB data in `hip bench
//! reactions`, and xTB users' access to the TS tools.
//!
//! The datasets were made with the same library through its Python interface (`datasets/xtb.py`):
//! `tests/gfn2.rs` checks the two agree.

mod ffi;
pub mod session;

use hip_core::units::{BOHR_ANGSTROM, HARTREE_EV, HARTREE_PER_BOHR_EV_PER_ANGSTROM};
use hip_core::{EnergyForces, Error, Hessian, Molecule, Potential, Result};

use session::Session;
pub use session::{ScfCounts, ScfSettings};

/// Heaviest element GFN2-xTB has parameters for (radon).
pub const MAX_Z: u8 = 86;

/// Settings of the potential.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gfn2Settings {
    /// SCF settings. Default: accuracy 0.1 (the datasets' setting, 10× tighter than tblite's
    /// default), 250 iterations, one thread (electronic temperature: tblite's default, 300 K).
    pub scf: ScfSettings,
    /// Finite-difference step of the Hessian, Bohr (the datasets': 0.005).
    pub fd_step_bohr: f64,
}

impl Default for Gfn2Settings {
    fn default() -> Self {
        Gfn2Settings { scf: ScfSettings { accuracy: 0.1, max_iter: 250, threads: 1 }, fd_step_bohr: 0.005 }
    }
}

/// GFN2-xTB as a potential.
#[derive(Clone, Debug, Default)]
pub struct Gfn2 {
    /// Settings.
    pub settings: Gfn2Settings,
    /// What its SCFs have cost so far (shared by clones).
    counts: std::sync::Arc<std::sync::Mutex<ScfCounts>>,
}

/// Whether tblite can be loaded here (tests and tools that need it check this first).
pub fn available() -> std::result::Result<(), String> {
    Session::library().map(|_| ())
}

/// tblite's version (10000 × major + 100 × minor + patch) and the library's path.
pub fn library() -> std::result::Result<(i32, String), String> {
    Session::library()
}

fn err(message: String) -> Error {
    Error::invalid("gfn2-xtb", message)
}

fn bohr_coordinates(mol: &Molecule) -> Vec<f64> {
    mol.positions.iter().flat_map(|p| p.iter().map(|x| x / BOHR_ANGSTROM)).collect()
}

fn to_energy_forces(e_hartree: f64, grad: &[f64]) -> EnergyForces {
    EnergyForces {
        energy: e_hartree * HARTREE_EV,
        forces: grad.chunks(3).map(|g| [0, 1, 2].map(|k| -g[k] * HARTREE_PER_BOHR_EV_PER_ANGSTROM)).collect(),
    }
}

impl Gfn2 {
    /// GFN2-xTB with `settings`.
    pub fn new(settings: Gfn2Settings) -> Self {
        Gfn2 { settings, ..Default::default() }
    }

    /// What the SCFs of this potential (and its clones) have cost so far.
    pub fn scf_counts(&self) -> ScfCounts {
        self.counts.lock().map(|c| *c).unwrap_or_default()
    }

    fn count(&self, s: &Session) {
        if let Ok(mut c) = self.counts.lock() {
            c.add(&s.counts);
        }
    }

    /// Every geometry is checked for coincident nuclei first
    /// ([`hip_core::domain::check_coincident`]), as the model's potential does: an error naming
    /// the pair instead of an SCF at collapsed nuclei.
    fn session(&self, mol: &Molecule) -> Result<Session> {
        hip_core::domain::check_coincident(mol)?;
        if let Some(&z) = mol.numbers.iter().find(|&&z| z == 0 || z > MAX_Z) {
            return Err(err(format!("element Z = {z} has no GFN2-xTB parameters (1..={MAX_Z})")));
        }
        let uhf = mol.multiplicity.saturating_sub(1) as i32;
        Session::new(&mol.numbers, &bohr_coordinates(mol), f64::from(mol.charge), uhf, &self.settings.scf).map_err(err)
    }

    /// Energy, forces and the finite-difference Hessian in one go (6N + 1 singlepoints).
    pub fn energy_forces_hessian(&self, mol: &Molecule) -> Result<(EnergyForces, Hessian)> {
        let mut s = self.session(mol)?;
        let r = self.fd_hessian(&mut s, mol);
        self.count(&s);
        r
    }

    fn fd_hessian(&self, s: &mut Session, mol: &Molecule) -> Result<(EnergyForces, Hessian)> {
        let x0 = bohr_coordinates(mol);
        let (e0, g0) = s.singlepoint().map_err(err)?;
        let reference = s.snapshot();
        let n = 3 * mol.len();
        let h = self.settings.fd_step_bohr;
        let mut raw = vec![0.0; n * n];
        for k in 0..n {
            let mut g = [Vec::new(), Vec::new()];
            for (slot, sign) in [(0, 1.0), (1, -1.0)] {
                let mut x = x0.clone();
                x[k] += sign * h;
                s.set_positions(&x).map_err(err)?;
                s.restore(&reference);
                g[slot] = s.singlepoint().map_err(err)?.1;
            }
            for r in 0..n {
                raw[r * n + k] = (g[0][r] - g[1][r]) / (2.0 * h) * HARTREE_EV / (BOHR_ANGSTROM * BOHR_ANGSTROM);
            }
        }
        let hess = Hessian::from_vec(mol.len(), raw)?.symmetrized();
        Ok((to_energy_forces(e0, &g0), hess))
    }
}

impl Potential for Gfn2 {
    fn name(&self) -> String {
        "gfn2-xtb".into()
    }

    fn energy_forces(&self, mol: &Molecule) -> Result<EnergyForces> {
        let mut s = self.session(mol)?;
        let r = s.singlepoint();
        self.count(&s);
        let (e, g) = r.map_err(err)?;
        Ok(to_energy_forces(e, &g))
    }

    fn diagnostics(&self) -> std::collections::BTreeMap<String, f64> {
        let c = self.scf_counts();
        [
            ("scf_singlepoints", c.singlepoints as f64),
            ("scf_retries", c.retries as f64),
            ("scf_failures", c.failures as f64),
            ("scf_seconds", c.seconds),
            ("scf_retry_seconds", c.retry_seconds),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    fn hessian(&self, mol: &Molecule) -> Result<Hessian> {
        Ok(self.energy_forces_hessian(mol)?.1)
    }
}
