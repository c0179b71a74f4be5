//! The reference evaluator: slow, clear loops over a [`TensorProduct`] descriptor, on `f64`
//! slices of one sample. This is the ground truth the model's fast kernels are tested against.

use super::descriptor::TensorProduct;
use super::instruction::ConnectionMode;
use crate::{Error, wigner_3j};

fn check_len(what: &str, got: usize, expected: usize) -> Result<(), Error> {
    if got != expected {
        return Err(Error::Shape { what: what.to_string(), expected, got });
    }
    Ok(())
}

impl TensorProduct {
    /// `out = Σ_paths path_weight · (path contribution)` for one sample.
    ///
    /// `x1`: `irreps_in1.dim()`, `x2`: `irreps_in2.dim()`, `weights`: `weight_numel()`.
    /// Output blocks without a path are zero.
    ///
    /// ```
    /// use irreps::{Irreps, TensorProduct};
    /// let v: Irreps = "1x1o".parse().unwrap();
    /// let tp = TensorProduct::full(&v, &v).unwrap(); // 1o ⊗ 1o = 0e + 1e + 2e
    /// let out = tp.forward(&[1.0, 0.0, 0.0], &[0.0, 1.0, 0.0], &[]).unwrap();
    /// // out = [0e | 1e | 2e]; the 1e part is the cross product x × y = ẑ, times √3 · (1/√6)
    /// assert_eq!((out[1], out[2]), (0.0, 0.0));
    /// assert!((out[3] - 3f64.sqrt() / 6f64.sqrt()).abs() < 1e-15);
    /// ```
    pub fn forward(&self, x1: &[f64], x2: &[f64], weights: &[f64]) -> Result<Vec<f64>, Error> {
        let mut out = vec![0.0; self.irreps_out().dim()];
        let out_offsets = self.irreps_out().offsets();
        for k in 0..self.instructions().len() {
            let block = self.forward_path(k, x1, x2, weights)?;
            let o = out_offsets[self.instructions()[k].i_out];
            for (dst, src) in out[o..o + block.len()].iter_mut().zip(&block) {
                *dst += src;
            }
        }
        Ok(out)
    }

    /// Like [`TensorProduct::forward`] for a batch: `x1` `(n, dim1)`, `x2` `(n, dim2)`, shared
    /// weights; returns `(n, dim_out)`.
    pub fn forward_batch(&self, x1: &[f64], x2: &[f64], weights: &[f64]) -> Result<Vec<f64>, Error> {
        let (d1, d2) = (self.irreps_in1().dim(), self.irreps_in2().dim());
        let n = x1.len().checked_div(d1).unwrap_or_else(|| x2.len() / d2.max(1));
        check_len("x1 (batch)", x1.len(), n * d1)?;
        check_len("x2 (batch)", x2.len(), n * d2)?;
        let mut out = Vec::with_capacity(n * self.irreps_out().dim());
        for s in 0..n {
            out.extend(self.forward(&x1[s * d1..(s + 1) * d1], &x2[s * d2..(s + 1) * d2], weights)?);
        }
        Ok(out)
    }

    /// The contribution of path `k` to its output block `irreps_out[i_out]` (length
    /// `mul_out · (2 l_out + 1)`), already multiplied by its `path_weight`.
    pub fn forward_path(&self, k: usize, x1: &[f64], x2: &[f64], weights: &[f64]) -> Result<Vec<f64>, Error> {
        check_len("x1", x1.len(), self.irreps_in1().dim())?;
        check_len("x2", x2.len(), self.irreps_in2().dim())?;
        check_len("weights", weights.len(), self.weight_numel())?;
        let ins = self.instructions().get(k).ok_or_else(|| Error::Invalid(format!("no path {k}")))?;
        let (a, b, o) = (self.irreps_in1()[ins.i_in1], self.irreps_in2()[ins.i_in2], self.irreps_out()[ins.i_out]);
        let (d1, d2, d3) = (a.ir.dim(), b.ir.dim(), o.ir.dim());
        let c = wigner_3j(a.ir.l, b.ir.l, o.ir.l).expect("descriptor checked the selection rules");
        let x1 = &x1[self.irreps_in1().offsets()[ins.i_in1]..][..a.dim()];
        let x2 = &x2[self.irreps_in2().offsets()[ins.i_in2]..][..b.dim()];
        let w = &weights[self.weight_offsets()[k]..][..ins.weight_numel()];
        let weight = |idx: usize| if ins.has_weight { w[idx] } else { 1.0 };
        // t(u, v)[kk] = Σ_ij C[i,j,kk] x1[u,i] x2[v,j]
        let coupled = |u: usize, v: usize| -> Vec<f64> {
            let mut t = vec![0.0; d3];
            for i in 0..d1 {
                for j in 0..d2 {
                    let xy = x1[u * d1 + i] * x2[v * d2 + j];
                    if xy != 0.0 {
                        for kk in 0..d3 {
                            t[kk] += c[(i * d2 + j) * d3 + kk] * xy;
                        }
                    }
                }
            }
            t
        };
        let (m1, m2, mo) = (a.mul, b.mul, o.mul);
        let mut out = vec![0.0; o.dim()];
        let mut add = |w_idx: usize, out_u: usize, t: &[f64]| {
            let s = weight(w_idx);
            for kk in 0..d3 {
                out[out_u * d3 + kk] += s * t[kk];
            }
        };
        match ins.mode {
            ConnectionMode::Uvw => {
                for u in 0..m1 {
                    for v in 0..m2 {
                        let t = coupled(u, v);
                        for wo in 0..mo {
                            add((u * m2 + v) * mo + wo, wo, &t);
                        }
                    }
                }
            }
            ConnectionMode::Uvu => {
                for u in 0..m1 {
                    for v in 0..m2 {
                        add(u * m2 + v, u, &coupled(u, v));
                    }
                }
            }
            ConnectionMode::Uvv => {
                for u in 0..m1 {
                    for v in 0..m2 {
                        add(u * m2 + v, v, &coupled(u, v));
                    }
                }
            }
            ConnectionMode::Uuw => {
                for u in 0..m1 {
                    let t = coupled(u, u);
                    for wo in 0..mo {
                        add(u * mo + wo, wo, &t);
                    }
                }
            }
            ConnectionMode::Uuu => {
                for u in 0..m1 {
                    add(u, u, &coupled(u, u));
                }
            }
            ConnectionMode::Uvuv => {
                for u in 0..m1 {
                    for v in 0..m2 {
                        add(u * m2 + v, u * m2 + v, &coupled(u, v));
                    }
                }
            }
        }
        out.iter_mut().for_each(|x| *x *= ins.path_weight);
        Ok(out)
    }
}
