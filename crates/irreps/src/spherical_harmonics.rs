//! Real spherical harmonics in e3nn's convention, any `l`, with their analytic Jacobian.
//!
//! `Y^l_m(x, y, z)` is the standard real solid harmonic (cos for m > 0, sin for m < 0, no
//! Condon–Shortley phase) evaluated at the relabelled point `(X, Y, Z) = (z, x, y)`: the polar
//! axis is **y**, and `Y^1 = √3 (x, y, z)` with no permutation. Values come from the Cartesian
//! recurrences of the Racah-normalized solid harmonics `C_lm`, `S_lm`
//! (Helgaker, Jørgensen & Olsen, eqs. 6.4.70–73):
//!
//! ```text
//! C_{l+1,l+1} = a_l (X C_ll − Y S_ll),   S_{l+1,l+1} = a_l (Y C_ll + X S_ll),   a_l = √(2^{δ_l0}(2l+1)/(2l+2))
//! R_{l+1,m}   = ((2l+1) Z R_lm − √((l+m)(l−m)) r² R_{l−1,m}) / √((l+m+1)(l−m+1))
//! ```
//!
//! so `Σ_m R_lm² = r^{2l}`; e3nn's `component` normalization is `√(2l+1) R`, `norm` is `R`,
//! `integral` is `√((2l+1)/4π) R`. Gradients are carried through the same recurrences
//! (forward-mode), so the Jacobian is exact, not a finite difference.

use num_traits::Float;

use crate::Irreps;

/// The `normalization` argument of e3nn's `spherical_harmonics`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Normalization {
    /// `|Y^l|² = 2l+1` on the unit sphere, `Y^0 = 1` (e3nn's default).
    Component,
    /// `|Y^l| = 1` on the unit sphere.
    Norm,
    /// `∫_{S²} (Y^l_m)² = 1`, `Y^0 = 1/√(4π)`.
    Integral,
}

impl std::str::FromStr for Normalization {
    type Err = crate::Error;
    fn from_str(s: &str) -> Result<Self, crate::Error> {
        match s {
            "component" => Ok(Self::Component),
            "norm" => Ok(Self::Norm),
            "integral" => Ok(Self::Integral),
            _ => Err(crate::Error::Parse {
                input: s.into(),
                reason: "normalization must be component, norm or integral".into(),
            }),
        }
    }
}

/// Below this norm e3nn's `normalize` (torch's `F.normalize`, eps = 1e-12) stops dividing by `|v|`.
pub const NORMALIZE_EPS: f64 = 1e-12;

/// Spherical harmonics of degrees `ls` (concatenated, e3nn's `spherical_harmonics(ls, v, ...)`).
///
/// ```
/// use irreps::{Normalization, SphericalHarmonics};
/// let sh = SphericalHarmonics::new(&[0, 1, 2], true, Normalization::Component);
/// assert_eq!(sh.irreps().to_string(), "1x0e+1x1o+1x2e");
/// let y = sh.compute(&[[0.0_f64, 2.0, 0.0]]);
/// let s3 = 3f64.sqrt();
/// assert!((y[0] - 1.0).abs() < 1e-15);
/// assert!((y[2] - s3).abs() < 1e-15); // l = 1 is √3 (x, y, z): ŷ → (0, √3, 0)
/// assert!((y[6] - 5f64.sqrt()).abs() < 1e-14); // the polar axis is y: Y^2_0(ŷ) = √5
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct SphericalHarmonics {
    ls: Vec<usize>,
    lmax: usize,
    normalize: bool,
    normalization: Normalization,
}

impl SphericalHarmonics {
    /// `normalize = true` evaluates at `v / max(|v|, 1e-12)` (e3nn); `false` gives the
    /// homogeneous polynomials of degree `l`.
    pub fn new(ls: &[usize], normalize: bool, normalization: Normalization) -> Self {
        SphericalHarmonics { ls: ls.to_vec(), lmax: ls.iter().copied().max().unwrap_or(0), normalize, normalization }
    }

    /// All degrees `0..=lmax`.
    pub fn up_to(lmax: usize, normalize: bool, normalization: Normalization) -> Self {
        Self::new(&(0..=lmax).collect::<Vec<_>>(), normalize, normalization)
    }

    /// Output size per vector, `Σ (2l+1)`.
    pub fn dim(&self) -> usize {
        self.ls.iter().map(|l| 2 * l + 1).sum()
    }

    /// The output irreps, `1x0e + 1x1o + 1x2e + ...` (parity `(-1)^l`).
    pub fn irreps(&self) -> Irreps {
        Irreps::spherical_harmonics(&self.ls)
    }

    /// The degrees.
    pub fn ls(&self) -> &[usize] {
        &self.ls
    }

    /// Values for a batch of vectors: `(n, dim)` row-major.
    pub fn compute<T: Float>(&self, vectors: &[[T; 3]]) -> Vec<T> {
        let dim = self.dim();
        let mut out = vec![T::zero(); vectors.len() * dim];
        let mut ws = Workspace::new(self.lmax, false);
        for (v, o) in vectors.iter().zip(out.chunks_exact_mut(dim)) {
            self.eval(&mut ws, *v, o, None);
        }
        out
    }

    /// Values `(n, dim)` and Jacobian `(n, dim, 3)` (`∂Y_k/∂v_c`), both row-major.
    pub fn compute_with_jacobian<T: Float>(&self, vectors: &[[T; 3]]) -> (Vec<T>, Vec<T>) {
        let dim = self.dim();
        let mut out = vec![T::zero(); vectors.len() * dim];
        let mut jac = vec![T::zero(); vectors.len() * dim * 3];
        let mut ws = Workspace::new(self.lmax, true);
        for ((v, o), j) in vectors.iter().zip(out.chunks_exact_mut(dim)).zip(jac.chunks_exact_mut(dim * 3)) {
            self.eval(&mut ws, *v, o, Some(j));
        }
        (out, jac)
    }

    /// One vector into `out` (`dim`) and, optionally, `jac` (`dim × 3`), reusing `ws`.
    fn eval<T: Float>(&self, ws: &mut Workspace<T>, v: [T; 3], out: &mut [T], jac: Option<&mut [T]>) {
        let want_grad = jac.is_some();
        // The point at which the polynomial is evaluated, and d(point)/dv.
        let (u, du_dv) = if self.normalize {
            let n = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
            let eps = T::from(NORMALIZE_EPS).unwrap();
            let u = if n > eps { v.map(|x| x / n) } else { v.map(|x| x / eps) };
            let mut m = [[T::zero(); 3]; 3];
            if want_grad {
                for a in 0..3 {
                    for b in 0..3 {
                        let delta = if a == b { T::one() } else { T::zero() };
                        m[a][b] = if n > eps { (delta - u[a] * u[b]) / n } else { delta / eps };
                    }
                }
            }
            (u, m)
        } else {
            let mut m = [[T::zero(); 3]; 3];
            for (a, row) in m.iter_mut().enumerate() {
                row[a] = T::one();
            }
            (v, m)
        };
        ws.solid_harmonics(u, self.lmax);
        let mut offset = 0;
        let mut jac = jac;
        for &l in &self.ls {
            let scale = T::from(self.scale(l)).unwrap();
            for k in 0..2 * l + 1 {
                let idx = ws.index(l, k as isize - l as isize);
                out[offset + k] = scale * ws.val[idx];
                if let Some(j) = jac.as_deref_mut() {
                    // gradient w.r.t. the (x, y, z) of u, then chain through du/dv.
                    let g = ws.grad[idx].map(|x| x * scale);
                    for c in 0..3 {
                        j[(offset + k) * 3 + c] = g[0] * du_dv[0][c] + g[1] * du_dv[1][c] + g[2] * du_dv[2][c];
                    }
                }
            }
            offset += 2 * l + 1;
        }
    }

    fn scale(&self, l: usize) -> f64 {
        let d = (2 * l + 1) as f64;
        match self.normalization {
            Normalization::Component => d.sqrt(),
            Normalization::Norm => 1.0,
            Normalization::Integral => (d / (4.0 * std::f64::consts::PI)).sqrt(),
        }
    }
}

/// Convenience: one degree, one vector.
///
/// ```
/// use irreps::{spherical_harmonics, Normalization};
/// let y = spherical_harmonics(1, [1.0, 0.0, 0.0], true, Normalization::Norm);
/// assert_eq!(y, vec![1.0, 0.0, 0.0]);
/// ```
pub fn spherical_harmonics(l: usize, v: [f64; 3], normalize: bool, normalization: Normalization) -> Vec<f64> {
    SphericalHarmonics::new(&[l], normalize, normalization).compute(&[v])
}

/// Scratch for the recurrences: Racah-normalized `C_lm` (m ≥ 0) and `S_lm` (m ≥ 1), values and
/// gradients with respect to the *original* (x, y, z).
struct Workspace<T> {
    val: Vec<T>,
    grad: Vec<[T; 3]>,
    with_grad: bool,
}

impl<T: Float> Workspace<T> {
    fn new(lmax: usize, with_grad: bool) -> Self {
        let n = (lmax + 1) * (lmax + 1);
        Workspace { val: vec![T::zero(); n], grad: vec![[T::zero(); 3]; if with_grad { n } else { 0 }], with_grad }
    }

    /// Storage index of e3nn component `m` of degree `l`: `l² + l + m`.
    fn index(&self, l: usize, m: isize) -> usize {
        (l * l + l) as isize as usize + m as usize
    }

    fn solid_harmonics(&mut self, v: [T; 3], lmax: usize) {
        // Relabel: X = z, Y = x, Z = y. Gradients below are w.r.t. the original (x, y, z).
        let (x, y, z) = (v[2], v[0], v[1]);
        let gx = [T::zero(), T::zero(), T::one()];
        let gy = [T::one(), T::zero(), T::zero()];
        let gz = [T::zero(), T::one(), T::zero()];
        let r2 = x * x + y * y + z * z;
        let gr2 = [v[0] + v[0], v[1] + v[1], v[2] + v[2]];
        let zero3 = [T::zero(); 3];
        let c = |x: f64| T::from(x).unwrap();
        let add = |a: [T; 3], b: [T; 3]| [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
        let sc = |s: T, a: [T; 3]| [s * a[0], s * a[1], s * a[2]];

        let i00 = self.index(0, 0);
        self.val[i00] = T::one();
        if self.with_grad {
            self.grad[i00] = zero3;
        }
        for l in 0..lmax {
            let lf = l as f64;
            // Sectoral: C_{l+1,l+1}, S_{l+1,l+1} (S_00 = 0).
            let a = c(((if l == 0 { 2.0 } else { 1.0 }) * (2.0 * lf + 1.0) / (2.0 * lf + 2.0)).sqrt());
            let (ic, is) = (self.index(l, l as isize), self.index(l, -(l as isize)));
            let cll = self.val[ic];
            let sll = if l == 0 { T::zero() } else { self.val[is] };
            let (oc, os) = (self.index(l + 1, l as isize + 1), self.index(l + 1, -(l as isize) - 1));
            self.val[oc] = a * (x * cll - y * sll);
            self.val[os] = a * (y * cll + x * sll);
            if self.with_grad {
                let gc = self.grad[ic];
                let gs = if l == 0 { zero3 } else { self.grad[is] };
                self.grad[oc] = sc(a, add(add(sc(cll, gx), sc(x, gc)), sc(-T::one(), add(sc(sll, gy), sc(y, gs)))));
                self.grad[os] = sc(a, add(add(sc(cll, gy), sc(y, gc)), add(sc(sll, gx), sc(x, gs))));
            }
            // Vertical: R_{l+1,m} for |m| <= l, both C (m >= 0) and S (m < 0).
            for m in 0..=l {
                let mf = m as f64;
                let denom = ((lf + mf + 1.0) * (lf - mf + 1.0)).sqrt();
                let k1 = c((2.0 * lf + 1.0) / denom);
                let k2 = c(((lf + mf) * (lf - mf)).sqrt() / denom);
                for sign in [1isize, -1] {
                    if m == 0 && sign == -1 {
                        continue;
                    }
                    let mm = sign * m as isize;
                    let cur = self.index(l, mm);
                    let out = self.index(l + 1, mm);
                    let prev = if l >= 1 && m < l { Some(self.index(l - 1, mm)) } else { None };
                    let pv = prev.map_or(T::zero(), |p| self.val[p]);
                    self.val[out] = k1 * z * self.val[cur] - k2 * r2 * pv;
                    if self.with_grad {
                        let pg = prev.map_or(zero3, |p| self.grad[p]);
                        let g1 = add(sc(self.val[cur], gz), sc(z, self.grad[cur]));
                        let g2 = add(sc(pv, gr2), sc(r2, pg));
                        self.grad[out] = add(sc(k1, g1), sc(-k2, g2));
                    }
                }
            }
        }
    }
}
