//! Symmetric eigen-decompositions that cannot hang or panic: nalgebra's iterative solver with an
//! iteration cap, non-finite input rejected up front, an empty matrix answered without a solve,
//! and eigenvalues sorted ascending with their vectors.

use hip_core::{Error, Result};
use nalgebra::DMatrix;

/// Most QR sweeps per matrix dimension before the solve is declared failed (converged solves of
/// the symmetric tridiagonal QR take a few per eigenvalue).
pub const MAX_SWEEPS_PER_DIM: usize = 200;

/// Eigenvalues (ascending) and eigenvectors (columns, same order) of the symmetric part of `m`.
/// `context` names what is being diagonalized in the error.
pub fn sym_eigen(m: &DMatrix<f64>, context: &str) -> Result<(Vec<f64>, DMatrix<f64>)> {
    let n = m.nrows();
    if n != m.ncols() {
        return Err(Error::invalid(context, format!("eigen-decomposition of a non-square {}×{} matrix", n, m.ncols())));
    }
    if n == 0 {
        return Ok((Vec::new(), DMatrix::zeros(0, 0)));
    }
    if let Some(k) = m.iter().position(|x| !x.is_finite()) {
        return Err(Error::invalid(context, format!("matrix entry ({}, {}) is not finite", k % n, k / n)));
    }
    let sym = (m + m.transpose()) * 0.5;
    let eig = nalgebra::SymmetricEigen::try_new(sym, f64::EPSILON, MAX_SWEEPS_PER_DIM * n.max(1))
        .ok_or_else(|| Error::invalid(context, format!("the {n}×{n} eigen-decomposition did not converge")))?;
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| eig.eigenvalues[a].total_cmp(&eig.eigenvalues[b]));
    let values = order.iter().map(|&k| eig.eigenvalues[k]).collect();
    let vectors = DMatrix::from_fn(n, n, |r, c| eig.eigenvectors[(r, order[c])]);
    Ok((values, vectors))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_decomposition_and_clean_failures() {
        let m = DMatrix::from_row_slice(3, 3, &[2.0, 1.0, 0.0, 1.0, 2.0, 0.0, 0.0, 0.0, -1.0]);
        let (l, v) = sym_eigen(&m, "test").unwrap();
        assert!((l[0] + 1.0).abs() < 1e-12 && (l[1] - 1.0).abs() < 1e-12 && (l[2] - 3.0).abs() < 1e-12);
        let back = &v * DMatrix::from_diagonal(&nalgebra::DVector::from_vec(l)) * v.transpose();
        assert!((back - &m).abs().max() < 1e-12);
        assert!(sym_eigen(&DMatrix::zeros(0, 0), "empty").unwrap().0.is_empty());
        let mut bad = m.clone();
        bad[(1, 2)] = f64::NAN;
        assert!(sym_eigen(&bad, "nan").unwrap_err().to_string().contains("not finite"));
        assert!(sym_eigen(&DMatrix::zeros(2, 3), "rect").is_err());
    }
}
