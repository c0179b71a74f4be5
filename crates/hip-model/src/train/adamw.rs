//! AdamW with decoupled weight decay and global gradient-norm clipping; its state is part of
//! the checkpoint, so a resumed run continues bitwise.

use crate::Result;
use candle_core::{DType, Device, Tensor, Var};
use std::collections::BTreeMap;

/// AdamW (Loshchilov & Hutter) with its state exposed for checkpoints.
#[derive(Debug)]
pub struct AdamW {
    /// First moments by parameter name.
    pub m: BTreeMap<String, Tensor>,
    /// Second moments.
    pub v: BTreeMap<String, Tensor>,
    /// Steps taken.
    pub step: usize,
    beta1: f64,
    beta2: f64,
    eps: f64,
}

impl Default for AdamW {
    fn default() -> Self {
        AdamW { m: BTreeMap::new(), v: BTreeMap::new(), step: 0, beta1: 0.9, beta2: 0.999, eps: 1e-8 }
    }
}

impl AdamW {
    /// One update of every variable with gradient `grads[name]`.
    pub fn update(
        &mut self,
        vars: &BTreeMap<String, Var>,
        grads: &BTreeMap<String, Tensor>,
        lr: f64,
        weight_decay: f64,
    ) -> Result<()> {
        self.step += 1;
        let t = self.step as i32;
        let (bc1, bc2) = (1.0 - self.beta1.powi(t), 1.0 - self.beta2.powi(t));
        for (name, var) in vars {
            let Some(g) = grads.get(name) else { continue };
            let m = match self.m.get(name) {
                Some(m) => ((m * self.beta1)? + (g * (1.0 - self.beta1))?)?,
                None => (g * (1.0 - self.beta1))?,
            };
            let v = match self.v.get(name) {
                Some(v) => ((v * self.beta2)? + (g.sqr()? * (1.0 - self.beta2))?)?,
                None => (g.sqr()? * (1.0 - self.beta2))?,
            };
            let update = ((&m / bc1)? / ((&v / bc2)?.sqrt()? + self.eps)?)?;
            let p = var.as_tensor();
            let new = ((p * (1.0 - lr * weight_decay))? - (update * lr)?)?;
            var.set(&new.detach())?;
            self.m.insert(name.clone(), m.detach());
            self.v.insert(name.clone(), v.detach());
        }
        Ok(())
    }

    /// State as `optim.*` tensors (for checkpoints).
    pub fn state(&self, device: &Device) -> Result<BTreeMap<String, Tensor>> {
        let mut out = BTreeMap::new();
        for (k, t) in &self.m {
            out.insert(format!("optim.m.{k}"), t.clone());
        }
        for (k, t) in &self.v {
            out.insert(format!("optim.v.{k}"), t.clone());
        }
        out.insert("optim.step".into(), Tensor::new(&[self.step as f64], device)?);
        Ok(out)
    }

    /// Restores from `optim.*` tensors, the moments in `dtype`.
    pub fn from_state(state: &BTreeMap<String, Tensor>, dtype: DType) -> Result<Self> {
        let mut a = AdamW::default();
        for (k, t) in state {
            if let Some(n) = k.strip_prefix("optim.m.") {
                a.m.insert(n.to_string(), t.to_dtype(dtype)?);
            } else if let Some(n) = k.strip_prefix("optim.v.") {
                a.v.insert(n.to_string(), t.to_dtype(dtype)?);
            } else if k == "optim.step" {
                a.step = t.to_vec1::<f64>()?[0] as usize;
            }
        }
        Ok(a)
    }
}
