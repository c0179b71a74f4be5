//! The equivariant linear layer: executes an [`irreps::Linear`] descriptor (same paths, path
//! weights and weight layout as e3nn), tested against its reference evaluator.
//!
//! **How it runs.** The per-path weights (stored one `Var` per path, e3nn's layout) are gathered
//! with one `index_select` into the dense block-structured `(dim_in, dim_out)` matrix
//! `W[off_in + u·d + c, off_out + w·d + c] = path_weight · W_path[u, w]` (zero elsewhere), and the
//! layer is one matmul plus a gathered bias row. Building `W` costs `dim_in · dim_out` and does
//! not depend on the batch; the matmul replaces about eight small ops per path.

use candle_core::{Tensor, Var};
use irreps::{Irreps, Linear};

use crate::params::param;
use crate::{Params, Result};

/// `x (B, dim_in) → (B, dim_out)`.
#[derive(Debug)]
pub struct EquiLinear {
    desc: Linear,
    weights: Vec<Var>,
    bias: Option<Var>,
    /// Path weight of each flat weight, then a 0 for the "no path" slot, `(n_w + 1,)`.
    scale: Tensor,
    /// For each entry of the dense `(dim_in, dim_out)` matrix: its flat weight, or `n_w`.
    w_idx: Tensor,
    /// For each output column: its bias, or `n_b` (a zero slot).
    b_idx: Tensor,
}

impl EquiLinear {
    /// One weight matrix per path (N(0,1) init; e3nn's path weights keep the output variance),
    /// biases on `0e` outputs if `biases`.
    pub fn new(params: &mut Params, name: &str, irreps_in: &Irreps, irreps_out: &Irreps, biases: bool) -> Result<Self> {
        let desc = Linear::new(irreps_in, irreps_out, biases)?;
        let weights = desc
            .instructions()
            .iter()
            .enumerate()
            .map(|(k, ins)| params.create(&format!("{name}.w{k}"), &ins.path_shape, 1.0))
            .collect::<Result<Vec<_>>>()?;
        let bias = if desc.bias_numel() > 0 {
            Some(params.create(&format!("{name}.bias"), &[desc.bias_numel()], 0.0)?)
        } else {
            None
        };
        let (ii, io) = (desc.irreps_in(), desc.irreps_out());
        let (din, dout) = (ii.dim(), io.dim());
        let n_w = desc.weight_numel();
        let (off_in, off_out) = (ii.offsets(), io.offsets());
        let mut scale = vec![0.0; n_w + 1];
        let mut w_idx = vec![n_w as u32; din * dout];
        for (k, ins) in desc.instructions().iter().enumerate() {
            let d = ii[ins.i_in].ir.dim();
            let [mi, mo] = ins.path_shape;
            let w0 = desc.weight_offsets()[k];
            for u in 0..mi {
                for w in 0..mo {
                    scale[w0 + u * mo + w] = ins.path_weight;
                    for c in 0..d {
                        w_idx[(off_in[ins.i_in] + u * d + c) * dout + off_out[ins.i_out] + w * d + c] =
                            (w0 + u * mo + w) as u32;
                    }
                }
            }
        }
        let n_b = desc.bias_numel();
        let mut b_idx = vec![n_b as u32; dout];
        for &(i_out, off) in desc.bias_blocks() {
            for v in 0..io[i_out].mul {
                b_idx[off_out[i_out] + v] = (off + v) as u32;
            }
        }
        let device = params.device().clone();
        Ok(EquiLinear {
            desc,
            weights,
            bias,
            scale: params.constant(scale, &[n_w + 1])?,
            w_idx: Tensor::from_vec(w_idx, din * dout, &device)?,
            b_idx: Tensor::from_vec(b_idx, dout, &device)?,
        })
    }

    /// The descriptor.
    pub fn descriptor(&self) -> &Linear {
        &self.desc
    }

    /// The flat weight vector in e3nn's layout (for tests against the reference evaluator).
    pub fn flat_weights(&self) -> Result<(Vec<f64>, Vec<f64>)> {
        let mut w = Vec::new();
        for v in &self.weights {
            w.extend(v.as_tensor().flatten_all()?.to_vec1::<f64>()?);
        }
        let b = match &self.bias {
            Some(b) => b.as_tensor().to_vec1::<f64>()?,
            None => Vec::new(),
        };
        Ok((w, b))
    }

    /// The dense `(dim_in, dim_out)` matrix of the layer (differentiable in the weights).
    pub fn dense_matrix(&self) -> Result<Tensor> {
        let (din, dout) = (self.desc.irreps_in().dim(), self.desc.irreps_out().dim());
        let device = self.scale.device();
        let mut flat: Vec<Tensor> =
            self.weights.iter().map(|w| param(w).flatten_all()).collect::<candle_core::Result<_>>()?;
        flat.push(Tensor::zeros(1, self.scale.dtype(), device)?);
        let theta = Tensor::cat(&flat, 0)?.mul(&self.scale)?;
        Ok(theta.index_select(&self.w_idx, 0)?.reshape((din, dout))?)
    }

    /// Applies the layer: `x (B, dim_in) → (B, dim_out)`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let y = x.contiguous()?.matmul(&self.dense_matrix()?)?;
        self.add_bias(y)
    }

    /// Applies the layer to input whose columns are permuted: column `f` of the pieces
    /// concatenated is input column `rows[f]` (e.g. [`super::conv::EdgeTp::fused_to_descriptor`]).
    /// The pieces are multiplied separately and summed, so they are never concatenated.
    pub fn forward_permuted(&self, pieces: &[Tensor], rows: &Tensor) -> Result<Tensor> {
        let w = self.dense_matrix()?.index_select(rows, 0)?;
        let mut acc: Option<Tensor> = None;
        let mut off = 0;
        for p in pieces {
            let k = p.dim(1)?;
            let y = p.contiguous()?.matmul(&w.narrow(0, off, k)?)?;
            acc = Some(match acc {
                Some(a) => (a + y)?,
                None => y,
            });
            off += k;
        }
        let y = acc.ok_or_else(|| crate::Error::Input("forward_permuted: no input".into()))?;
        self.add_bias(y)
    }

    fn add_bias(&self, y: Tensor) -> Result<Tensor> {
        match &self.bias {
            Some(b) => {
                let ext = Tensor::cat(&[param(b), Tensor::zeros(1, b.dtype(), b.device())?], 0)?;
                Ok(y.broadcast_add(&ext.index_select(&self.b_idx, 0)?.unsqueeze(0)?)?)
            }
            None => Ok(y),
        }
    }
}
