//! Where and in what precision the network computes: [`Precision`] (`f64` | `f32`) and
//! [`device`] (`cpu` | `cuda` | `cuda:N`).
//!
//! Whatever the choice, the model's *interface* is f64: positions, their differences, energies,
//! forces and Hessians are f64 tensors; only the weights and the network's arithmetic take the
//! precision (see [`crate::HipModel::with_dtype`]). Checkpoints store f64 weights.

use std::fmt;
use std::str::FromStr;

use candle_core::{DType, Device};
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// Floating-point precision of the weights and the network's arithmetic.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// Double precision: the default, and what the tests' tight tolerances assume.
    #[default]
    F64,
    /// Single precision: faster on GPUs (and wider SIMD on CPUs), ~1e-7 relative rounding.
    F32,
}

impl Precision {
    /// The candle dtype.
    pub fn dtype(self) -> DType {
        match self {
            Precision::F64 => DType::F64,
            Precision::F32 => DType::F32,
        }
    }
}

impl FromStr for Precision {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "f64" | "float64" | "double" => Ok(Precision::F64),
            "f32" | "float32" | "single" => Ok(Precision::F32),
            other => Err(Error::Input(format!("dtype \"{other}\": use f64 or f32"))),
        }
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Precision::F64 => "f64",
            Precision::F32 => "f32",
        })
    }
}

/// Environment variable naming the default device (`cpu`, `cuda`, `cuda:N`).
pub const DEVICE_ENV: &str = "HIP_DEVICE";

/// The device named by `spec` (`cpu`, `cuda` = `cuda:0`, `cuda:N`); `None` takes
/// [`DEVICE_ENV`], else the CPU. A CUDA device in a build without the `cuda` feature, or with no
/// such GPU, is an error that says so.
pub fn device(spec: Option<&str>) -> Result<Device> {
    let from_env = std::env::var(DEVICE_ENV).ok().filter(|s| !s.trim().is_empty());
    let (spec, source) = match spec {
        Some(s) => (s.to_string(), "--device"),
        None => match from_env {
            Some(s) => (s, DEVICE_ENV),
            None => return Ok(Device::Cpu),
        },
    };
    let s = spec.trim().to_ascii_lowercase();
    let ordinal = match s.as_str() {
        "cpu" => return Ok(Device::Cpu),
        "cuda" | "gpu" => 0,
        _ => match s.strip_prefix("cuda:").map(str::parse::<usize>) {
            Some(Ok(n)) => n,
            _ => return Err(Error::Input(format!("{source} \"{spec}\": use cpu, cuda or cuda:N"))),
        },
    };
    if !candle_core::utils::cuda_is_available() {
        return Err(Error::Input(format!(
            "{source} \"{spec}\": this build has no CUDA support (rebuild with `--features cuda`, see scripts/setup-cuda.sh)"
        )));
    }
    if let Some(lib) = missing_cuda_library() {
        return Err(Error::Input(format!(
            "{source} \"{spec}\": the CUDA library {lib} cannot be loaded (no NVIDIA driver, or not on LD_LIBRARY_PATH)"
        )));
    }
    Device::new_cuda(ordinal)
        .map_err(|e| Error::Input(format!("{source} \"{spec}\": no usable CUDA device {ordinal} ({e})")))
}

/// The first CUDA library a CUDA device needs that cannot be loaded (the driver's libcuda,
/// cuBLAS, cuBLASLt, cuRAND, NVRTC), if any: cudarc opens them at first use and panics when one
/// is missing, so they are checked before a device is created.
#[cfg(feature = "cuda")]
fn missing_cuda_library() -> Option<&'static str> {
    // SAFETY: each check only tries `dlopen` on the library's candidate names and closes it.
    #[allow(unsafe_code)]
    let present = unsafe {
        [
            ("libcuda (NVIDIA driver)", cudarc::driver::sys::is_culib_present()),
            ("cuBLAS", cudarc::cublas::sys::is_culib_present()),
            ("cuBLASLt", cudarc::cublaslt::sys::is_culib_present()),
            ("cuRAND", cudarc::curand::sys::is_culib_present()),
            ("NVRTC", cudarc::nvrtc::sys::is_culib_present()),
        ]
    };
    present.into_iter().find(|(_, ok)| !ok).map(|(name, _)| name)
}

#[cfg(not(feature = "cuda"))]
fn missing_cuda_library() -> Option<&'static str> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precision_parses_and_prints() {
        for p in [Precision::F64, Precision::F32] {
            assert_eq!(p.to_string().parse::<Precision>().unwrap(), p);
        }
        assert!("f16".parse::<Precision>().is_err());
        assert_eq!(Precision::default(), Precision::F64);
    }

    #[test]
    fn device_specs() {
        assert!(device(Some("cpu")).unwrap().is_cpu());
        assert!(device(Some(" CPU ")).unwrap().is_cpu());
        for bad in ["tpu", "cuda:x", "cuda:-1", ""] {
            let e = device(Some(bad)).unwrap_err().to_string();
            assert!(e.contains("use cpu, cuda or cuda:N"), "{bad}: {e}");
        }
        if !candle_core::utils::cuda_is_available() {
            let e = device(Some("cuda:0")).unwrap_err().to_string();
            assert!(e.contains("no CUDA support"), "{e}");
        } else if missing_cuda_library().is_some() {
            // a CUDA build on a machine without the driver or cuBLAS: an error, not cudarc's panic
            let e = device(Some("cuda:0")).unwrap_err().to_string();
            assert!(e.contains("cannot be loaded"), "{e}");
        }
    }
}
