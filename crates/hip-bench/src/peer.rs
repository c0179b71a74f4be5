//! The peer: what a user would pick instead — a comparable equivariant model in PyTorch + e3nn
//! (`peers/e3nn_peer.py`: same irreps, layers, cutoff, radial basis; random weights), timed on
//! the same alkanes with the same thread count. [`run_peer`] runs the script when `python3` with
//! torch and e3nn is available and parses its JSON.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// One size of the peer run: medians, with min/max and the number of timed runs of the same
/// protocol as ours ([`crate::speed::time_interleaved`]). Outputs of older scripts lack the
/// spread and `runs` (0).
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct PeerRow {
    /// Atoms.
    pub n_atoms: usize,
    /// Timed runs of each call (0: not reported).
    #[serde(default)]
    pub runs: usize,
    /// One energy+forces call (autograd), median ms.
    pub energy_forces_ms: f64,
    /// Fastest energy+forces run, ms.
    #[serde(default)]
    pub energy_forces_min_ms: Option<f64>,
    /// Slowest energy+forces run, ms.
    #[serde(default)]
    pub energy_forces_max_ms: Option<f64>,
    /// Energy, forces and the full autograd Hessian (3N backward passes through the force
    /// graph), median ms: the peer's counterpart of our `autodiff`.
    pub autograd_hessian_ms: f64,
    /// Fastest autograd-Hessian run, ms.
    #[serde(default)]
    pub autograd_hessian_min_ms: Option<f64>,
    /// Slowest autograd-Hessian run, ms.
    #[serde(default)]
    pub autograd_hessian_max_ms: Option<f64>,
}

/// What the peer script reports.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct PeerResult {
    /// torch version.
    pub torch: String,
    /// e3nn version.
    pub e3nn: String,
    /// Threads (`torch.set_num_threads`).
    pub threads: usize,
    /// Timings per size.
    pub rows: Vec<PeerRow>,
}

/// Runs `script` (the peer) with `python3` on `sizes` with `threads` threads and our timing
/// protocol: at least `min_runs` timed runs of each call and `budget_s` seconds of rounds per size.
pub fn run_peer(
    script: &Path,
    sizes: &[usize],
    threads: usize,
    min_runs: usize,
    budget_s: f64,
) -> Result<PeerResult, String> {
    let mut cmd = std::process::Command::new("python3");
    cmd.arg(script).arg("--threads").arg(threads.to_string());
    cmd.arg("--min-runs").arg(min_runs.to_string()).arg("--budget").arg(budget_s.to_string());
    cmd.arg("--sizes").args(sizes.iter().map(|n| n.to_string()));
    cmd.env("OMP_NUM_THREADS", threads.to_string()).env("MKL_NUM_THREADS", threads.to_string());
    let out = cmd.output().map_err(|e| format!("python3: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!("{}: {}", script.display(), err.lines().last().unwrap_or("failed")));
    }
    parse(&String::from_utf8_lossy(&out.stdout)).map_err(|e| format!("{}: {e}", script.display()))
}

/// Parses the script's output (its last line is one JSON object).
pub fn parse(stdout: &str) -> Result<PeerResult, String> {
    let line = stdout.lines().rev().find(|l| !l.trim().is_empty()).ok_or("no output")?;
    serde_json::from_str(line).map_err(|e| format!("bad peer output ({e}): {line}"))
}
