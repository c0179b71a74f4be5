//! Tensor-product instructions: which input blocks feed which output block, and how.

use std::fmt;
use std::str::FromStr;

use crate::Error;

/// How multiplicities of the two inputs connect to the output (e3nn's `connection_mode`).
///
/// | mode | output | weight shape |
/// | --- | --- | --- |
/// | `uvw` | `out[w] += Σ_uv W[u,v,w] x1[u] ⊗ x2[v]` | `(mul1, mul2, mul_out)` |
/// | `uvu` | `out[u] += Σ_v W[u,v] x1[u] ⊗ x2[v]` | `(mul1, mul2)` |
/// | `uvv` | `out[v] += Σ_u W[u,v] x1[u] ⊗ x2[v]` | `(mul1, mul2)` |
/// | `uuw` | `out[w] += Σ_u W[u,w] x1[u] ⊗ x2[u]` | `(mul1, mul_out)` |
/// | `uuu` | `out[u] += W[u] x1[u] ⊗ x2[u]` | `(mul1,)` |
/// | `uvuv` | `out[u·mul2+v] += W[u,v] x1[u] ⊗ x2[v]` | `(mul1, mul2)` |
///
/// where `a ⊗ b` is `Σ_ij C[i,j,k] a_i b_j` with `C = wigner_3j(l1, l2, l_out)`, and `W = 1` for
/// instructions without weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConnectionMode {
    /// Fully connected.
    Uvw,
    /// Output follows input 1 (depthwise, as in NequIP/MACE convolutions).
    Uvu,
    /// Output follows input 2.
    Uvv,
    /// Paired inputs, mixed output.
    Uuw,
    /// Elementwise.
    Uuu,
    /// Full (outer) product.
    Uvuv,
}

impl ConnectionMode {
    /// e3nn's name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Uvw => "uvw",
            Self::Uvu => "uvu",
            Self::Uvv => "uvv",
            Self::Uuw => "uuw",
            Self::Uuu => "uuu",
            Self::Uvuv => "uvuv",
        }
    }

    /// The weight shape for input multiplicities `mul1`, `mul2` and output multiplicity `mul_out`.
    pub fn path_shape(self, mul1: usize, mul2: usize, mul_out: usize) -> Vec<usize> {
        match self {
            Self::Uvw => vec![mul1, mul2, mul_out],
            Self::Uvu | Self::Uvv | Self::Uvuv => vec![mul1, mul2],
            Self::Uuw => vec![mul1, mul_out],
            Self::Uuu => vec![mul1],
        }
    }

    /// The number of terms summed into one output element, e3nn's `num_elements` (used by the
    /// `element` and `path` path normalizations).
    pub fn num_elements(self, mul1: usize, mul2: usize) -> usize {
        match self {
            Self::Uvw => mul1 * mul2,
            Self::Uvu => mul2,
            Self::Uvv | Self::Uuw => mul1,
            Self::Uuu | Self::Uvuv => 1,
        }
    }

    /// The output multiplicity this mode requires, if it fixes one.
    pub fn required_mul_out(self, mul1: usize, mul2: usize) -> Option<usize> {
        match self {
            Self::Uvw | Self::Uuw => None,
            Self::Uvu | Self::Uuu => Some(mul1),
            Self::Uvv => Some(mul2),
            Self::Uvuv => Some(mul1 * mul2),
        }
    }
}

impl fmt::Display for ConnectionMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ConnectionMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Ok(match s {
            "uvw" => Self::Uvw,
            "uvu" => Self::Uvu,
            "uvv" => Self::Uvv,
            "uuw" => Self::Uuw,
            "uuu" => Self::Uuu,
            "uvuv" => Self::Uvuv,
            _ => {
                return Err(Error::Parse {
                    input: s.into(),
                    reason: "connection mode must be one of uvw, uvu, uvv, uuw, uuu, uvuv".into(),
                });
            }
        })
    }
}

/// e3nn's `irrep_normalization`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum IrrepNormalization {
    /// `α = 2 l_out + 1` (default).
    #[default]
    Component,
    /// `α = (2 l1 + 1)(2 l2 + 1)`.
    Norm,
    /// `α = 1`.
    None,
}

/// e3nn's `path_normalization`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum PathNormalization {
    /// Divide by the number of terms summed into each output element over all paths (default).
    #[default]
    Element,
    /// Divide by this path's terms times the number of paths into the output.
    Path,
    /// No division.
    None,
}

impl FromStr for IrrepNormalization {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "component" => Ok(Self::Component),
            "norm" => Ok(Self::Norm),
            "none" => Ok(Self::None),
            _ => Err(Error::Parse { input: s.into(), reason: "expected component, norm or none".into() }),
        }
    }
}

impl FromStr for PathNormalization {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "element" => Ok(Self::Element),
            "path" => Ok(Self::Path),
            "none" => Ok(Self::None),
            _ => Err(Error::Parse { input: s.into(), reason: "expected element, path or none".into() }),
        }
    }
}

/// What the user asks for: one path of a tensor product.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InstructionSpec {
    /// Index into `irreps_in1`.
    pub i_in1: usize,
    /// Index into `irreps_in2`.
    pub i_in2: usize,
    /// Index into `irreps_out`.
    pub i_out: usize,
    /// Connection mode.
    pub mode: ConnectionMode,
    /// Whether the path has learnable weights.
    pub has_weight: bool,
    /// Extra user factor inside the square root (e3nn's optional 6th element, default 1).
    pub path_weight: f64,
}

impl InstructionSpec {
    /// A path with the default user weight 1.
    pub fn new(i_in1: usize, i_in2: usize, i_out: usize, mode: ConnectionMode, has_weight: bool) -> Self {
        InstructionSpec { i_in1, i_in2, i_out, mode, has_weight, path_weight: 1.0 }
    }
}

/// One resolved path, as e3nn stores it: `path_weight` is the final normalization factor.
#[derive(Clone, Debug, PartialEq)]
pub struct Instruction {
    /// Index into `irreps_in1`.
    pub i_in1: usize,
    /// Index into `irreps_in2`.
    pub i_in2: usize,
    /// Index into `irreps_out`.
    pub i_out: usize,
    /// Connection mode.
    pub mode: ConnectionMode,
    /// Whether the path reads weights.
    pub has_weight: bool,
    /// The factor that multiplies this path's contribution (`√α`).
    pub path_weight: f64,
    /// Shape of this path's weights (row-major in the flat weight vector).
    pub path_shape: Vec<usize>,
}

impl Instruction {
    /// Number of weights this path reads (0 without weights).
    pub fn weight_numel(&self) -> usize {
        if self.has_weight { self.path_shape.iter().product() } else { 0 }
    }
}
