//! The exponential moving average of the trained weights (used for validation and saved).

use crate::Result;
use candle_core::{Tensor, Var};
use std::collections::BTreeMap;

/// Exponential moving average of the trained weights, with the usual warm-up of the decay
/// (`min(decay, (1 + t) / (10 + t))` at update `t`) so early weights do not dominate.
#[derive(Debug, Default)]
pub(super) struct Ema {
    pub(super) decay: f64,
    pub(super) shadow: BTreeMap<String, Tensor>,
}

impl Ema {
    /// Updates the average of the variables for which `trained(name)` holds (a frozen backbone
    /// stays bitwise as it is).
    pub(super) fn update(
        &mut self,
        vars: &BTreeMap<String, Var>,
        step: usize,
        trained: impl Fn(&str) -> bool,
    ) -> Result<()> {
        if self.decay <= 0.0 {
            return Ok(());
        }
        let d = self.decay.min((1.0 + step as f64) / (10.0 + step as f64));
        for (name, var) in vars.iter().filter(|(n, _)| trained(n)) {
            let p = var.as_tensor().detach();
            let new = match self.shadow.get(name) {
                Some(s) => ((s * d)? + (p * (1.0 - d))?)?,
                None => p.copy()?,
            };
            self.shadow.insert(name.clone(), new);
        }
        Ok(())
    }

    /// Swaps the model's weights with the EMA's (call twice to swap back).
    pub(super) fn swap(&mut self, vars: &BTreeMap<String, Var>) -> Result<()> {
        for (name, var) in vars {
            if let Some(s) = self.shadow.get_mut(name) {
                let cur = var.as_tensor().copy()?;
                var.set(s)?;
                *s = cur;
            }
        }
        Ok(())
    }
}
