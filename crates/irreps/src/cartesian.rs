//! Cartesian rank-2 tensors ↔ irreps: the change of basis the HIP Hessian head uses.
//!
//! For `1o ⊗ 1o = 0e ⊕ 1e ⊕ 2e` the change of basis `Q` has rows
//! `Q[k, i, j] = √(2L+1) · w3j(1, 1, L)[i, j, m]` for the `k`-th component `(L, m)`, in the order
//! `0e, 1e, 2e` (e3nn's `ReducedTensorProducts("ij", i="1o", j="1o")`, sign included). Its 9 rows
//! are orthonormal, so
//!
//! ```text
//! c_k = Σ_ij Q[k,i,j] T[i,j]          (from_cartesian)
//! T[i,j] = Σ_k c_k Q[k,i,j]           (to_cartesian)
//! ```
//!
//! `L = 0` is the trace `(Txx+Tyy+Tzz)/√3`, `L = 1` the antisymmetric part
//! `((Tyz−Tzy), (Tzx−Txz), (Txy−Tyx))/√2`, `L = 2` the symmetric traceless part in the order of
//! the `l = 2` spherical harmonics (xz, xy, y², yz, z²−x²). The symmetric case `"ij=ji"` keeps only
//! `0e ⊕ 2e` (6 rows). For `T = v vᵀ`, the 2e coefficients are `√(2/15) Y²(v)` (component).

use crate::{Irreps, wigner_3j};

/// Which rank-2 tensor: general (`"ij"`, 9 components) or symmetric (`"ij=ji"`, 6 components).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rank2 {
    /// `T_ij`, irreps `1x0e+1x1e+1x2e`.
    General,
    /// `T_ij = T_ji`, irreps `1x0e+1x2e`.
    Symmetric,
}

impl Rank2 {
    /// Degrees kept.
    pub fn ls(self) -> &'static [usize] {
        match self {
            Rank2::General => &[0, 1, 2],
            Rank2::Symmetric => &[0, 2],
        }
    }

    /// The irreps of the coefficient vector.
    pub fn irreps(self) -> Irreps {
        Irreps::from_triples(&self.ls().iter().map(|&l| (1, l, 1)).collect::<Vec<_>>())
    }

    /// Number of coefficients (9 or 6).
    pub fn dim(self) -> usize {
        self.ls().iter().map(|l| 2 * l + 1).sum()
    }

    /// The change of basis `Q`, shape `(dim, 3, 3)` row-major (`Q[k][i][j]` at `k*9 + i*3 + j`).
    ///
    /// ```
    /// use irreps::cartesian::Rank2;
    /// let q = Rank2::General.change_of_basis();
    /// // orthonormal rows
    /// for a in 0..9 { for b in 0..9 {
    ///     let dot: f64 = (0..9).map(|t| q[a * 9 + t] * q[b * 9 + t]).sum();
    ///     assert!((dot - if a == b { 1.0 } else { 0.0 }).abs() < 1e-14);
    /// } }
    /// ```
    pub fn change_of_basis(self) -> Vec<f64> {
        let mut q = Vec::with_capacity(self.dim() * 9);
        for &l in self.ls() {
            let c = wigner_3j(1, 1, l).expect("1 ⊗ 1 contains l <= 2");
            let d = 2 * l + 1;
            let s = (d as f64).sqrt();
            for m in 0..d {
                for ij in 0..9 {
                    q.push(s * c[ij * d + m]);
                }
            }
        }
        q
    }

    /// Irreps coefficients of a 3×3 tensor (`t` row-major, 9 values): `c = Q · vec(T)`.
    /// For [`Rank2::Symmetric`], this is the coefficient vector of the symmetric part of `t`.
    pub fn from_cartesian(self, t: &[f64; 9]) -> Vec<f64> {
        let q = self.change_of_basis();
        q.chunks_exact(9).map(|row| row.iter().zip(t).map(|(a, b)| a * b).sum()).collect()
    }

    /// The 3×3 tensor (row-major) of a coefficient vector: `T = Σ_k c_k Q_k`.
    pub fn to_cartesian(self, c: &[f64]) -> [f64; 9] {
        assert_eq!(c.len(), self.dim(), "coefficient vector has the wrong length");
        let q = self.change_of_basis();
        let mut t = [0.0; 9];
        for (ck, row) in c.iter().zip(q.chunks_exact(9)) {
            for (tij, qij) in t.iter_mut().zip(row) {
                *tij += ck * qij;
            }
        }
        t
    }
}
