//! The per-epoch record of a run (stored in the checkpoint's metadata).

use serde::{Deserialize, Serialize};

/// One epoch's record.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EpochRecord {
    /// Epoch (1-based).
    pub epoch: usize,
    /// Mean training loss.
    pub train_loss: f64,
    /// Validation energy MAE, eV (NaN without validation samples; JSON `null`).
    #[serde(deserialize_with = "nan_if_null")]
    pub val_energy_mae: f64,
    /// Validation force MAE, eV/Å.
    #[serde(deserialize_with = "nan_if_null")]
    pub val_forces_mae: f64,
    /// Validation Hessian MAE (direct head), eV/Å² (NaN when the loss has no Hessian).
    #[serde(deserialize_with = "nan_if_null")]
    pub val_hessian_mae: f64,
    /// Wall time so far, s.
    pub wall_s: f64,
    /// CPU time of the optimization and validation so far (the budget clock: process user +
    /// system time, summed over resumed runs), s; 0 in checkpoints older than this field.
    #[serde(default)]
    pub cpu_s: f64,
    /// Training samples this epoch visited (fewer than the epoch's pool when the time budget
    /// ended it); 0 in checkpoints older than this field.
    #[serde(default)]
    pub samples: usize,
    /// The process's peak resident memory so far, MiB (`VmHWM` of `/proc/self/status`; 0 where
    /// unreadable or in older checkpoints).
    #[serde(default)]
    pub peak_rss_mib: f64,
}

/// The process's peak resident memory, MiB (`VmHWM`), where `/proc/self/status` has it.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

impl EpochRecord {
    /// The budget clock at the end of this epoch, s: `cpu_s`, or the wall time in checkpoints
    /// older than the CPU clock (`cpu_s` = 0).
    pub fn budget_s(&self) -> f64 {
        if self.cpu_s > 0.0 { self.cpu_s } else { self.wall_s }
    }
}

/// JSON has no NaN: serde_json writes it as `null`, which reads back as NaN here (without this a
/// history with a NaN would not deserialize, and a resumed run would lose its history).
pub(super) fn nan_if_null<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}
