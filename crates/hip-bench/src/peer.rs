//! The peer: what a user would pick instead — a comparable equivariant model in PyTorch + e3nn
//! (`peers/e3nn_peer.py`: same irreps, layers, cutoff, radial basis; random weights), timed on
//! the same alkanes with the same thread count. [`run_peer`] runs the script when `python3` with
//! torch and e3nn is available and parses its JSON.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// One size of the peer run.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct PeerRow {
    /// Atoms.
    pub n_atoms: usize,
    /// One energy+forces call (autograd), ms.
    pub energy_forces_ms: f64,
    /// Full autograd Hessian (3N backward passes through the force graph), ms.
    pub autograd_hessian_ms: f64,
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

/// Runs `script` (the peer) with `python3` on `sizes` with `threads` threads.
pub fn run_peer(script: &Path, sizes: &[usize], threads: usize) -> Result<PeerResult, String> {
    let mut cmd = std::process::Command::new("python3");
    cmd.arg(script).arg("--threads").arg(threads.to_string()).arg("--sizes");
    cmd.args(sizes.iter().map(|n| n.to_string()));
    cmd.env("OMP_NUM_THREADS", threads.to_string());
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
