//! Geometry optimization and transition-state search on a [`Potential`], in Cartesian
//! coordinates with rigid-body motion projected out (for rigid-body-invariant potentials).
//!
//! - [`rfo::minimize`]: rational-function optimization with a trust radius; the Hessian is
//!   recomputed every `k` steps and BFGS-updated in between (`k = 1`: fresh every step;
//!   `k = 0`: only at step 0).
//! - [`bfgs::minimize`]: quasi-Newton BFGS from a unit Hessian, no Hessian calls.
//! - [`fire::minimize`]: FIRE (ASE's parameters).
//! - [`ts::search`]: restricted-step partitioned RFO (RS-P-RFO) for first-order saddles, with
//!   mode following and Bofill updates between Hessian calls; optionally each fresh Hessian
//!   corrected along the followed and lowest modes by measured Hessian-vector products ([`probe`]).
//! - [`local::newton_local`]: whether steps with an approximate Hessian converge to a stationary
//!   point of a surface with another (exact) Hessian, and how fast: the local theory of a search
//!   driven by a predicted Hessian.
//!
//! Convergence follows Gaussian: max and RMS force and max and RMS step below thresholds
//! ([`Thresholds::gau`]), or forces 100× below them. Every run returns a [`Report`].

pub mod bfgs;
pub mod fire;
pub mod hessian_update;
pub mod local;
pub mod probe;
pub mod rfo;
pub mod step;
pub mod ts;

use hip_core::units::{BOHR_ANGSTROM, HARTREE_PER_BOHR_EV_PER_ANGSTROM};
use hip_core::{EnergyForces, Hessian, MassConvention, Molecule, Potential, Result};
use nalgebra::{DMatrix, DVector};

use crate::vibrations::{Classification, DEFAULT_IMAGINARY_THRESHOLD_CM, Vibrations};

/// Convergence thresholds: forces in eV/Å, steps in Å.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Thresholds {
    /// Largest force component.
    pub max_force: f64,
    /// RMS force.
    pub rms_force: f64,
    /// Largest step component.
    pub max_step: f64,
    /// RMS step.
    pub rms_step: f64,
}

impl Thresholds {
    /// Gaussian's default ("gau"): 4.5e-4 / 3.0e-4 Ha/bohr and 1.8e-3 / 1.2e-3 bohr, converted to
    /// eV/Å (0.02314 / 0.01543) and Å (9.53e-4 / 6.35e-4).
    pub fn gau() -> Self {
        Thresholds {
            max_force: 4.5e-4 * HARTREE_PER_BOHR_EV_PER_ANGSTROM,
            rms_force: 3.0e-4 * HARTREE_PER_BOHR_EV_PER_ANGSTROM,
            max_step: 1.8e-3 * BOHR_ANGSTROM,
            rms_step: 1.2e-3 * BOHR_ANGSTROM,
        }
    }

    /// All four scaled by `factor` (e.g. 0.01 for tight convergence).
    pub fn scaled(self, factor: f64) -> Self {
        Thresholds {
            max_force: self.max_force * factor,
            rms_force: self.rms_force * factor,
            max_step: self.max_step * factor,
            rms_step: self.rms_step * factor,
        }
    }

    /// Gaussian's rule: all four met, or both force criteria met 100× over.
    pub fn converged(&self, max_force: f64, rms_force: f64, max_step: f64, rms_step: f64) -> bool {
        let forces = max_force <= self.max_force && rms_force <= self.rms_force;
        (forces && max_step <= self.max_step && rms_step <= self.rms_step)
            || (max_force <= 0.01 * self.max_force && rms_force <= 0.01 * self.rms_force)
    }
}

/// Trust-radius settings (Å).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Trust {
    /// Initial radius.
    pub initial: f64,
    /// Smallest radius.
    pub min: f64,
    /// Largest radius.
    pub max: f64,
}

impl Default for Trust {
    /// 0.2 Å initial (the paper's 0.2, read in Å), between 1e-3 and 0.5 Å.
    fn default() -> Self {
        Trust { initial: 0.2, min: 1e-3, max: 0.5 }
    }
}

/// What an optimization did and where it ended.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Report {
    /// Algorithm name.
    pub method: String,
    /// Whether the convergence criteria were met.
    pub converged: bool,
    /// Steps taken (accepted or not).
    pub steps: usize,
    /// Energy+force evaluations.
    pub energy_calls: usize,
    /// Hessian evaluations.
    pub hessian_calls: usize,
    /// Final energy, eV.
    pub energy: f64,
    /// Final largest (projected) force component, eV/Å.
    pub max_force: f64,
    /// Final RMS (projected) force, eV/Å.
    pub rms_force: f64,
    /// Final geometry.
    #[serde(skip)]
    pub molecule: Molecule,
    /// Energy after each step.
    pub energies: Vec<f64>,
    /// Classification of the final geometry from its Hessian (computed with one extra Hessian
    /// call, not counted above), if requested.
    pub final_point: Option<FinalPoint>,
}

/// The nature of the final geometry.
#[derive(Clone, Debug, serde::Serialize)]
pub struct FinalPoint {
    /// Minimum / transition state / higher-order saddle.
    pub classification: Classification,
    /// Number of imaginary modes (frequency < −10 cm⁻¹) for molecules; number of negative
    /// Hessian eigenvalues (< −1e-6 eV/Å²) for surfaces that are not rigid-body invariant.
    pub n_imaginary: usize,
    /// Frequencies in cm⁻¹ (molecules) or Hessian eigenvalues in eV/Å² (model surfaces), ascending.
    pub spectrum: Vec<f64>,
}

/// Classifies `mol` on `pot` from a fresh Hessian: vibrational analysis with IUPAC masses for
/// molecules, plain Hessian eigenvalues for surfaces that are not rigid-body invariant.
pub fn classify(pot: &dyn Potential, mol: &Molecule) -> Result<FinalPoint> {
    classify_hessian(pot.rigid_body_invariant(), mol, &pot.hessian(mol)?)
}

/// [`classify`] from a given Hessian `h` of `mol` (e.g. one refined by Hessian-vector products).
pub fn classify_hessian(rigid_body_invariant: bool, mol: &Molecule, h: &Hessian) -> Result<FinalPoint> {
    if rigid_body_invariant {
        let vib = Vibrations::new(mol, h, &mol.masses(MassConvention::Iupac)?)?;
        let n = vib.n_imaginary(DEFAULT_IMAGINARY_THRESHOLD_CM);
        Ok(FinalPoint {
            classification: vib.classify(DEFAULT_IMAGINARY_THRESHOLD_CM),
            n_imaginary: n,
            spectrum: vib.frequencies_cm,
        })
    } else {
        let m = DMatrix::from_row_slice(h.dim(), h.dim(), h.as_slice());
        let (ev, _) = crate::linalg::sym_eigen(&m, "final Hessian")?;
        let n = ev.iter().filter(|&&l| l < -1e-6).count();
        Ok(FinalPoint { classification: Classification::from_imaginary(n), n_imaginary: n, spectrum: ev })
    }
}

/// Shared bookkeeping: counts calls, projects rigid-body motion.
pub(crate) struct Evaluator<'a> {
    pub pot: &'a dyn Potential,
    pub template: Molecule,
    pub energy_calls: usize,
    pub hessian_calls: usize,
    project: bool,
}

impl<'a> Evaluator<'a> {
    pub fn new(pot: &'a dyn Potential, mol: &Molecule) -> Result<Self> {
        mol.validate()?;
        let project = pot.rigid_body_invariant() && mol.len() > 1;
        Ok(Evaluator { pot, template: mol.clone(), energy_calls: 0, hessian_calls: 0, project })
    }

    pub fn energy_gradient(&mut self, x: &[f64]) -> Result<(f64, DVector<f64>)> {
        self.energy_calls += 1;
        let context = || format!("energy call {} of the run", self.energy_calls);
        let EnergyForces { energy, forces } =
            self.pot.energy_forces(&self.template.with_flat_positions(x)).map_err(|e| e.in_context(&context()))?;
        if !energy.is_finite() || forces.iter().flatten().any(|f| !f.is_finite()) {
            return Err(hip_core::Error::invalid(
                context(),
                format!("the potential returned a non-finite energy or force (E = {energy})"),
            ));
        }
        Ok((energy, DVector::from_iterator(x.len(), forces.iter().flatten().map(|f| -f))))
    }

    pub fn hessian(&mut self, x: &[f64]) -> Result<DMatrix<f64>> {
        self.hessian_calls += 1;
        let h: Hessian = self.pot.hessian(&self.template.with_flat_positions(x))?;
        Ok(DMatrix::from_row_slice(h.dim(), h.dim(), h.as_slice()))
    }

    /// Orthonormal basis of the space the optimizers step in at `x` ([`local::step_basis`]):
    /// the internal (non-rigid-body) space, Cartesian, unit masses; all `3N` directions for a
    /// single atom or a surface that is not rigid-body invariant.
    pub fn basis(&self, x: &[f64]) -> Result<DMatrix<f64>> {
        local::step_basis(&self.molecule(x), self.project)
    }

    pub fn molecule(&self, x: &[f64]) -> Molecule {
        self.template.with_flat_positions(x)
    }

    /// Projected gradient at `x`: the internal basis `B`, `Bᵀg`, and max/RMS of the projected
    /// force (what the convergence test reads).
    pub fn project(&self, x: &[f64], g: &DVector<f64>) -> Result<(DMatrix<f64>, DVector<f64>, f64, f64)> {
        let b = self.basis(x)?;
        let gs = b.transpose() * g;
        let (fmax, frms) = max_rms(&(&b * &gs));
        Ok((b, gs, fmax, frms))
    }

    /// The report of a finished run (classifying the final geometry if asked).
    pub fn finish(self, method: String, end: RunEnd, classify_final: bool) -> Result<Report> {
        let final_point = if classify_final { Some(classify(self.pot, &self.molecule(&end.x))?) } else { None };
        self.finish_with(method, end, final_point)
    }

    /// [`Self::finish`] with the end point's classification already made.
    pub fn finish_with(self, method: String, end: RunEnd, final_point: Option<FinalPoint>) -> Result<Report> {
        let molecule = self.molecule(&end.x);
        Ok(Report {
            method,
            converged: end.converged,
            steps: end.steps,
            energy_calls: self.energy_calls,
            hessian_calls: self.hessian_calls,
            energy: end.energy,
            max_force: end.max_force,
            rms_force: end.rms_force,
            molecule,
            energies: end.energies,
            final_point,
        })
    }
}

/// Where a run stopped.
pub(crate) struct RunEnd {
    pub x: Vec<f64>,
    pub converged: bool,
    pub steps: usize,
    pub energy: f64,
    pub max_force: f64,
    pub rms_force: f64,
    pub energies: Vec<f64>,
}

/// Max and RMS of a vector's components.
pub(crate) fn max_rms(v: &DVector<f64>) -> (f64, f64) {
    let max = v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let rms = (v.norm_squared() / v.len().max(1) as f64).sqrt();
    (max, rms)
}
