//! Tensor-product convolution: for each edge `j → i`, `x_j ⊗ Y(r̂_ij)` along the paths of an
//! [`irreps::TensorProduct`] descriptor in `uvu` mode (one output block per path, weights per
//! edge and channel from a radial MLP), summed over neighbours with `index_add`.

use candle_core::Tensor;
use irreps::{ConnectionMode, InstructionSpec, Irreps, MulIr, TensorProduct, wigner_3j};

use crate::radial::RadialMlp;
use crate::{Params, Result};

/// Per-edge `uvu` tensor product with radial weights.
#[derive(Debug)]
pub struct EdgeTp {
    tp: TensorProduct,
    cg: Vec<Tensor>,
    radial: RadialMlp,
}

impl EdgeTp {
    /// Paths `irreps_in[i] ⊗ sh[j] → ir` for every `ir` in `i ⊗ j` whose type appears in
    /// `targets` (e.g. the next layer's irreps), each with its own `mul_in × ir` output block.
    pub fn new(
        params: &mut Params,
        name: &str,
        irreps_in: &Irreps,
        sh: &Irreps,
        targets: &Irreps,
        num_basis: usize,
        hidden: usize,
    ) -> Result<Self> {
        let mut out = Vec::new();
        let mut specs = Vec::new();
        for (i1, a) in irreps_in.iter().enumerate() {
            for (i2, b) in sh.iter().enumerate() {
                for ir in a.ir.tensor(&b.ir) {
                    if a.mul > 0 && targets.iter().any(|t| t.ir == ir) {
                        specs.push(InstructionSpec::new(i1, i2, out.len(), ConnectionMode::Uvu, true));
                        out.push(MulIr { mul: a.mul, ir });
                    }
                }
            }
        }
        let tp = TensorProduct::new(irreps_in, sh, &Irreps(out), &specs, Default::default(), Default::default())?;
        let device = params.device().clone();
        let cg = tp
            .instructions()
            .iter()
            .map(|ins| {
                let (l1, l2, l3) =
                    (tp.irreps_in1()[ins.i_in1].ir.l, tp.irreps_in2()[ins.i_in2].ir.l, tp.irreps_out()[ins.i_out].ir.l);
                let c = wigner_3j(l1, l2, l3).expect("selection rules checked");
                Ok(Tensor::from_vec(c.to_vec(), ((2 * l1 + 1) * (2 * l2 + 1), 2 * l3 + 1), &device)?)
            })
            .collect::<Result<Vec<_>>>()?;
        let radial = RadialMlp::new(params, &format!("{name}.radial"), num_basis, hidden, tp.weight_numel())?;
        Ok(EdgeTp { tp, cg, radial })
    }

    /// The descriptor.
    pub fn descriptor(&self) -> &TensorProduct {
        &self.tp
    }

    /// Output irreps (one block per path).
    pub fn irreps_out(&self) -> &Irreps {
        self.tp.irreps_out()
    }

    /// Per-edge weights `(E, weight_numel)` from radial features.
    pub fn weights(&self, radial: &Tensor) -> Result<Tensor> {
        self.radial.forward(radial)
    }

    /// `x_edge (E, dim_in)`, `sh (E, dim_sh)`, `w (E, weight_numel)` → `(E, dim_out)`.
    pub fn forward(&self, x_edge: &Tensor, sh: &Tensor, w: &Tensor) -> Result<Tensor> {
        let e = x_edge.dim(0)?;
        let (o1, o2) = (self.tp.irreps_in1().offsets(), self.tp.irreps_in2().offsets());
        let mut parts = Vec::with_capacity(self.cg.len());
        for (k, (ins, cg)) in self.tp.instructions().iter().zip(&self.cg).enumerate() {
            let a = self.tp.irreps_in1()[ins.i_in1];
            let (d1, d2) = (a.ir.dim(), self.tp.irreps_in2()[ins.i_in2].ir.dim());
            let d3 = cg.dim(1)?;
            let x1 = x_edge.narrow(1, o1[ins.i_in1], a.mul * d1)?.reshape((e, a.mul, d1, 1))?;
            let y = sh.narrow(1, o2[ins.i_in2], d2)?.reshape((e, 1, 1, d2))?;
            let outer = x1.broadcast_mul(&y)?.reshape((e * a.mul, d1 * d2))?;
            let coupled = outer.matmul(cg)?.reshape((e, a.mul, d3))?;
            let wk = w.narrow(1, self.tp.weight_offsets()[k], a.mul)?.unsqueeze(2)?;
            parts.push((coupled.broadcast_mul(&wk)? * ins.path_weight)?.reshape((e, a.mul * d3))?);
        }
        Ok(Tensor::cat(&parts, 1)?)
    }
}
