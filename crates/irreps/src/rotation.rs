//! Rotations in 3D: e3nn's Y-X-Y Euler angles ↔ matrices, and random rotations.
//!
//! `angles_to_matrix(α, β, γ) = Ry(α) Rx(β) Ry(γ)` (active rotations: γ about y first, then β
//! about x, then α about y).

/// A 3×3 matrix, row-major.
pub type Mat3 = [[f64; 3]; 3];

/// Active rotation by `t` about x: `[[1,0,0],[0,c,-s],[0,s,c]]`.
pub fn matrix_x(t: f64) -> Mat3 {
    let (s, c) = t.sin_cos();
    [[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]]
}

/// Active rotation by `t` about y: `[[c,0,s],[0,1,0],[-s,0,c]]`.
pub fn matrix_y(t: f64) -> Mat3 {
    let (s, c) = t.sin_cos();
    [[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]]
}

/// Active rotation by `t` about z: `[[c,-s,0],[s,c,0],[0,0,1]]`.
pub fn matrix_z(t: f64) -> Mat3 {
    let (s, c) = t.sin_cos();
    [[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]
}

/// Matrix product `a b`.
pub fn matmul3(a: &Mat3, b: &Mat3) -> Mat3 {
    let mut out = [[0.0; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            out[i][j] = (0..3).map(|k| a[i][k] * b[k][j]).sum();
        }
    }
    out
}

/// Transpose.
pub fn transpose3(a: &Mat3) -> Mat3 {
    let mut out = [[0.0; 3]; 3];
    for i in 0..3 {
        for j in 0..3 {
            out[i][j] = a[j][i];
        }
    }
    out
}

/// `a v`.
pub fn matvec3(a: &Mat3, v: [f64; 3]) -> [f64; 3] {
    [0, 1, 2].map(|i| a[i][0] * v[0] + a[i][1] * v[1] + a[i][2] * v[2])
}

/// Determinant.
pub fn det3(a: &Mat3) -> f64 {
    a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0])
        + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0])
}

/// `s a`.
pub fn scale3(a: &Mat3, s: f64) -> Mat3 {
    a.map(|row| row.map(|x| s * x))
}

/// e3nn's `angles_to_matrix`: `Ry(α) Rx(β) Ry(γ)`.
///
/// ```
/// use irreps::rotation::{angles_to_matrix, matrix_to_angles};
/// let r = angles_to_matrix(0.1, 0.2, 0.3);
/// let back = angles_to_matrix(matrix_to_angles(&r)[0], matrix_to_angles(&r)[1], matrix_to_angles(&r)[2]);
/// for i in 0..3 { for j in 0..3 { assert!((r[i][j] - back[i][j]).abs() < 1e-14); } }
/// ```
pub fn angles_to_matrix(alpha: f64, beta: f64, gamma: f64) -> Mat3 {
    matmul3(&matmul3(&matrix_y(alpha), &matrix_x(beta)), &matrix_y(gamma))
}

/// e3nn's `xyz_to_angles`: `α = atan2(x, z)`, `β = acos(y)` of the normalized vector.
pub fn xyz_to_angles(v: [f64; 3]) -> [f64; 2] {
    let n = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt().max(1e-12);
    let u = v.map(|x| (x / n).clamp(-1.0, 1.0));
    [u[0].atan2(u[2]), u[1].acos()]
}

/// e3nn's `angles_to_xyz`: the image of ŷ under `Ry(α) Rx(β)`.
pub fn angles_to_xyz(alpha: f64, beta: f64) -> [f64; 3] {
    [beta.sin() * alpha.sin(), beta.cos(), beta.sin() * alpha.cos()]
}

/// e3nn's `matrix_to_angles` for a proper rotation: `α, β` from `R ŷ`, then
/// `γ = atan2(R'[0][2], R'[0][0])` with `R' = angles_to_matrix(α, β, 0)ᵀ R`.
pub fn matrix_to_angles(r: &Mat3) -> [f64; 3] {
    let [alpha, beta] = xyz_to_angles(matvec3(r, [0.0, 1.0, 0.0]));
    let rest = matmul3(&transpose3(&angles_to_matrix(alpha, beta, 0.0)), r);
    [alpha, beta, rest[0][2].atan2(rest[0][0])]
}

/// Angles of a uniformly random rotation from three uniform samples `u ∈ [0, 1)³`, as e3nn's
/// `rand_angles`: `α = 2πu₀`, `β = acos(2u₁ − 1)`, `γ = 2πu₂`.
pub fn angles_from_uniform(u: [f64; 3]) -> [f64; 3] {
    let tau = std::f64::consts::TAU;
    [tau * u[0], (2.0 * u[1] - 1.0).clamp(-1.0, 1.0).acos(), tau * u[2]]
}

/// A small deterministic generator (SplitMix64) for tests, examples and benchmarks; not
/// cryptographic. Kept here so the crate needs no `rand` dependency.
#[derive(Clone, Debug)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Random Euler angles of a uniformly distributed rotation.
    pub fn angles(&mut self) -> [f64; 3] {
        angles_from_uniform([self.uniform(), self.uniform(), self.uniform()])
    }
}
