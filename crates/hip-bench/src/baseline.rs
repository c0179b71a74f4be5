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

/// Ratios may fall to half the baseline (timing noise on a shared 2-core machine is large);
/// direct/(E+F) may double. Accuracy is deterministic for fixed weights and data, so errors may
/// grow by 5 % (+1e-9) and agreements/cosines may drop by 0.02.
pub fn compare(current: &Results, baseline: &Results) -> Vec<Check> {
    let mut out = Vec::new();
    for b in &baseline.ratios {
        let Some(c) = current.ratios.iter().find(|c| c.n_atoms == b.n_atoms) else { continue };
        let mut push_min = |name: String, bv: Option<f64>, cv: Option<f64>, frac: f64| {
            if let (Some(bv), Some(cv)) = (bv, cv) {
                out.push(Check { name, baseline: bv, current: cv, bound: bv * frac, ok: cv >= bv * frac });
            }
        };
        push_min(format!("AD/direct @ {} atoms", b.n_atoms), b.autodiff_over_direct, c.autodiff_over_direct, 0.5);
        push_min(format!("FD/direct @ {} atoms", b.n_atoms), b.fd_over_direct, c.fd_over_direct, 0.5);
        let pairs = [
            ("direct/(E+F)", b.direct_over_energy_forces, c.direct_over_energy_forces),
            ("(direct+forces)/(E+F)", b.direct_with_forces_over_energy_forces, c.direct_with_forces_over_energy_forces),
        ];
        for (what, bv, cv) in pairs {
            if let (Some(bv), Some(cv)) = (bv, cv) {
                out.push(Check {
                    name: format!("{what} @ {} atoms", b.n_atoms),
                    baseline: bv,
                    current: cv,
                    bound: 2.0 * bv,
                    ok: cv <= 2.0 * bv,
                });
            }
        }
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
    for (prov, bv) in &baseline.accuracy {
        let Some(cv) = current.accuracy.get(prov) else { continue };
        let get = |v: &serde_json::Value, k: &str| {
            v.get(k).or_else(|| v.get("hessian").and_then(|h| h.get(k))).and_then(|x| x.as_f64())
        };
        for k in lower {
            if let (Some(b), Some(c)) = (get(bv, k), get(cv, k)) {
                let bound = b * 1.05 + 1e-9;
                out.push(Check { name: format!("{prov} {k}"), baseline: b, current: c, bound, ok: c <= bound });
            }
        }
        for k in higher {
            if let (Some(b), Some(c)) = (get(bv, k), get(cv, k)) {
                out.push(Check {
                    name: format!("{prov} {k}"),
                    baseline: b,
                    current: c,
                    bound: b - 0.02,
                    ok: c >= b - 0.02,
                });
            }
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
