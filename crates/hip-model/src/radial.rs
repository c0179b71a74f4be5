//! Radial features: Bessel basis × polynomial cutoff envelope, and the MLP that turns them into
//! per-edge tensor-product weights.

use candle_core::Tensor;

use crate::params::param;
use crate::{Params, Result};

/// `√(2/r_c) sin(nπr/r_c)/r · u(r/r_c)` for `n = 1..=num`, with the smooth polynomial envelope
/// `u(x) = 1 − (p+1)(p+2)/2 xᵖ + p(p+2) x^{p+1} − p(p+1)/2 x^{p+2}` (NequIP), zero at `r_c` with
/// two vanishing derivatives. `r`: `(E, 1)` → `(E, num)`.
pub fn bessel_envelope(r: &Tensor, cutoff: f64, num: usize, p: usize) -> Result<Tensor> {
    let n = Tensor::arange(1u32, num as u32 + 1, r.device())?.to_dtype(r.dtype())?.unsqueeze(0)?;
    let arg = r.broadcast_mul(&(n * (std::f64::consts::PI / cutoff))?)?;
    let basis = arg.sin()?.broadcast_div(r)? * (2.0 / cutoff).sqrt();
    Ok(basis?.broadcast_mul(&envelope(r, cutoff, p)?)?)
}

/// The polynomial cutoff envelope `u(r / r_c)` of [`bessel_envelope`], `(E, 1) → (E, 1)`.
pub fn envelope(r: &Tensor, cutoff: f64, p: usize) -> Result<Tensor> {
    let x = (r / cutoff)?;
    let pf = p as f64;
    let xp = x.powf(pf)?;
    Ok(((((xp.clone() * (-(pf + 1.0) * (pf + 2.0) / 2.0))? + 1.0)? + (xp.mul(&x)? * (pf * (pf + 2.0)))?)?
        - (xp.mul(&x)?.mul(&x)? * (pf * (pf + 1.0) / 2.0))?)?)
}

/// A dense layer `y = x W / √in + b`.
#[derive(Debug)]
pub struct Dense {
    w: candle_core::Var,
    b: candle_core::Var,
    scale: f64,
}

impl Dense {
    /// `in → out`, weights N(0, 1), zero bias.
    pub fn new(params: &mut Params, name: &str, input: usize, output: usize) -> Result<Self> {
        Ok(Dense {
            w: params.create(&format!("{name}.weight"), &[input, output], 1.0)?,
            b: params.create(&format!("{name}.bias"), &[output], 0.0)?,
            scale: 1.0 / (input as f64).sqrt(),
        })
    }

    /// `(B, in) → (B, out)`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok((x.matmul(&param(&self.w))? * self.scale)?.broadcast_add(&param(&self.b))?)
    }

    /// Output columns `cols` only (repeats allowed): `(B, in) → (B, len(cols))`. Gathers the
    /// weight columns, not the output, so the cost is one matmul of the gathered width.
    pub fn forward_columns(&self, x: &Tensor, cols: &Tensor) -> Result<Tensor> {
        let w = param(&self.w).index_select(cols, 1)?;
        let b = param(&self.b).index_select(cols, 0)?;
        Ok((x.matmul(&w)? * self.scale)?.broadcast_add(&b)?)
    }
}

/// `x · sigmoid(x)`, composed from tensor ops so that it has any-order derivatives in f64.
pub fn silu(x: &Tensor) -> Result<Tensor> {
    Ok(x.mul(&sigmoid(x)?)?)
}

/// `1 / (1 + e^{−x})`.
pub fn sigmoid(x: &Tensor) -> Result<Tensor> {
    Ok(((x.neg()?.exp()? + 1.0)?).recip()?)
}

/// Radial MLP `num_basis → hidden → hidden → out` with SiLU.
#[derive(Debug)]
pub struct RadialMlp {
    layers: Vec<Dense>,
}

impl RadialMlp {
    /// Builds the three layers.
    pub fn new(params: &mut Params, name: &str, input: usize, hidden: usize, output: usize) -> Result<Self> {
        Ok(RadialMlp {
            layers: vec![
                Dense::new(params, &format!("{name}.0"), input, hidden)?,
                Dense::new(params, &format!("{name}.1"), hidden, hidden)?,
                Dense::new(params, &format!("{name}.2"), hidden, output)?,
            ],
        })
    }

    /// `(E, input) → (E, output)`.
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (last, hidden) = self.layers.split_last().expect("three layers");
        last.forward(&self.hidden(x, hidden)?)
    }

    /// `(E, input) → (E, len(cols))`: output columns `cols` (repeats allowed) of [`Self::forward`].
    pub fn forward_columns(&self, x: &Tensor, cols: &Tensor) -> Result<Tensor> {
        let (last, hidden) = self.layers.split_last().expect("three layers");
        last.forward_columns(&self.hidden(x, hidden)?, cols)
    }

    fn hidden(&self, x: &Tensor, layers: &[Dense]) -> Result<Tensor> {
        let mut h = x.clone();
        for l in layers {
            h = silu(&l.forward(&h)?)?;
        }
        Ok(h)
    }
}
