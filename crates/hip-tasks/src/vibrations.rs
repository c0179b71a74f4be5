//! Harmonic vibrational analysis: mass weighting, rigid-body projection, frequencies, modes.
//!
//! Follows `pyscf.hessian.thermo.harmonic_analysis` step by step, so frequencies agree with PySCF:
//! 1. `H_mw = M^{-1/2} H M^{-1/2}`.
//! 2. Rigid-body vectors in mass-weighted coordinates: translations `√m_i ê`, rotations about the
//!    principal axes of inertia (about the centre of mass), largest moment first, times `√m_i`.
//!    Single atom: translations only. Linear molecule: the two rotations about the axes
//!    perpendicular to the molecule (see [`RotorType`]).
//! 3. Orthonormalize them (QR), build the complement basis `B` of the projector `I − QQᵀ`
//!    (eigenvectors with eigenvalue > 1e-7), diagonalize `Bᵀ H_mw B`.
//! 4. `ν̃ = sign(λ) √|λ| · 521.47 cm⁻¹` for `λ` in eV/(Å² amu) (the factor is derived from CODATA
//!    in [`hip_core::units::wavenumber_factor_cm`]); imaginary modes are negative.

use hip_core::units::{hc_ev_cm, wavenumber_factor_cm};
use hip_core::{Error, Hessian, Molecule, Result};
use nalgebra::{DMatrix, SymmetricEigen};

/// Default threshold below which a frequency counts as imaginary, cm⁻¹ (the paper's −10).
pub const DEFAULT_IMAGINARY_THRESHOLD_CM: f64 = -10.0;

/// A molecule is linear when its smallest principal moment of inertia is below this fraction of
/// the largest. PySCF's test (rotational constant > 1e8 GHz, i.e. `I_min` below ~5e-6 amu Å²)
/// is absolute; a relative test gives the same answer for molecules and does not depend on size.
/// An optimized CO₂ that is linear only to optimizer round-off has `I_min/I_max` ≈ 1e-13; a
/// CO₂ bent by 0.01 Å has ≈ 4e-5.
pub const LINEAR_RELATIVE_TOLERANCE: f64 = 1e-6;

/// How the molecule rotates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RotorType {
    /// One atom: 3 rigid-body modes.
    Atom,
    /// Linear: 5 rigid-body modes.
    Linear,
    /// Non-linear: 6 rigid-body modes.
    Nonlinear,
}

/// What a stationary point is, from its number of imaginary modes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Classification {
    /// A single atom: no vibrations at all.
    Atom,
    /// No imaginary mode.
    Minimum,
    /// Exactly one imaginary mode.
    TransitionState,
    /// More than one.
    HigherOrderSaddle,
}

impl Classification {
    /// From a count of imaginary modes.
    pub fn from_imaginary(n: usize) -> Self {
        match n {
            0 => Classification::Minimum,
            1 => Classification::TransitionState,
            _ => Classification::HigherOrderSaddle,
        }
    }

    /// `minimum`, `transition_state`, `higher_order_saddle`.
    pub fn as_str(self) -> &'static str {
        match self {
            Classification::Atom => "atom",
            Classification::Minimum => "minimum",
            Classification::TransitionState => "transition_state",
            Classification::HigherOrderSaddle => "higher_order_saddle",
        }
    }
}

/// Centre of mass.
pub fn center_of_mass(positions: &[[f64; 3]], masses: &[f64]) -> [f64; 3] {
    let total: f64 = masses.iter().sum();
    let mut c = [0.0; 3];
    for (p, m) in positions.iter().zip(masses) {
        for k in 0..3 {
            c[k] += m * p[k] / total;
        }
    }
    c
}

/// Inertia tensor about the centre of mass, amu Å².
pub fn inertia_tensor(positions: &[[f64; 3]], masses: &[f64]) -> [[f64; 3]; 3] {
    let com = center_of_mass(positions, masses);
    let mut im = [[0.0; 3]; 3];
    for (p, m) in positions.iter().zip(masses) {
        let r = [p[0] - com[0], p[1] - com[1], p[2] - com[2]];
        let r2 = r[0] * r[0] + r[1] * r[1] + r[2] * r[2];
        for a in 0..3 {
            for b in 0..3 {
                im[a][b] += m * (if a == b { r2 } else { 0.0 } - r[a] * r[b]);
            }
        }
    }
    im
}

/// Principal moments (descending) and axes (columns, same order).
pub fn principal_axes(positions: &[[f64; 3]], masses: &[f64]) -> ([f64; 3], [[f64; 3]; 3]) {
    let im = inertia_tensor(positions, masses);
    let m = DMatrix::from_fn(3, 3, |a, b| im[a][b]);
    // a 3×3 solve with an iteration cap; positions are validated finite, so it converges (the
    // fallback, the unrotated axes, is never reached for valid input)
    let Some(eig) = SymmetricEigen::try_new(m, f64::EPSILON, 1000) else {
        return ([im[0][0], im[1][1], im[2][2]], [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]);
    };
    let mut order: Vec<usize> = (0..3).collect();
    order.sort_by(|&a, &b| eig.eigenvalues[b].total_cmp(&eig.eigenvalues[a]));
    let moments = [0, 1, 2].map(|k| eig.eigenvalues[order[k]]);
    let axes = [0, 1, 2].map(|k| [0, 1, 2].map(|a| eig.eigenvectors[(a, order[k])]));
    (moments, axes)
}

/// Atom / linear / non-linear, from the principal moments.
pub fn rotor_type(positions: &[[f64; 3]], masses: &[f64]) -> RotorType {
    if positions.len() == 1 {
        return RotorType::Atom;
    }
    let (moments, _) = principal_axes(positions, masses);
    if moments[0] <= 1e-12 {
        RotorType::Atom
    } else if moments[2] < LINEAR_RELATIVE_TOLERANCE * moments[0] {
        RotorType::Linear
    } else {
        RotorType::Nonlinear
    }
}

/// Rigid-body vectors in mass-weighted coordinates (not normalized): `3N × k` columns,
/// translations first, then rotations about the principal axes with the largest moments.
pub fn rigid_body_vectors(positions: &[[f64; 3]], masses: &[f64]) -> (RotorType, Vec<Vec<f64>>) {
    let n = positions.len();
    let kind = rotor_type(positions, masses);
    let com = center_of_mass(positions, masses);
    let mut out = Vec::new();
    for a in 0..3 {
        let mut v = vec![0.0; 3 * n];
        for i in 0..n {
            v[3 * i + a] = masses[i].sqrt();
        }
        out.push(v);
    }
    let n_rot = match kind {
        RotorType::Atom => 0,
        RotorType::Linear => 2,
        RotorType::Nonlinear => 3,
    };
    let (_, axes) = principal_axes(positions, masses);
    for axis in axes.iter().take(n_rot) {
        let mut v = vec![0.0; 3 * n];
        for i in 0..n {
            let r = [positions[i][0] - com[0], positions[i][1] - com[1], positions[i][2] - com[2]];
            let c = [axis[1] * r[2] - axis[2] * r[1], axis[2] * r[0] - axis[0] * r[2], axis[0] * r[1] - axis[1] * r[0]];
            for a in 0..3 {
                v[3 * i + a] = masses[i].sqrt() * c[a];
            }
        }
        out.push(v);
    }
    (kind, out)
}

/// An orthonormal basis (columns of a `3N × (3N − k)` matrix) of the complement of the
/// rigid-body vectors `tr` (each `3N` long), as PySCF builds it.
pub fn internal_basis(tr: &[Vec<f64>], dim: usize) -> Result<DMatrix<f64>> {
    if tr.is_empty() {
        return Ok(DMatrix::identity(dim, dim));
    }
    let t = DMatrix::from_fn(dim, tr.len(), |r, c| tr[c][r]);
    let q = t.qr().q();
    let p = DMatrix::identity(dim, dim) - &q * q.transpose();
    let (values, vectors) = crate::linalg::sym_eigen(&p, "rigid-body projector")?;
    let keep: Vec<usize> = (0..dim).filter(|&k| values[k] > 1e-7).collect();
    Ok(DMatrix::from_fn(dim, keep.len(), |r, c| vectors[(r, keep[c])]))
}

/// The result of a harmonic analysis.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Vibrations {
    /// Rotor type used for the projection.
    pub rotor: RotorType,
    /// Masses used, amu.
    pub masses_amu: Vec<f64>,
    /// Eigenvalues of the projected mass-weighted Hessian, eV/(Å² amu), ascending.
    pub eigenvalues: Vec<f64>,
    /// Wavenumbers, cm⁻¹, ascending, imaginary as negative.
    pub frequencies_cm: Vec<f64>,
    /// Cartesian displacement of each mode (`modes[k][3i + a]`), PySCF's normalization
    /// (mass-weighted eigenvector divided by `√m`).
    pub modes: Vec<Vec<f64>>,
    /// Reduced mass of each mode, amu (`1 / |mode|²`).
    pub reduced_masses: Vec<f64>,
    /// Normalized eigenvectors of the projected mass-weighted Hessian, in the full `3N` space.
    #[serde(skip)]
    pub mass_weighted_modes: Vec<Vec<f64>>,
}

impl Vibrations {
    /// Runs the analysis on `hessian` (eV/Å², not mass-weighted) at `mol` with `masses` (amu).
    pub fn new(mol: &Molecule, hessian: &Hessian, masses: &[f64]) -> Result<Self> {
        mol.validate()?;
        let n = mol.len();
        if hessian.n_atoms() != n {
            return Err(Error::invalid(
                "vibrational analysis",
                format!(
                    "the Hessian is {}×{} but the molecule has {n} atoms (expected {}×{})",
                    hessian.dim(),
                    hessian.dim(),
                    3 * n,
                    3 * n
                ),
            ));
        }
        if masses.len() != n || masses.iter().any(|m| !(m.is_finite() && *m > 0.0)) {
            return Err(Error::invalid("vibrational analysis", format!("need {n} positive masses, got {masses:?}")));
        }
        let dim = 3 * n;
        let inv_sqrt: Vec<f64> = (0..dim).map(|k| 1.0 / masses[k / 3].sqrt()).collect();
        let h = DMatrix::from_fn(dim, dim, |r, c| hessian.get(r, c) * inv_sqrt[r] * inv_sqrt[c]);
        let (rotor, tr) = rigid_body_vectors(&mol.positions, masses);
        let b = internal_basis(&tr, dim)?;
        let hp = b.transpose() * &h * &b;
        // a single atom has no internal coordinates: 0 modes, no solve
        let (values, vectors) = crate::linalg::sym_eigen(&hp, "projected mass-weighted Hessian")?;
        let factor = wavenumber_factor_cm();
        let mut eigenvalues = Vec::with_capacity(values.len());
        let mut frequencies_cm = Vec::with_capacity(values.len());
        let mut modes = Vec::with_capacity(values.len());
        let mut reduced_masses = Vec::with_capacity(values.len());
        let mut mass_weighted_modes = Vec::with_capacity(values.len());
        for (k, &lam) in values.iter().enumerate() {
            eigenvalues.push(lam);
            frequencies_cm.push(lam.signum() * lam.abs().sqrt() * factor);
            let mw = &b * vectors.column(k);
            let cart: Vec<f64> = (0..dim).map(|r| mw[r] * inv_sqrt[r]).collect();
            let norm2: f64 = cart.iter().map(|x| x * x).sum();
            reduced_masses.push(1.0 / norm2);
            modes.push(cart);
            mass_weighted_modes.push(mw.iter().copied().collect());
        }
        Ok(Vibrations {
            rotor,
            masses_amu: masses.to_vec(),
            eigenvalues,
            frequencies_cm,
            modes,
            reduced_masses,
            mass_weighted_modes,
        })
    }

    /// Number of modes with a wavenumber below `threshold_cm` (e.g. −10 cm⁻¹).
    pub fn n_imaginary(&self, threshold_cm: f64) -> usize {
        self.frequencies_cm.iter().filter(|&&f| f < threshold_cm).count()
    }

    /// Minimum / transition state / higher-order saddle at `threshold_cm`.
    pub fn classify(&self, threshold_cm: f64) -> Classification {
        if self.rotor == RotorType::Atom {
            return Classification::Atom;
        }
        Classification::from_imaginary(self.n_imaginary(threshold_cm))
    }

    /// Zero-point energy, eV: `½ h c Σ ν̃` over real (positive) modes.
    pub fn zpe_ev(&self) -> f64 {
        zpe_ev(&self.frequencies_cm)
    }
}

/// Zero-point energy, eV, of a list of wavenumbers (cm⁻¹): `½ h c Σ_{ν̃ > 0} ν̃`.
pub fn zpe_ev(frequencies_cm: &[f64]) -> f64 {
    // a fold from +0: `sum` of no values is −0.0, which prints as "-0.000000"
    0.5 * hc_ev_cm() * frequencies_cm.iter().filter(|&&f| f > 0.0).fold(0.0, |a, f| a + f)
}
