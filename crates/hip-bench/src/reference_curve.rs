//! The MACE reference's validation curve beside our learning curves (issue 12's baseline
//! criterion: the E+F model's force error within 1.5× of a MACE trained on the same data for the
//! same CPU time).
//!
//! `scripts/mace_budget.py` keeps the curve in its `state.json`: `curve` rows `[epoch, training
//! CPU s, val E MAE (eV), val F MAE (eV/Å)]` on the same 300 validation samples `hip train`
//! validates on, `data` and `train_samples` (the HDF5 file it was trained on and the size of its
//! train split), `budget_s` and `done`. [`read_mace_state`]
//! turns the rows into [`EpochRecord`]s, so the report's training table and force plot show MACE
//! like any of our runs.

use std::path::Path;

use hip_model::train::EpochRecord;
use serde::Deserialize;

/// The label of the MACE reference's curve in the report.
pub const MACE_LABEL: &str = "MACE reference";

/// The force-error bar of issue 12: E+F val F MAE ≤ this × the MACE reference's.
pub const MACE_FORCE_RATIO_BAR: f64 = 1.5;

/// A MACE reference run as `scripts/mace_budget.py` records it.
#[derive(Clone, Debug)]
pub struct ReferenceCurve {
    /// The training data file as the script was given it.
    pub data: String,
    /// The number of samples in its train split.
    pub train_samples: usize,
    /// The CPU budget, s.
    pub budget_s: f64,
    /// Whether the budget was spent (false: the run is still going or was stopped early).
    pub done: bool,
    /// One record per validated epoch (`epoch` 1-based, `cpu_s` the training CPU clock; no
    /// Hessian, no training loss: NaN).
    pub history: Vec<EpochRecord>,
}

#[derive(Deserialize)]
struct State {
    data: Option<String>,
    train_samples: Option<usize>,
    budget_s: f64,
    #[serde(default)]
    done: bool,
    curve: Vec<[f64; 4]>,
}

/// Reads `state.json` of `scripts/mace_budget.py`. Errors name the file: unreadable, not JSON of
/// that shape (a missing or non-numeric value included), no `data` field (states written before
/// it was recorded), or CPU times that go backwards.
pub fn read_mace_state(path: &Path) -> Result<ReferenceCurve, String> {
    let at = |m: &str| format!("{}: {m}", path.display());
    let text = std::fs::read_to_string(path).map_err(|e| at(&e.to_string()))?;
    let s: State = serde_json::from_str(&text).map_err(|e| at(&format!("not a MACE reference state: {e}")))?;
    let unknown = |f: &str| at(&format!("no `{f}` field: the training data of this curve is unknown"));
    let data = s.data.ok_or_else(|| unknown("data"))?;
    let train_samples = s.train_samples.ok_or_else(|| unknown("train_samples"))?;
    let mut history = Vec::with_capacity(s.curve.len());
    // (JSON has no NaN or infinity: such rows already failed to parse)
    for (i, &[_, cpu_s, e, f]) in s.curve.iter().enumerate() {
        if history.last().is_some_and(|h: &EpochRecord| h.cpu_s > cpu_s) {
            return Err(at(&format!("curve row {i}: the CPU clock goes backwards")));
        }
        history.push(EpochRecord {
            epoch: i + 1,
            train_loss: f64::NAN,
            val_energy_mae: e,
            val_forces_mae: f,
            val_hessian_mae: f64::NAN,
            wall_s: cpu_s,
            cpu_s,
            samples: 0,
            peak_rss_mib: 0.0,
        });
    }
    Ok(ReferenceCurve { data, train_samples, budget_s: s.budget_s, done: s.done, history })
}

/// Whether the curve was trained on the data file `data` whose train split has `train_samples`
/// samples: the same file name (the report's path and the script's may be spelled from different
/// directories) and the same train-split size (a file name alone has named two data versions).
pub fn same_data(curve: &ReferenceCurve, data: &Path, train_samples: usize) -> bool {
    let name = Path::new(&curve.data).file_name();
    name.is_some() && name == data.file_name() && curve.train_samples == train_samples
}

/// The E+F baseline's final val F MAE over the MACE reference's: the number issue 12 bounds by
/// [`MACE_FORCE_RATIO_BAR`]. Each run's last validated epoch within its budget, as both are
/// compared at the same CPU budget; `None` when either curve is empty.
pub fn force_ratio(ef: &[EpochRecord], mace: &[EpochRecord]) -> Option<f64> {
    let (e, m) = (ef.last()?, mace.last()?);
    (e.val_forces_mae.is_finite() && m.val_forces_mae > 0.0).then(|| e.val_forces_mae / m.val_forces_mae)
}
