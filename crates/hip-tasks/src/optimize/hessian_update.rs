//! Quasi-Newton Hessian updates from a step `s` and gradient change `y = g₁ − g₀`.

use nalgebra::{DMatrix, DVector};

/// BFGS: `H + y yᵀ/(yᵀs) − (H s)(H s)ᵀ/(sᵀ H s)`; skipped (returns `false`) when the curvature
/// condition `yᵀs > 0` fails, so `H` stays positive definite if it was.
pub fn bfgs(h: &mut DMatrix<f64>, s: &DVector<f64>, y: &DVector<f64>) -> bool {
    let ys = y.dot(s);
    let hs = &*h * s;
    let shs = s.dot(&hs);
    if ys <= 1e-12 * s.norm() * y.norm() || shs <= 0.0 {
        return false;
    }
    *h += y * y.transpose() / ys - &hs * hs.transpose() / shs;
    true
}

/// Bofill's update for saddle-point searches: `φ · SR1 + (1 − φ) · PSB`, with
/// `φ = (ξᵀs)² / (|ξ|² |s|²)`, `ξ = y − H s`. Does not force definiteness.
pub fn bofill(h: &mut DMatrix<f64>, s: &DVector<f64>, y: &DVector<f64>) -> bool {
    let xi = y - &*h * s;
    let ss = s.dot(s);
    let xs = xi.dot(s);
    let xx = xi.dot(&xi);
    if ss < 1e-20 || xx < 1e-30 {
        return false;
    }
    let phi = xs * xs / (xx * ss);
    let sr1 = if xs.abs() > 1e-12 * xi.norm() * s.norm() {
        &xi * xi.transpose() / xs
    } else {
        DMatrix::zeros(h.nrows(), h.ncols())
    };
    let psb = (&xi * s.transpose() + s * xi.transpose()) / ss - s * s.transpose() * (xs / (ss * ss));
    *h += sr1 * phi + psb * (1.0 - phi);
    true
}

/// Makes `h` reproduce a measured Hessian-vector product: afterwards `h v = w` for the unit
/// vector `v`, by the symmetric rank-two update `h + r vᵀ + v rᵀ − (vᵀr) v vᵀ`, `r = w − h v`
/// (Powell's symmetric update with the step `v`). Products set earlier along directions
/// orthogonal to `v` stay exact when `w` is the product of a symmetric matrix: for `u ⊥ v` the
/// update adds `v (rᵀu) = v (vᵀA u − vᵀ h u)`, zero when `h u = A u` already. `v` must be a unit
/// vector (checked to 1e-8); returns `false` and leaves `h` alone otherwise.
pub fn set_product(h: &mut DMatrix<f64>, v: &DVector<f64>, w: &DVector<f64>) -> bool {
    if (v.norm() - 1.0).abs() > 1e-8 || v.len() != h.nrows() || w.len() != h.nrows() {
        return false;
    }
    let r = w - &*h * v;
    let vr = v.dot(&r);
    *h += &r * v.transpose() + v * r.transpose() - v * v.transpose() * vr;
    true
}
