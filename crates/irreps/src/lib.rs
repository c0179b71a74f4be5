//! # irreps — e3nn-compatible O(3) representations in Rust
//!
//! Irreps, real spherical harmonics (any `l`, with Jacobian), Wigner 3j and D matrices, rotations,
//! the Cartesian rank-2 ↔ irreps change of basis, and tensor products described as data with a
//! reference evaluator. Values agree with e3nn 0.6 to round-off (checked by
//! `tests/e3nn_reference.rs` against files produced by the real library). No ML framework.
//!
//! ## Conventions (all as e3nn)
//!
//! **m order.** An irrep of degree `l` has `2l+1` components ordered `m = -l, ..., +l`, for
//! spherical harmonics, D matrices, 3j indices and change-of-basis rows. In an [`Irreps`] vector,
//! element `(u, m)` of block `(mul, ir)` is at `offset + u (2l+1) + (m + l)`.
//! ```
//! let irreps: irreps::Irreps = "2x1o".parse().unwrap();
//! assert_eq!(irreps.dim(), 6); // [u=0: m=-1,0,1][u=1: m=-1,0,1]
//! ```
//!
//! **The l = 1 axis order is plain (x, y, z)** — no permutation: `Y¹(v) = √3 v/|v|` and
//! `D¹(R) = R`.
//! ```
//! use irreps::{spherical_harmonics, Normalization};
//! let y = spherical_harmonics(1, [0.6, 0.0, 0.8], true, Normalization::Component);
//! let s3 = 3f64.sqrt();
//! assert!((y[0] - 0.6 * s3).abs() < 1e-15 && y[1] == 0.0 && (y[2] - 0.8 * s3).abs() < 1e-15);
//! ```
//!
//! **The polar axis is y.** `Y^l_m(x, y, z)` is the standard real harmonic (cos for m > 0, sin for
//! m < 0, no Condon–Shortley sign) at `(X, Y, Z) = (z, x, y)`; `Y^l_0` is largest along ±y.
//! ```
//! use irreps::{spherical_harmonics, Normalization};
//! let y = spherical_harmonics(2, [0.0, 1.0, 0.0], true, Normalization::Norm);
//! assert!((y[2] - 1.0).abs() < 1e-15); // m = 0 carries all the weight on the y axis
//! ```
//!
//! **Normalizations.** `component`: `|Y^l|² = 2l+1` on the sphere (`Y⁰ = 1`); `norm`: `|Y^l| = 1`;
//! `integral`: `∫ (Y^l_m)² dΩ = 1`. `normalize = true` divides the input by `max(|v|, 1e-12)`
//! (a zero vector gives `Y⁰` = const and zeros for `l > 0`); `false` gives homogeneous polynomials.
//! ```
//! use irreps::{spherical_harmonics, Normalization};
//! let v = [0.3, -0.4, 1.2];
//! let c = spherical_harmonics(3, v, true, Normalization::Component);
//! let n2: f64 = c.iter().map(|x| x * x).sum();
//! assert!((n2 - 7.0).abs() < 1e-13);
//! let i = spherical_harmonics(0, v, true, Normalization::Integral);
//! assert!((i[0] - 0.5 / std::f64::consts::PI.sqrt()).abs() < 1e-15);
//! assert_eq!(spherical_harmonics(2, [0.0; 3], true, Normalization::Component), vec![0.0; 5]);
//! ```
//!
//! **Euler angles are Y-X-Y**, active: `R(α, β, γ) = Ry(α) Rx(β) Ry(γ)`, and
//! `D^l(α, β, γ) = exp(α X₁) exp(β X₀) exp(γ X₁)` with `X = so3_generators(l)`.
//! ```
//! use irreps::rotation::{angles_to_matrix, matmul3, matrix_x, matrix_y};
//! let r = angles_to_matrix(0.1, 0.2, 0.3);
//! let expected = matmul3(&matmul3(&matrix_y(0.1), &matrix_x(0.2)), &matrix_y(0.3));
//! assert_eq!(r, expected);
//! ```
//!
//! **Parity.** `e` is +1, `o` is −1; spherical harmonics of a polar vector have parity `(-1)^l`
//! (`"y"` in strings). For an improper rotation `-R`, `D_from_matrix` returns `D(R)` with the
//! blocks of odd irreps negated.
//! ```
//! use irreps::{Irreps, rotation::angles_to_matrix};
//! let irreps: Irreps = "1x0o+1x0e".parse().unwrap();
//! let r = angles_to_matrix(0.5, 0.6, 0.7).map(|row| row.map(|x| -x)); // improper
//! let d = irreps.d_from_matrix(&r);
//! assert!((d[0] + 1.0).abs() < 1e-14 && (d[3] - 1.0).abs() < 1e-14);
//! ```
//!
//! ## Modules
//! [`irrep`] (Irrep, Irreps), [`spherical_harmonics`], [`wigner`] (3j, generators, D),
//! [`rotation`], [`cartesian`] (the HIP change of basis), [`tensor_product`], [`linear`].

pub mod cartesian;
pub mod irrep;
pub mod linear;
pub mod rotation;
pub mod spherical_harmonics;
pub mod tensor_product;
pub mod wigner;

pub use cartesian::Rank2;
pub use irrep::{Irrep, Irreps, MulIr, Sorted};
pub use linear::{Linear, LinearInstruction};
pub use spherical_harmonics::{Normalization, SphericalHarmonics, spherical_harmonics};
pub use tensor_product::{
    ConnectionMode, Instruction, InstructionSpec, IrrepNormalization, PathNormalization, TensorProduct,
};
pub use wigner::{so3_generators, wigner_3j, wigner_d};

use std::fmt;

/// Errors: malformed strings, wrong slice lengths, invalid descriptors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// A string could not be parsed.
    Parse {
        /// The whole input.
        input: String,
        /// What is wrong.
        reason: String,
    },
    /// A slice has the wrong length.
    Shape {
        /// Which argument.
        what: String,
        /// Expected length.
        expected: usize,
        /// Actual length.
        got: usize,
    },
    /// An invalid construction (e.g. a path forbidden by selection rules).
    Invalid(String),
}

impl Error {
    /// The human-readable reason.
    pub fn reason(&self) -> String {
        match self {
            Error::Parse { reason, .. } => reason.clone(),
            other => other.to_string(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Parse { input, reason } => write!(f, "cannot parse \"{input}\": {reason}"),
            Error::Shape { what, expected, got } => write!(f, "{what} has length {got}, expected {expected}"),
            Error::Invalid(msg) => f.write_str(msg),
        }
    }
}

impl std::error::Error for Error {}
