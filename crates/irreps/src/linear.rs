//! [`Linear`]: the equivariant linear layer (e3nn's `o3.Linear`) as a descriptor plus a reference
//! evaluator. Each input block mixes into every output block of the same irrep; scalar (`0e`)
//! outputs may have biases.

use crate::tensor_product::PathNormalization;
use crate::{Error, Irreps};

/// One path of a [`Linear`]: `out[i_out][w, m] += path_weight Σ_u W[u, w] x[i_in][u, m]`.
#[derive(Clone, Debug, PartialEq)]
pub struct LinearInstruction {
    /// Input block.
    pub i_in: usize,
    /// Output block.
    pub i_out: usize,
    /// `(mul_in, mul_out)`, row-major in the flat weight vector.
    pub path_shape: [usize; 2],
    /// `1/√(Σ_{paths into i_out} mul_in)` for `element` normalization.
    pub path_weight: f64,
}

/// e3nn's `o3.Linear(irreps_in, irreps_out, biases=...)`.
///
/// ```
/// use irreps::Linear;
/// let lin = Linear::new(&"2x0e+1x1o".parse().unwrap(), &"1x0e+1x1o".parse().unwrap(), true).unwrap();
/// assert_eq!(lin.weight_numel(), 2 + 1);
/// assert_eq!(lin.bias_numel(), 1);
/// let y = lin.forward(&[1.0, 1.0, 0.0, 0.0, 1.0], &[1.0, 1.0, 2.0], &[0.5]).unwrap();
/// let s = 1.0 / 2f64.sqrt();
/// assert!((y[0] - (2.0 * s + 0.5)).abs() < 1e-15);
/// assert_eq!(&y[1..], &[0.0, 0.0, 2.0]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Linear {
    irreps_in: Irreps,
    irreps_out: Irreps,
    instructions: Vec<LinearInstruction>,
    weight_offsets: Vec<usize>,
    weight_numel: usize,
    /// Output blocks with a bias, and each bias's offset in the flat bias vector.
    bias_blocks: Vec<(usize, usize)>,
    bias_numel: usize,
}

impl Linear {
    /// `element` path normalization (e3nn's default).
    pub fn new(irreps_in: &Irreps, irreps_out: &Irreps, biases: bool) -> Result<Self, Error> {
        Self::with_normalization(irreps_in, irreps_out, biases, PathNormalization::Element)
    }

    /// With an explicit path normalization (`element`, `path` or `none`).
    pub fn with_normalization(
        irreps_in: &Irreps,
        irreps_out: &Irreps,
        biases: bool,
        norm: PathNormalization,
    ) -> Result<Self, Error> {
        let mut pairs = Vec::new();
        for (i_in, a) in irreps_in.iter().enumerate() {
            for (i_out, b) in irreps_out.iter().enumerate() {
                if a.ir == b.ir {
                    pairs.push((i_in, i_out));
                }
            }
        }
        let mut instructions = Vec::with_capacity(pairs.len());
        for &(i_in, i_out) in &pairs {
            let same_out: Vec<_> = pairs.iter().filter(|p| p.1 == i_out).collect();
            let x: f64 = match norm {
                PathNormalization::Element => same_out.iter().map(|p| irreps_in[p.0].mul as f64).sum(),
                PathNormalization::Path => irreps_in[i_in].mul as f64 * same_out.len() as f64,
                PathNormalization::None => 1.0,
            };
            let x = if x == 0.0 { 1.0 } else { x };
            instructions.push(LinearInstruction {
                i_in,
                i_out,
                path_shape: [irreps_in[i_in].mul, irreps_out[i_out].mul],
                path_weight: x.powf(-0.5),
            });
        }
        let mut weight_offsets = Vec::new();
        let mut weight_numel = 0;
        for ins in &instructions {
            weight_offsets.push(weight_numel);
            weight_numel += ins.path_shape[0] * ins.path_shape[1];
        }
        let mut bias_blocks = Vec::new();
        let mut bias_numel = 0;
        if biases {
            for (i_out, b) in irreps_out.iter().enumerate() {
                if b.ir.is_scalar() {
                    bias_blocks.push((i_out, bias_numel));
                    bias_numel += b.mul;
                }
            }
        }
        Ok(Linear {
            irreps_in: irreps_in.clone(),
            irreps_out: irreps_out.clone(),
            instructions,
            weight_offsets,
            weight_numel,
            bias_blocks,
            bias_numel,
        })
    }

    /// Input irreps.
    pub fn irreps_in(&self) -> &Irreps {
        &self.irreps_in
    }
    /// Output irreps.
    pub fn irreps_out(&self) -> &Irreps {
        &self.irreps_out
    }
    /// The paths.
    pub fn instructions(&self) -> &[LinearInstruction] {
        &self.instructions
    }
    /// Offset of each path's weights.
    pub fn weight_offsets(&self) -> &[usize] {
        &self.weight_offsets
    }
    /// Number of weights.
    pub fn weight_numel(&self) -> usize {
        self.weight_numel
    }
    /// Number of biases (Σ mul of `0e` outputs when biases are on).
    pub fn bias_numel(&self) -> usize {
        self.bias_numel
    }
    /// `(i_out, offset)` of each biased output block.
    pub fn bias_blocks(&self) -> &[(usize, usize)] {
        &self.bias_blocks
    }

    /// One sample: `x` of `irreps_in.dim()`, `weights` of `weight_numel()`, `bias` of
    /// `bias_numel()`; returns `irreps_out.dim()` values.
    pub fn forward(&self, x: &[f64], weights: &[f64], bias: &[f64]) -> Result<Vec<f64>, Error> {
        for (what, got, expected) in [
            ("x", x.len(), self.irreps_in.dim()),
            ("weights", weights.len(), self.weight_numel),
            ("bias", bias.len(), self.bias_numel),
        ] {
            if got != expected {
                return Err(Error::Shape { what: what.into(), expected, got });
            }
        }
        let in_off = self.irreps_in.offsets();
        let out_off = self.irreps_out.offsets();
        let mut out = vec![0.0; self.irreps_out.dim()];
        for (ins, &w_off) in self.instructions.iter().zip(&self.weight_offsets) {
            let d = self.irreps_in[ins.i_in].ir.dim();
            let [mi, mo] = ins.path_shape;
            for u in 0..mi {
                for w in 0..mo {
                    let coef = ins.path_weight * weights[w_off + u * mo + w];
                    for m in 0..d {
                        out[out_off[ins.i_out] + w * d + m] += coef * x[in_off[ins.i_in] + u * d + m];
                    }
                }
            }
        }
        for &(i_out, b_off) in &self.bias_blocks {
            for w in 0..self.irreps_out[i_out].mul {
                out[out_off[i_out] + w] += bias[b_off + w];
            }
        }
        Ok(out)
    }
}
