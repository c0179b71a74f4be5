//! [`Hessian`]: a dense `3N × 3N` matrix of second derivatives in eV/Å², row-major over
//! `(atom, xyz)`: `H[3i + a, 3j + b] = ∂²E / ∂x_ia ∂x_jb`.

use crate::{Error, Result};

/// A dense Hessian in eV/Å².
#[derive(Clone, Debug, PartialEq)]
pub struct Hessian {
    n_atoms: usize,
    data: Vec<f64>,
}

impl Hessian {
    /// Zeros for `n_atoms` atoms.
    pub fn zeros(n_atoms: usize) -> Self {
        Hessian { n_atoms, data: vec![0.0; 9 * n_atoms * n_atoms] }
    }

    /// From row-major data of length `(3N)²`; fails on a wrong length or non-finite values.
    ///
    /// ```
    /// use hip_core::Hessian;
    /// assert!(Hessian::from_vec(1, vec![0.0; 9]).is_ok());
    /// assert!(Hessian::from_vec(2, vec![0.0; 9]).is_err());
    /// ```
    pub fn from_vec(n_atoms: usize, data: Vec<f64>) -> Result<Self> {
        let n = 3 * n_atoms;
        if data.len() != n * n {
            return Err(Error::invalid(
                "hessian",
                format!("{} values do not make a {n}×{n} matrix for {n_atoms} atoms", data.len()),
            ));
        }
        if let Some(k) = data.iter().position(|x| !x.is_finite()) {
            return Err(Error::invalid("hessian", format!("entry ({}, {}) is not finite ({})", k / n, k % n, data[k])));
        }
        Ok(Hessian { n_atoms, data })
    }

    /// From a `(rows, cols)` matrix that must be `3N × 3N` for `n_atoms`.
    pub fn from_shape(n_atoms: usize, rows: usize, cols: usize, data: Vec<f64>) -> Result<Self> {
        let n = 3 * n_atoms;
        if rows != n || cols != n {
            return Err(Error::invalid(
                "hessian",
                format!("shape ({rows}, {cols}) does not match {n_atoms} atoms: expected ({n}, {n})"),
            ));
        }
        Self::from_vec(n_atoms, data)
    }

    /// Number of atoms.
    pub fn n_atoms(&self) -> usize {
        self.n_atoms
    }

    /// Matrix dimension `3N`.
    pub fn dim(&self) -> usize {
        3 * self.n_atoms
    }

    /// Row-major values.
    pub fn as_slice(&self) -> &[f64] {
        &self.data
    }

    /// Mutable row-major values.
    pub fn as_mut_slice(&mut self) -> &mut [f64] {
        &mut self.data
    }

    /// Consumes into row-major values.
    pub fn into_vec(self) -> Vec<f64> {
        self.data
    }

    /// Element `(r, c)`.
    pub fn get(&self, r: usize, c: usize) -> f64 {
        self.data[r * self.dim() + c]
    }

    /// The 3×3 block of atoms `(i, j)`, row-major.
    pub fn block(&self, i: usize, j: usize) -> [f64; 9] {
        std::array::from_fn(|k| self.get(3 * i + k / 3, 3 * j + k % 3))
    }

    /// `max |H - Hᵀ|`.
    pub fn max_asymmetry(&self) -> f64 {
        let n = self.dim();
        let mut m: f64 = 0.0;
        for r in 0..n {
            for c in r + 1..n {
                m = m.max((self.data[r * n + c] - self.data[c * n + r]).abs());
            }
        }
        m
    }

    /// `(H + Hᵀ) / 2`.
    pub fn symmetrized(&self) -> Hessian {
        let n = self.dim();
        let mut out = self.clone();
        for r in 0..n {
            for c in 0..n {
                out.data[r * n + c] = 0.5 * (self.data[r * n + c] + self.data[c * n + r]);
            }
        }
        out
    }

    /// `max_i |Σ_j H_ij|`: how far the Hessian violates the translational sum rule.
    pub fn acoustic_sum_rule_residual(&self) -> f64 {
        let n = self.dim();
        let mut worst: f64 = 0.0;
        for r in 0..n {
            for b in 0..3 {
                let s: f64 = (0..self.n_atoms).map(|j| self.data[r * n + 3 * j + b]).sum();
                worst = worst.max(s.abs());
            }
        }
        worst
    }
}
