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
