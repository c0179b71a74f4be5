//! Gated nonlinearity: SiLU on scalars, and each non-scalar channel multiplied by the sigmoid
//! of its own gate scalar.

use candle_core::Tensor;
use irreps::{Irreps, MulIr};

use crate::Result;
use crate::radial::{sigmoid, silu};

/// Splits `hidden` (scalars `0e` first, then non-scalars) into what a linear layer must produce
/// before the gate: `scalars + gates + non-scalars`.
#[derive(Clone, Debug)]
pub struct Gate {
    n_scalars: usize,
    n_gates: usize,
    gated: Irreps,
    /// Irreps the gate consumes.
    pub irreps_in: Irreps,
    /// Irreps it produces (= `hidden`).
    pub irreps_out: Irreps,
}

impl Gate {
    /// For node features `hidden` (e.g. `16x0e+8x1o+8x1e+4x2e`).
    pub fn new(hidden: &Irreps) -> Self {
        let n_scalars: usize = hidden.iter().filter(|m| m.ir.is_scalar()).map(|m| m.mul).sum();
        let gated = Irreps(hidden.iter().filter(|m| !m.ir.is_scalar()).copied().collect());
        let n_gates = gated.num_irreps();
        let scalar = irreps::Irrep::new(0, 1);
        let mut ins = vec![MulIr { mul: n_scalars, ir: scalar }, MulIr { mul: n_gates, ir: scalar }];
        ins.extend(gated.iter().copied());
        let irreps_in = Irreps(ins).remove_zero_multiplicities();
        let mut outs = vec![MulIr { mul: n_scalars, ir: scalar }];
        outs.extend(gated.iter().copied());
        Gate { n_scalars, n_gates, gated, irreps_in, irreps_out: Irreps(outs).remove_zero_multiplicities() }
    }

    /// `(B, dim_in) → (B, dim_out)`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let b = x.dim(0)?;
        let mut parts = Vec::new();
        if self.n_scalars > 0 {
            parts.push(silu(&x.narrow(1, 0, self.n_scalars)?)?);
        }
        let gates = sigmoid(&x.narrow(1, self.n_scalars, self.n_gates)?)?;
        let mut off = self.n_scalars + self.n_gates;
        let mut g = 0;
        for m in self.gated.iter() {
            let d = m.ir.dim();
            let block = x.narrow(1, off, m.mul * d)?.reshape((b, m.mul, d))?;
            let gate = gates.narrow(1, g, m.mul)?.unsqueeze(2)?;
            parts.push(block.broadcast_mul(&gate)?.reshape((b, m.mul * d))?);
            off += m.mul * d;
            g += m.mul;
        }
        Ok(Tensor::cat(&parts, 1)?)
    }
}
