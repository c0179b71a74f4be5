//! Local convergence of Newton-type steps taken with an approximate Hessian.
//!
//! Near a stationary point `x*` of a surface with exact Hessian `A`, a step `s = −B⁻¹ g` with
//! another matrix `B` (an approximate Hessian: a directly predicted one, an update) maps the error
//! `e = x − x*` to `(I − B⁻¹A) e`. The iteration converges from close enough iff the spectral
//! radius `ρ(I − B⁻¹A) < 1`, and `ρ` is its rate per step (0: `B = A`, Newton; 0.5: each step
//! removes half the error; ≥ 1: the error in some direction does not shrink, so no trust radius
//! makes the search converge to the tight step thresholds). RS-P-RFO near a first-order saddle
//! reduces to this Newton step *if* `B` has exactly one negative eigenvalue there: it maximizes
//! along `B`'s lowest mode and minimizes along the others.
//!
//! Both matrices are taken in the internal space the optimizers work in ([`super`]: Cartesian,
//! rigid-body motion projected out with unit masses, for rigid-body-invariant surfaces).

use hip_core::{Error, Hessian, Molecule, Result};
use nalgebra::DMatrix;

use crate::vibrations::{internal_basis, rigid_body_vectors};

/// [`newton_local`]'s answer.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct NewtonLocal {
    /// Spectral radius of `I − B⁻¹A` in the internal space (∞ when `B` is singular there).
    pub rate: f64,
    /// Negative eigenvalues of `B` in the internal space.
    pub approx_negative: usize,
    /// Negative eigenvalues of `A` in the internal space.
    pub exact_negative: usize,
}

impl NewtonLocal {
    /// Steps with `B` converge to this stationary point from close enough, and RS-P-RFO treats
    /// it as a first-order saddle: `ρ < 1` and `B` has exactly one negative eigenvalue.
    pub fn saddle_search_converges(&self) -> bool {
        self.rate < 1.0 && self.approx_negative == 1
    }
}

/// Orthonormal basis (columns) of the space the optimizers step in at `mol`: all `3N`
/// Cartesian directions, or, with `project`, their complement to rigid-body motion (unit masses).
pub fn step_basis(mol: &Molecule, project: bool) -> Result<DMatrix<f64>> {
    let dim = 3 * mol.len();
    if !project || mol.len() < 2 {
        return Ok(DMatrix::identity(dim, dim));
    }
    let (_, tr) = rigid_body_vectors(&mol.positions, &vec![1.0; mol.len()]);
    internal_basis(&tr, dim)
}

/// `(B, A)`: both Hessians in the internal space of [`step_basis`], symmetrized.
fn internal_pair(
    mol: &Molecule,
    approx: &Hessian,
    exact: &Hessian,
    project: bool,
) -> Result<(DMatrix<f64>, DMatrix<f64>)> {
    let dim = 3 * mol.len();
    if approx.dim() != dim || exact.dim() != dim {
        return Err(Error::invalid(
            "Newton local rate",
            format!("Hessians of dimension {} and {} for {} atoms", approx.dim(), exact.dim(), mol.len()),
        ));
    }
    let p = step_basis(mol, project)?;
    let inner = |h: &Hessian| {
        let m = DMatrix::from_row_slice(dim, dim, h.as_slice());
        let s = p.transpose() * m * &p;
        (&s + s.transpose()) * 0.5
    };
    Ok((inner(approx), inner(exact)))
}

/// Rate of Newton steps with `approx` on the surface whose Hessian is `exact`, at `mol`
/// (a stationary point of that surface); `project` as for the optimizers
/// (`Potential::rigid_body_invariant`).
pub fn newton_local(mol: &Molecule, approx: &Hessian, exact: &Hessian, project: bool) -> Result<NewtonLocal> {
    let (b, a) = internal_pair(mol, approx, exact, project)?;
    let negatives = |m: &DMatrix<f64>, what: &str| -> Result<usize> {
        let (values, _) = crate::linalg::sym_eigen(m, what)?;
        Ok(values.iter().filter(|&&v| v < 0.0).count())
    };
    let approx_negative = negatives(&b, "approximate Hessian")?;
    let exact_negative = negatives(&a, "exact Hessian")?;
    let k = b.nrows();
    let rate = match b.lu().solve(&a) {
        Some(binv_a) => {
            let m = DMatrix::identity(k, k) - binv_a;
            if m.iter().all(|v| v.is_finite()) {
                m.complex_eigenvalues().iter().map(|z| z.norm()).fold(0.0, f64::max)
            } else {
                f64::INFINITY
            }
        }
        None => f64::INFINITY,
    };
    Ok(NewtonLocal { rate, approx_negative, exact_negative })
}

/// Mode by mode: for each eigenvector `v` of `exact` in the internal space (ascending
/// eigenvalues), `(λ, vᵀ B v / λ)` with `λ = vᵀ A v`. A ratio below ½ (or negative) marks a
/// direction in which a Newton step with `approx` overshoots by 2× or more (when `B` is close to
/// diagonal in `A`'s modes): where [`newton_local`]'s rate comes from.
pub fn mode_curvature_ratios(
    mol: &Molecule,
    approx: &Hessian,
    exact: &Hessian,
    project: bool,
) -> Result<Vec<(f64, f64)>> {
    let (b, a) = internal_pair(mol, approx, exact, project)?;
    let (values, vectors) = crate::linalg::sym_eigen(&a, "exact Hessian")?;
    Ok(values
        .iter()
        .enumerate()
        .map(|(i, &l)| {
            let v = vectors.column(i);
            (l, (v.transpose() * &b * v)[(0, 0)] / l)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Water-like geometry, a symmetric test matrix with one negative internal eigenvalue.
    fn setup() -> (Molecule, Hessian) {
        let mol = Molecule::new(vec![8, 1, 1], vec![[0.0, 0.0, 0.1], [0.76, 0.0, -0.5], [-0.7, 0.1, -0.45]]).unwrap();
        let p = step_basis(&mol, true).unwrap();
        let k = p.ncols();
        let d = DMatrix::from_fn(k, k, |r, c| if r == c { [-0.8, 2.0, 5.0][r] } else { 0.3 });
        let h = &p * d * p.transpose();
        (mol, Hessian::from_vec(3, h.as_slice().to_vec()).unwrap())
    }

    fn scaled(h: &Hessian, s: f64) -> Hessian {
        Hessian::from_vec(h.n_atoms(), h.as_slice().iter().map(|x| x * s).collect()).unwrap()
    }

    #[test]
    fn rate_is_the_contraction_of_the_error() {
        let (mol, a) = setup();
        // B = cA: I − B⁻¹A = (1 − 1/c) I.
        for (c, want) in [(1.0, 0.0), (2.0, 0.5), (0.25, 3.0)] {
            let r = newton_local(&mol, &scaled(&a, c), &a, true).unwrap();
            assert!((r.rate - want).abs() < 1e-9, "c = {c}: rate {} want {want}", r.rate);
            assert_eq!((r.approx_negative, r.exact_negative), (1, 1));
            assert_eq!(r.saddle_search_converges(), want < 1.0);
            let ratios = mode_curvature_ratios(&mol, &scaled(&a, c), &a, true).unwrap();
            assert_eq!(ratios.len(), 3);
            assert!(ratios[0].0 < 0.0 && ratios.windows(2).all(|w| w[0].0 <= w[1].0), "{ratios:?}");
            assert!(ratios.iter().all(|(_, r)| (r - c).abs() < 1e-9), "c = {c}: {ratios:?}");
        }
    }

    #[test]
    fn rigid_body_parts_are_ignored_and_a_flipped_mode_is_caught() {
        let (mol, a) = setup();
        // Adding translation/rotation components to B changes nothing the optimizer sees.
        let p = step_basis(&mol, true).unwrap();
        let q = DMatrix::identity(9, 9) - &p * p.transpose();
        let bm = DMatrix::from_row_slice(9, 9, a.as_slice()) + q * 7.0;
        let b = Hessian::from_vec(3, bm.as_slice().to_vec()).unwrap();
        let r = newton_local(&mol, &b, &a, true).unwrap();
        assert!(r.rate < 1e-9, "{}", r.rate);
        // Without projection the same B is a different matrix on the rigid-body directions.
        assert!(newton_local(&mol, &b, &a, false).unwrap().rate > 0.5);
        // B = −A: every mode's curvature has the wrong sign, error doubles per step.
        let r = newton_local(&mol, &scaled(&a, -1.0), &a, true).unwrap();
        assert!((r.rate - 2.0).abs() < 1e-9 && r.approx_negative == p.ncols() - 1);
        assert!(!r.saddle_search_converges());
    }

    #[test]
    fn mismatched_dimensions_are_an_error() {
        let (mol, a) = setup();
        assert!(newton_local(&mol, &Hessian::zeros(2), &a, true).is_err());
    }
}
