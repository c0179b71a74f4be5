//! Correcting an approximate Hessian along the mode a saddle search follows and its softest
//! modes, with Hessian-vector products of the surface's own gradient (central differences).
//!
//! A search driven by a Hessian `B` converges to a saddle of a surface with Hessian `A` only if
//! `B` has `A`'s curvature closely enough along every mode, and has one negative mode
//! ([`super::local::newton_local`]). A learned Hessian's largest *relative* errors are along the
//! softest modes, which at a transition state include the reaction mode: its curvature can even
//! come out with the wrong sign, and a step along a mode whose curvature `B` underestimates by
//! more than half overshoots (the Newton map's factor `1 − a/b` leaves (−1, 1)).
//! [`probe_low_modes`] measures `A u` along the mode `u` the search would follow and updates `B`
//! so that `B u = A u` ([`hessian_update::set_product`]); then, with the updated `B`, along the
//! followed mode again if it has moved out of the probed span, else along its lowest modes, each
//! orthogonalized against the earlier probes. This is a Rayleigh–Ritz refinement in the spirit
//! of Davidson iterations (Sella's iterative diagonalization), with the predicted Hessian as the
//! model of everything not probed. Each probe costs two gradient calls, counted in the search's
//! `energy_calls`.

use hip_core::Result;
use nalgebra::{DMatrix, DVector};

use super::{Evaluator, hessian_update};
use crate::linalg::sym_eigen;

/// Finite-difference step of a probe (Å, along a unit Cartesian direction): central
/// differences of the gradient err by `ε²/6 · ∂⁴E` (≈ 2e-7 × the fourth derivative in eV/Å⁴),
/// far below any curvature a search resolves, while gradient round-off (≈ 1e-12 eV/Å in f64,
/// 1e-6 in f32) divided by `2ε` stays below 1e-3 eV/Å².
pub const PROBE_STEP: f64 = 1e-3;

/// A mode counts as probed when less than this fraction of its norm lies outside the span of
/// the probes so far (sin of the angle to that span).
pub const PROBED_TOLERANCE: f64 = 0.1;

/// Refines `h` (Cartesian, `3N×3N`) at `x` with `max_probes` Hessian-vector products (fewer
/// only when every mode is probed): along the mode the search follows, then along the lowest
/// modes, each time of the updated `h` and the first one not yet in the probed span. `basis` is
/// the search's internal basis (orthonormal columns); `pick` chooses the followed mode from the
/// eigenvectors of `basisᵀ h basis` (ascending eigenvalues; vectors in Cartesian coordinates).
/// Returns the probes taken.
pub(crate) fn probe_low_modes(
    ev: &mut Evaluator<'_>,
    x: &[f64],
    h: &mut DMatrix<f64>,
    basis: &DMatrix<f64>,
    max_probes: usize,
    pick: impl Fn(&[DVector<f64>]) -> usize,
) -> Result<usize> {
    let mut probed: Vec<DVector<f64>> = Vec::new();
    for _ in 0..max_probes {
        let hs = basis.transpose() * &*h * basis;
        let (_, vectors) = sym_eigen(&hs, "TS-search Hessian (probe)")?;
        let internal: Vec<DVector<f64>> = (0..vectors.ncols()).map(|i| vectors.column(i).into_owned()).collect();
        let cart: Vec<DVector<f64>> = internal.iter().map(|u| basis * u).collect();
        let outside = |k: usize| {
            let mut u = internal[k].clone();
            for p in &probed {
                u -= p * p.dot(&u);
            }
            u
        };
        let followed = pick(&cart);
        let Some(mut u) =
            std::iter::once(followed).chain(0..internal.len()).map(outside).find(|u| u.norm() >= PROBED_TOLERANCE)
        else {
            break;
        };
        u /= u.norm();
        let v = basis * &u;
        let w = hessian_vector_product(ev, x, &v)?;
        hessian_update::set_product(h, &v, &w);
        probed.push(u);
    }
    Ok(probed.len())
}

/// `A v ≈ (g(x + εv) − g(x − εv)) / 2ε` with ε = [`PROBE_STEP`] (two gradient calls).
fn hessian_vector_product(ev: &mut Evaluator<'_>, x: &[f64], v: &DVector<f64>) -> Result<DVector<f64>> {
    let shifted = |sign: f64| -> Vec<f64> { x.iter().zip(v.iter()).map(|(a, d)| a + sign * PROBE_STEP * d).collect() };
    let (_, gp) = ev.energy_gradient(&shifted(1.0))?;
    let (_, gm) = ev.energy_gradient(&shifted(-1.0))?;
    Ok((gp - gm) / (2.0 * PROBE_STEP))
}

/// The surface's Hessian at `x` refined along its `probes` lowest modes ([`probe_low_modes`]),
/// its calls counted by `ev`.
pub(crate) fn refined_hessian(ev: &mut Evaluator<'_>, x: &[f64], probes: usize) -> Result<hip_core::Hessian> {
    let mut h = ev.hessian(x)?;
    let b = ev.basis(x)?;
    probe_low_modes(ev, x, &mut h, &b, probes, |_| 0)?;
    hip_core::Hessian::from_vec(x.len() / 3, h.transpose().as_slice().to_vec())
}

/// A potential whose Hessians are `inner`'s refined along their lowest `probes` modes by `inner`'s
/// own Hessian-vector products ([`probe_low_modes`], 2 gradient calls each): where an
/// approximate Hessian (a directly predicted one) is least reliable, the curvature becomes the
/// surface's. Energies and forces are `inner`'s. What the reaction pipeline classifies and
/// starts its IRC with when the TS search probes (`TsOptions::mode_probes`).
pub struct ProbeRefined<'a> {
    /// The surface.
    pub inner: &'a dyn hip_core::Potential,
    /// Hessian-vector products per Hessian.
    pub probes: usize,
}

impl std::fmt::Debug for ProbeRefined<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ProbeRefined({}, {} probes)", self.inner.name(), self.probes)
    }
}

impl hip_core::Potential for ProbeRefined<'_> {
    fn name(&self) -> String {
        format!("{} (Hessian refined by {} probes)", self.inner.name(), self.probes)
    }

    fn energy_forces(&self, mol: &hip_core::Molecule) -> Result<hip_core::EnergyForces> {
        self.inner.energy_forces(mol)
    }

    fn hessian(&self, mol: &hip_core::Molecule) -> Result<hip_core::Hessian> {
        refined_hessian(&mut Evaluator::new(self.inner, mol)?, &mol.flat_positions(), self.probes)
    }

    fn rigid_body_invariant(&self) -> bool {
        self.inner.rigid_body_invariant()
    }

    fn diagnostics(&self) -> std::collections::BTreeMap<String, f64> {
        self.inner.diagnostics()
    }
}
