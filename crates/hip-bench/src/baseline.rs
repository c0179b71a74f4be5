//! Regression check: compares speed *ratios* and accuracy (not absolute times, which vary
//! between machines) of a run against a stored baseline, with tolerances.

use crate::report::Results;

/// One compared quantity.
#[derive(Clone, Debug)]
pub struct Check {
    /// What.
    pub name: String,
    /// Baseline value.
    pub baseline: f64,
    /// This run.
    pub current: f64,
    /// Acceptable bound.
    pub bound: f64,
    /// Passed.
    pub ok: bool,
}

/// One check of a baselined value: `Some(b)` in the baseline must have a current value, or the
/// check fails as missing (a benchmark that stops producing a number must not pass).
fn check(out: &mut Vec<Check>, name: String, b: Option<f64>, c: Option<f64>, bound: impl Fn(f64) -> f64, lower: bool) {
    let Some(b) = b else { return };
    let bd = bound(b);
    match c {
        Some(c) => {
            out.push(Check { name, baseline: b, current: c, bound: bd, ok: if lower { c <= bd } else { c >= bd } })
        }
        None => {
            out.push(Check { name: format!("{name} (missing)"), baseline: b, current: f64::NAN, bound: bd, ok: false })
        }
    }
}

/// Ratios may fall to half the baseline (timing noise on a shared 2-core machine is large);
/// direct/(E+F) may double. Accuracy is deterministic for fixed weights and data, so errors may
/// grow by 5 % (+1e-9) and agreements/cosines may drop by 0.02. Every measurement the baseline
/// has must be in the current run: a missing one is a failed check.
pub fn compare(current: &Results, baseline: &Results) -> Vec<Check> {
    let mut out = Vec::new();
    for b in &baseline.ratios {
        let c = current.ratios.iter().find(|c| c.n_atoms == b.n_atoms);
        let n = b.n_atoms;
        check(
            &mut out,
            format!("AD/direct @ {n} atoms"),
            b.autodiff_over_direct,
            c.and_then(|c| c.autodiff_over_direct),
            |v| 0.5 * v,
            false,
        );
        check(
            &mut out,
            format!("FD/direct @ {n} atoms"),
            b.fd_over_direct,
            c.and_then(|c| c.fd_over_direct),
            |v| 0.5 * v,
            false,
        );
        check(
            &mut out,
            format!("direct/(E+F) @ {n} atoms"),
            b.direct_over_energy_forces,
            c.and_then(|c| c.direct_over_energy_forces),
            |v| 2.0 * v,
            true,
        );
        check(
            &mut out,
            format!("(direct+forces)/(E+F) @ {n} atoms"),
            b.direct_with_forces_over_energy_forces,
            c.and_then(|c| c.direct_with_forces_over_energy_forces),
            |v| 2.0 * v,
            true,
        );
    }
    let lower = [
        "energy_mae_ev",
        "forces_mae_ev_a",
        "hessian_mae",
        "eigenvalue_mae",
        "lambda1_mae",
        "zpe_error_ev",
        "frequency_mae_cm",
    ];
    let higher = ["cos_v1", "neg_count_agreement", "ts_agreement"];
    let get = |v: &serde_json::Value, k: &str| {
        v.get(k).or_else(|| v.get("hessian").and_then(|h| h.get(k))).and_then(|x| x.as_f64())
    };
    for (prov, bv) in &baseline.accuracy {
        let cv = current.accuracy.get(prov);
        for k in lower {
            check(&mut out, format!("{prov} {k}"), get(bv, k), cv.and_then(|c| get(c, k)), |b| b * 1.05 + 1e-9, true);
        }
        for k in higher {
            check(&mut out, format!("{prov} {k}"), get(bv, k), cv.and_then(|c| get(c, k)), |b| b - 0.02, false);
        }
    }
    out
}

/// A printable table.
pub fn table(checks: &[Check]) -> String {
    let mut s = format!("{:<36} {:>12} {:>12} {:>12}  {}\n", "check", "baseline", "current", "bound", "");
    for c in checks {
        s += &format!(
            "{:<36} {:>12.4} {:>12.4} {:>12.4}  {}\n",
            c.name,
            c.baseline,
            c.current,
            c.bound,
            if c.ok { "ok" } else { "REGRESSION" }
        );
    }
    s
}
