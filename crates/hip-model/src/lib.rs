//! # hip-model — the HIP network on candle
//!
//! An equivariant message-passing backbone (NequIP/MACE family: species embedding, Bessel radial
//! basis with a polynomial envelope, edge spherical harmonics, `uvu` tensor-product convolutions
//! with radial-MLP weights, gated nonlinearities, residual self-interaction), an energy readout
//! with per-element reference energies, conservative forces by autodiff, and the **HIP Hessian
//! head** ([`hessian_head`]: the one file where the Hessian is assembled).
//!
//! Hessians of the same weights come from three [`providers`]: `direct` (the head, one forward
//! pass), `autodiff` (3N backward passes through the forces; second-order autodiff is self-tested
//! first), `finite_difference` (central differences of forces).
//!
//! Every tensor product and linear layer executes a descriptor of the `irreps` crate and is tested
//! against its reference evaluator.

pub mod checkpoint;
pub mod compute;
pub mod config;
pub mod default_model;
pub mod eval;
pub mod graph;
pub mod hessian_head;
pub mod layers;
pub mod model;
pub mod params;
pub mod providers;
pub mod radial;
pub mod sh;
pub mod train;

pub use compute::Precision;
pub use config::ModelConfig;
pub use model::HipModel;
pub use params::Params;
pub use providers::{HessianMethod, ModelPotential, Prediction};

use std::fmt;

/// Errors of the model crate.
#[derive(Debug)]
pub enum Error {
    /// A tensor operation failed.
    Candle(candle_core::Error),
    /// Shared-vocabulary error (bad molecule, file, ...).
    Core(hip_core::Error),
    /// Irreps descriptor error.
    Irreps(irreps::Error),
    /// Unusable input.
    Input(String),
    /// A checkpoint that cannot be used.
    Checkpoint(String),
    /// Second-order autodiff is not enabled in candle.
    SecondOrderDisabled(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Candle(e) => write!(f, "tensor error: {e}"),
            Error::Core(e) => write!(f, "{e}"),
            Error::Irreps(e) => write!(f, "irreps: {e}"),
            Error::Input(m) => write!(f, "{m}"),
            Error::Checkpoint(m) => write!(f, "checkpoint: {m}"),
            Error::SecondOrderDisabled(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<candle_core::Error> for Error {
    fn from(e: candle_core::Error) -> Self {
        Error::Candle(e)
    }
}
impl From<hip_core::Error> for Error {
    fn from(e: hip_core::Error) -> Self {
        Error::Core(e)
    }
}
impl From<irreps::Error> for Error {
    fn from(e: irreps::Error) -> Self {
        Error::Irreps(e)
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Threads candle's CPU kernels use (`RAYON_NUM_THREADS`, else the physical cores).
pub fn num_threads() -> usize {
    candle_core::utils::get_num_threads()
}

/// Enables candle's second-order autodiff for this process (`CANDLE_GRAD_DO_NOT_DETACH=1`;
/// stack.md rule 1). Call at the very start of `main`, before any thread exists.
pub fn enable_second_order_autodiff() {
    if std::env::var_os("CANDLE_GRAD_DO_NOT_DETACH").is_none() {
        // SAFETY: called at program start, before any other thread is spawned, so no other
        // thread reads or writes the environment concurrently.
        #[allow(unsafe_code)]
        unsafe {
            std::env::set_var("CANDLE_GRAD_DO_NOT_DETACH", "1");
        }
    }
}
