//! The equivariant linear layer: executes an [`irreps::Linear`] descriptor (same paths, path
//! weights and weight layout as e3nn), tested against its reference evaluator.

use candle_core::{Tensor, Var};
use irreps::{Irreps, Linear};

use crate::{Params, Result};

/// `x (B, dim_in) → (B, dim_out)`.
#[derive(Debug)]
pub struct EquiLinear {
    desc: Linear,
    weights: Vec<Var>,
    bias: Option<Var>,
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
        Ok(EquiLinear { desc, weights, bias })
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

    /// Applies the layer.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let b = x.dim(0)?;
        let (ii, io) = (self.desc.irreps_in(), self.desc.irreps_out());
        let in_off = ii.offsets();
        let mut blocks: Vec<Option<Tensor>> = vec![None; io.len()];
        for (ins, w) in self.desc.instructions().iter().zip(&self.weights) {
            let d = ii[ins.i_in].ir.dim();
            let [mi, mo] = ins.path_shape;
            if mi == 0 || mo == 0 {
                continue;
            }
            let xb = x.narrow(1, in_off[ins.i_in], mi * d)?.reshape((b, mi, d))?.transpose(1, 2)?.contiguous()?;
            let y = (xb.reshape((b * d, mi))?.matmul(w.as_tensor())? * ins.path_weight)?;
            let y = y.reshape((b, d, mo))?.transpose(1, 2)?.contiguous()?.reshape((b, mo * d))?;
            blocks[ins.i_out] = Some(match blocks[ins.i_out].take() {
                Some(acc) => (acc + y)?,
                None => y,
            });
        }
        if let Some(bias) = &self.bias {
            for &(i_out, off) in self.desc.bias_blocks() {
                let mul = io[i_out].mul;
                let bb = bias.as_tensor().narrow(0, off, mul)?.unsqueeze(0)?;
                blocks[i_out] = Some(match blocks[i_out].take() {
                    Some(acc) => acc.broadcast_add(&bb)?,
                    None => bb.broadcast_as((b, mul))?.contiguous()?,
                });
            }
        }
        let parts: Vec<Tensor> = blocks
            .into_iter()
            .zip(io.iter())
            .filter(|(_, m)| m.dim() > 0)
            .map(|(t, m)| match t {
                Some(t) => Ok(t),
                None => Ok(Tensor::zeros((b, m.dim()), x.dtype(), x.device())?),
            })
            .collect::<Result<_>>()?;
        Ok(Tensor::cat(&parts, 1)?)
    }
}
