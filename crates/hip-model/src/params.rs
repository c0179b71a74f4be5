//! [`Params`]: the model's named trainable tensors, initialized from a seed (deterministic, no
//! global RNG), saved and loaded as safetensors.

use std::cell::Cell;
use std::collections::BTreeMap;

use candle_core::{DType, Device, Tensor, Var};
use irreps::rotation::SplitMix64;

use crate::Result;

thread_local! {
    static PARAM_GRADS: Cell<bool> = const { Cell::new(false) };
}

/// A parameter as the forward pass uses it. While a [`ParamGrads`] guard is alive in this
/// thread (training) that is the variable itself, so the loss has gradients for it. Otherwise
/// (inference: energies, forces, autodiff and direct Hessians) it is a detached view of the same
/// storage: no copy, and backward passes never compute gradients for weights nobody reads —
/// about a third of the work of a force backward pass.
pub fn param(v: &Var) -> Tensor {
    if param_grads_enabled() { v.as_tensor().clone() } else { v.as_tensor().detach() }
}

/// Whether a [`ParamGrads`] guard is alive in this thread.
pub fn param_grads_enabled() -> bool {
    PARAM_GRADS.with(Cell::get)
}

/// Turns on parameter gradients in this thread until dropped (see [`param`]).
#[derive(Debug)]
pub struct ParamGrads {
    previous: bool,
}

impl ParamGrads {
    /// Enables parameter gradients.
    pub fn enable() -> Self {
        ParamGrads { previous: PARAM_GRADS.with(|c| c.replace(true)) }
    }
}

impl Drop for ParamGrads {
    fn drop(&mut self) {
        PARAM_GRADS.with(|c| c.set(self.previous));
    }
}

/// Named variables, all of one dtype on one device.
#[derive(Debug)]
pub struct Params {
    vars: BTreeMap<String, Var>,
    rng: SplitMix64,
    device: Device,
    dtype: DType,
}

impl Params {
    /// An empty f64 store whose initializations draw from `seed`.
    pub fn new(seed: u64, device: &Device) -> Self {
        Self::with_dtype(seed, device, DType::F64)
    }

    /// An empty store of `dtype` (F64 or F32) whose initializations draw from `seed`: the same
    /// draws in either dtype (drawn in f64, then rounded).
    pub fn with_dtype(seed: u64, device: &Device, dtype: DType) -> Self {
        Params { vars: BTreeMap::new(), rng: SplitMix64(seed ^ 0x5eed_5eed), device: device.clone(), dtype }
    }

    /// A constant (not trained) of the store's dtype and device from f64 values, e.g. a layer's
    /// fixed coupling matrix.
    pub fn constant(&self, data: Vec<f64>, shape: &[usize]) -> Result<Tensor> {
        Ok(Tensor::from_vec(data, shape, &self.device)?.to_dtype(self.dtype)?)
    }

    /// A new variable `name` of `shape`, normal with standard deviation `std` (0 → zeros).
    pub fn create(&mut self, name: &str, shape: &[usize], std: f64) -> Result<Var> {
        assert!(!self.vars.contains_key(name), "parameter {name} created twice");
        let n: usize = shape.iter().product();
        let data: Vec<f64> = (0..n).map(|_| if std == 0.0 { 0.0 } else { std * self.rng.normal() }).collect();
        let var = Var::from_tensor(&self.constant(data, shape)?)?;
        self.vars.insert(name.to_string(), var.clone());
        Ok(var)
    }

    /// The device the variables live on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The variables' dtype.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// All variables by name.
    pub fn vars(&self) -> &BTreeMap<String, Var> {
        &self.vars
    }

    /// Total number of scalars.
    pub fn numel(&self) -> usize {
        self.vars.values().map(|v| v.elem_count()).sum()
    }

    /// Name → tensor map (the variables themselves, in the store's dtype).
    pub fn tensors(&self) -> BTreeMap<String, Tensor> {
        self.vars.iter().map(|(k, v)| (k.clone(), v.as_tensor().clone())).collect()
    }

    /// Copies values from `tensors` into the variables; every variable must be present with the
    /// same shape, and no extra tensor may be given.
    pub fn assign(&self, tensors: &BTreeMap<String, Tensor>, context: &str) -> Result<()> {
        for (name, var) in &self.vars {
            let t = tensors
                .get(name)
                .ok_or_else(|| crate::Error::Checkpoint(format!("{context}: missing parameter {name}")))?;
            if t.dims() != var.dims() {
                return Err(crate::Error::Checkpoint(format!(
                    "{context}: parameter {name} has shape {:?}, the model expects {:?}",
                    t.dims(),
                    var.dims()
                )));
            }
            var.set(&t.to_dtype(self.dtype)?.to_device(&self.device)?)?;
        }
        if let Some(extra) = tensors.keys().find(|k| !self.vars.contains_key(*k) && !k.starts_with("optim.")) {
            return Err(crate::Error::Checkpoint(format!(
                "{context}: unexpected parameter {extra} (config mismatch?)"
            )));
        }
        Ok(())
    }
}
