//! Wigner 3j symbols, so(3) generators and Wigner D matrices in e3nn's real basis.
//!
//! Built the way e3nn builds them, so signs agree exactly: complex SU(2) Clebsch–Gordan
//! coefficients (Racah's formula) and SU(2) generators are changed to the real basis with e3nn's
//! `change_basis_real_to_complex` (including its `(-i)^l` factor); the 3j tensor is normalized to
//! unit Frobenius norm; `D^l(α, β, γ) = exp(α X₁) exp(β X₀) exp(γ X₁)`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

#[derive(Clone, Copy, Debug, PartialEq)]
struct C64 {
    re: f64,
    im: f64,
}

impl C64 {
    const ZERO: C64 = C64 { re: 0.0, im: 0.0 };
    fn new(re: f64, im: f64) -> Self {
        C64 { re, im }
    }
    fn mul(self, o: C64) -> C64 {
        C64::new(self.re * o.re - self.im * o.im, self.re * o.im + self.im * o.re)
    }
    fn add(self, o: C64) -> C64 {
        C64::new(self.re + o.re, self.im + o.im)
    }
    fn conj(self) -> C64 {
        C64::new(self.re, -self.im)
    }
    fn scale(self, s: f64) -> C64 {
        C64::new(self.re * s, self.im * s)
    }
}

/// e3nn's `change_basis_real_to_complex(l)`: `(2l+1, 2l+1)` complex, row-major.
fn change_basis_real_to_complex(l: usize) -> Vec<C64> {
    let d = 2 * l + 1;
    let li = l as i64;
    let mut q = vec![C64::ZERO; d * d];
    let s = std::f64::consts::FRAC_1_SQRT_2;
    let idx = |r: i64, c: i64| (r * d as i64 + c) as usize;
    for m in -li..0 {
        q[idx(li + m, li + m.abs())] = C64::new(s, 0.0);
        q[idx(li + m, li - m.abs())] = C64::new(0.0, -s);
    }
    q[idx(li, li)] = C64::new(1.0, 0.0);
    for m in 1..=li {
        let sign = if m % 2 == 0 { 1.0 } else { -1.0 };
        q[idx(li + m, li + m)] = C64::new(sign * s, 0.0);
        q[idx(li + m, li - m)] = C64::new(0.0, sign * s);
    }
    // (-i)^l
    let phase = match l % 4 {
        0 => C64::new(1.0, 0.0),
        1 => C64::new(0.0, -1.0),
        2 => C64::new(-1.0, 0.0),
        _ => C64::new(0.0, 1.0),
    };
    q.iter_mut().for_each(|z| *z = phase.mul(*z));
    q
}

/// e3nn's `su2_generators(j)` for integer `j = l`: `[x, z, -y]` (in SU(2) labels).
fn su2_generators(l: usize) -> [Vec<C64>; 3] {
    let d = 2 * l + 1;
    let j = l as f64;
    let mut raising = vec![0.0; d * d];
    let mut lowering = vec![0.0; d * d];
    for k in 0..d - 1 {
        // raising: subdiagonal (row k+1, col k), m = -j + k
        let m = -j + k as f64;
        raising[(k + 1) * d + k] = -(j * (j + 1.0) - m * (m + 1.0)).sqrt();
        // lowering: superdiagonal (row k, col k+1), m = -j + 1 + k
        let m = -j + 1.0 + k as f64;
        lowering[k * d + k + 1] = (j * (j + 1.0) - m * (m - 1.0)).sqrt();
    }
    let mut x = vec![C64::ZERO; d * d];
    let mut z = vec![C64::ZERO; d * d];
    let mut y = vec![C64::ZERO; d * d];
    for i in 0..d * d {
        x[i] = C64::new(0.5 * (raising[i] + lowering[i]), 0.0);
        y[i] = C64::new(0.0, -0.5 * (raising[i] - lowering[i]));
    }
    for k in 0..d {
        z[k * d + k] = C64::new(0.0, -j + k as f64);
    }
    [x, z, y]
}

/// so(3) generators in e3nn's real basis: `[X₀, X₁, X₂]`, generating rotations about x, y and z.
/// Each is `(2l+1, 2l+1)` row-major and antisymmetric; for `l = 1` they are `d/dt` of
/// [`crate::rotation::matrix_x`] etc. at `t = 0`.
pub fn so3_generators(l: usize) -> [Vec<f64>; 3] {
    let d = 2 * l + 1;
    let q = change_basis_real_to_complex(l);
    su2_generators(l).map(|x| {
        // conj(Q^T) X Q
        let mut out = vec![0.0; d * d];
        for a in 0..d {
            for b in 0..d {
                let mut acc = C64::ZERO;
                for i in 0..d {
                    for k in 0..d {
                        acc = acc.add(q[i * d + a].conj().mul(x[i * d + k]).mul(q[k * d + b]));
                    }
                }
                out[a * d + b] = acc.re;
            }
        }
        out
    })
}

fn factorial(n: i64) -> f64 {
    (1..=n).map(|k| k as f64).product()
}

/// SU(2) Clebsch–Gordan coefficient `<j1 m1; j2 m2 | j3 m3>` by Racah's formula (integer j).
fn su2_cg(j1: i64, m1: i64, j2: i64, m2: i64, j3: i64, m3: i64) -> f64 {
    if m3 != m1 + m2 {
        return 0.0;
    }
    let vmin = (-j1 + j2 + m3).max(-j1 + m1).max(0);
    let vmax = (j2 + j3 + m1).min(j3 - j1 + j2).min(j3 + m3);
    let f = factorial;
    let c = ((2 * j3 + 1) as f64 * f(j3 + j1 - j2) * f(j3 - j1 + j2) * f(j1 + j2 - j3) * f(j3 + m3) * f(j3 - m3)
        / (f(j1 + j2 + j3 + 1) * f(j1 - m1) * f(j1 + m1) * f(j2 - m2) * f(j2 + m2)))
    .sqrt();
    let mut s = 0.0;
    for v in vmin..=vmax {
        let sign = if (v + j2 + m2).rem_euclid(2) == 0 { 1.0 } else { -1.0 };
        s += sign * f(j2 + j3 + m1 - v) * f(j1 - m1 + v)
            / (f(v) * f(j3 - j1 + j2 - v) * f(j3 + m3 - v) * f(v + j1 - j2 - m3));
    }
    c * s
}

fn compute_wigner_3j(l1: usize, l2: usize, l3: usize) -> Vec<f64> {
    let (d1, d2, d3) = (2 * l1 + 1, 2 * l2 + 1, 2 * l3 + 1);
    let (j1, j2, j3) = (l1 as i64, l2 as i64, l3 as i64);
    let mut su2 = vec![0.0; d1 * d2 * d3];
    for m1 in -j1..=j1 {
        for m2 in -j2..=j2 {
            if (m1 + m2).abs() <= j3 {
                su2[((j1 + m1) as usize * d2 + (j2 + m2) as usize) * d3 + (j3 + m1 + m2) as usize] =
                    su2_cg(j1, m1, j2, m2, j3, m1 + m2);
            }
        }
    }
    let (q1, q2, q3) =
        (change_basis_real_to_complex(l1), change_basis_real_to_complex(l2), change_basis_real_to_complex(l3));
    // C[j,l,m] = Σ_{i,k,n} Q1[i,j] Q2[k,l] conj(Q3[n,m]) su2[i,k,n]
    let mut out = vec![0.0; d1 * d2 * d3];
    for a in 0..d1 {
        for b in 0..d2 {
            for c in 0..d3 {
                let mut acc = C64::ZERO;
                for i in 0..d1 {
                    for k in 0..d2 {
                        for n in 0..d3 {
                            let s = su2[(i * d2 + k) * d3 + n];
                            if s != 0.0 {
                                acc = acc.add(q1[i * d1 + a].mul(q2[k * d2 + b]).mul(q3[n * d3 + c].conj()).scale(s));
                            }
                        }
                    }
                }
                debug_assert!(acc.im.abs() < 1e-10);
                out[(a * d2 + b) * d3 + c] = acc.re;
            }
        }
    }
    let norm = out.iter().map(|x| x * x).sum::<f64>().sqrt();
    out.iter_mut().for_each(|x| *x /= norm);
    out
}

/// Whether `(l1, l2, l3)` satisfies the triangle rule `|l1 - l2| <= l3 <= l1 + l2`.
pub fn triangle(l1: usize, l2: usize, l3: usize) -> bool {
    l1.abs_diff(l2) <= l3 && l3 <= l1 + l2
}

/// The Wigner 3j tensor in e3nn's real basis, shape `(2l1+1, 2l2+1, 2l3+1)` row-major, unit
/// Frobenius norm. Computed once per triple and cached for the life of the process.
/// Returns `None` when the triangle rule fails.
///
/// ```
/// let c = irreps::wigner_3j(1, 1, 1).unwrap();
/// // C(1,1,1) = ε_ijk / √6 with C[0][1][2] = +1/√6.
/// assert!((c[0 * 9 + 1 * 3 + 2] - 1.0 / 6f64.sqrt()).abs() < 1e-15);
/// ```
pub fn wigner_3j(l1: usize, l2: usize, l3: usize) -> Option<Arc<[f64]>> {
    if !triangle(l1, l2, l3) {
        return None;
    }
    type Cache = Mutex<HashMap<(usize, usize, usize), Arc<[f64]>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(c) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&(l1, l2, l3)) {
        return Some(c.clone());
    }
    let c: Arc<[f64]> = compute_wigner_3j(l1, l2, l3).into();
    cache.lock().unwrap_or_else(|e| e.into_inner()).insert((l1, l2, l3), c.clone());
    Some(c)
}

fn matmul(a: &[f64], b: &[f64], d: usize) -> Vec<f64> {
    let mut out = vec![0.0; d * d];
    for i in 0..d {
        for k in 0..d {
            let aik = a[i * d + k];
            if aik != 0.0 {
                for j in 0..d {
                    out[i * d + j] += aik * b[k * d + j];
                }
            }
        }
    }
    out
}

/// Matrix exponential of a small real square matrix (scaling and squaring with a Taylor series).
pub fn expm(a: &[f64], d: usize) -> Vec<f64> {
    let norm = (0..d).map(|j| (0..d).map(|i| a[i * d + j].abs()).sum::<f64>()).fold(0.0, f64::max);
    let squarings = if norm > 0.25 { (norm / 0.25).log2().ceil() as i32 } else { 0 };
    let scale = 0.5f64.powi(squarings);
    let a: Vec<f64> = a.iter().map(|x| x * scale).collect();
    let mut result = vec![0.0; d * d];
    let mut term = vec![0.0; d * d];
    for i in 0..d {
        result[i * d + i] = 1.0;
        term[i * d + i] = 1.0;
    }
    for k in 1..=20 {
        term = matmul(&term, &a, d);
        term.iter_mut().for_each(|x| *x /= k as f64);
        result.iter_mut().zip(&term).for_each(|(r, t)| *r += t);
    }
    for _ in 0..squarings {
        result = matmul(&result, &result, d);
    }
    result
}

/// Wigner D matrix `D^l(α, β, γ) = exp(α X₁) exp(β X₀) exp(γ X₁)` in e3nn's real basis,
/// `(2l+1, 2l+1)` row-major. Angles are reduced mod 2π first, as e3nn does.
/// `D^1(α, β, γ)` equals [`crate::rotation::angles_to_matrix`].
///
/// ```
/// use irreps::{rotation::angles_to_matrix, wigner_d};
/// let d = wigner_d(1, 0.4, 1.1, -0.3);
/// let r = angles_to_matrix(0.4, 1.1, -0.3);
/// for i in 0..3 { for j in 0..3 { assert!((d[i * 3 + j] - r[i][j]).abs() < 1e-13); } }
/// ```
pub fn wigner_d(l: usize, alpha: f64, beta: f64, gamma: f64) -> Vec<f64> {
    let d = 2 * l + 1;
    let gens = generators_cached(l);
    let [x0, x1, _] = &*gens;
    let tau = std::f64::consts::TAU;
    let exp = |t: f64, x: &[f64]| {
        let t = t.rem_euclid(tau);
        expm(&x.iter().map(|v| v * t).collect::<Vec<_>>(), d)
    };
    matmul(&matmul(&exp(alpha, x1), &exp(beta, x0), d), &exp(gamma, x1), d)
}

fn generators_cached(l: usize) -> Arc<[Vec<f64>; 3]> {
    type Cache = Mutex<HashMap<usize, Arc<[Vec<f64>; 3]>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let mut guard = cache.lock().unwrap_or_else(|e| e.into_inner());
    guard.entry(l).or_insert_with(|| Arc::new(so3_generators(l))).clone()
}
