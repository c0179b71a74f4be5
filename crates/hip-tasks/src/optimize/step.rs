//! Trust-region step computations in the eigenbasis of a (projected) Hessian.
//!
//! With `H = V Λ Vᵀ` and gradient components `g̃ = Vᵀ g`:
//! - **RFO** (minimize every mode): `s_i = −g̃_i / (Λ_i − μ)`, where `μ < min(Λ, 0)` is the lowest
//!   eigenvalue of the augmented Hessian `[[Λ, g̃], [g̃ᵀ, 0]]`, i.e. the root of
//!   `μ = Σ g̃_i² / (μ − Λ_i)`.
//! - **P-RFO** (maximize along mode `t`, minimize the others): mode `t` uses the *largest*
//!   eigenvalue of its own 2×2 augmented Hessian, `μ_P = Λ_t/2 + √(Λ_t²/4 + g̃_t²)`; the other
//!   modes use the RFO shift `μ_N` of their own augmented Hessian.
//! - **Restricted step**: if `|s|` exceeds the trust radius `R`, the shifts are pushed further
//!   (`μ_N − τ`, `μ_P + τ`, one `τ ≥ 0` found by bisection) until `|s| = R`: every component
//!   keeps its direction and shrinks, as in RS-RFO / RS-P-RFO.

/// `s(μ)` for the minimized modes.
fn min_components(lam: &[f64], g: &[f64], mu: f64) -> Vec<f64> {
    lam.iter().zip(g).map(|(l, gi)| if gi.abs() == 0.0 { 0.0 } else { -gi / (l - mu) }).collect()
}

/// Lowest root of `μ = Σ g_i² / (μ − Λ_i)` below `min(Λ, 0)`.
pub fn rfo_shift(lam: &[f64], g: &[f64]) -> f64 {
    let gnorm = g.iter().map(|x| x * x).sum::<f64>().sqrt();
    if lam.is_empty() || gnorm == 0.0 {
        return lam.iter().copied().fold(0.0, f64::min).min(0.0);
    }
    let lmin = lam.iter().copied().fold(f64::INFINITY, f64::min);
    let upper = lmin.min(0.0);
    let phi = |mu: f64| mu - lam.iter().zip(g).map(|(l, gi)| gi * gi / (mu - l)).sum::<f64>();
    let mut lo = upper - gnorm - 1.0;
    let mut hi = upper;
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid == lo || mid == hi {
            break;
        }
        if phi(mid) < 0.0 { lo = mid } else { hi = mid }
    }
    lo
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// RS-RFO step components (in the eigenbasis) for eigenvalues `lam`, gradient components `g`,
/// trust radius `trust`.
pub fn rfo_step(lam: &[f64], g: &[f64], trust: f64) -> Vec<f64> {
    let mu = rfo_shift(lam, g);
    let s = min_components(lam, g, mu);
    if norm(&s) <= trust {
        return s;
    }
    let len = |tau: f64| norm(&min_components(lam, g, mu - tau));
    let tau = bisect_length(len, trust);
    min_components(lam, g, mu - tau)
}

/// RS-P-RFO step components: maximize along `t`, minimize along the rest.
pub fn prfo_step(lam: &[f64], g: &[f64], t: usize, trust: f64) -> Vec<f64> {
    let (lt, gt) = (lam[t], g[t]);
    let mu_p = 0.5 * lt + (0.25 * lt * lt + gt * gt).sqrt();
    let others: Vec<usize> = (0..lam.len()).filter(|&i| i != t).collect();
    let lam_n: Vec<f64> = others.iter().map(|&i| lam[i]).collect();
    let g_n: Vec<f64> = others.iter().map(|&i| g[i]).collect();
    let mu_n = rfo_shift(&lam_n, &g_n);
    let build = |tau: f64| {
        let mut s = vec![0.0; lam.len()];
        let denom = lt - (mu_p + tau);
        s[t] = if gt == 0.0 || denom == 0.0 { 0.0 } else { -gt / denom };
        for (k, &i) in others.iter().enumerate() {
            s[i] = if g_n[k] == 0.0 { 0.0 } else { -g_n[k] / (lam_n[k] - (mu_n - tau)) };
        }
        s
    };
    let s = build(0.0);
    if norm(&s) <= trust {
        return s;
    }
    let tau = bisect_length(|tau| norm(&build(tau)), trust);
    build(tau)
}

/// Finds `τ ≥ 0` with `len(τ) = target` for a length decreasing in `τ` (with `len(0) > target`).
fn bisect_length(len: impl Fn(f64) -> f64, target: f64) -> f64 {
    let mut hi = 1.0;
    while len(hi) > target && hi < 1e15 {
        hi *= 4.0;
    }
    let mut lo = 0.0;
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if len(mid) > target {
            lo = mid
        } else {
            hi = mid
        }
        if (hi - lo) <= 1e-14 * hi.max(1.0) {
            break;
        }
    }
    hi
}

/// Predicted energy change of step `s` (eigenbasis): `g̃·s + ½ Σ Λ_i s_i²`.
pub fn predicted_change(lam: &[f64], g: &[f64], s: &[f64]) -> f64 {
    lam.iter().zip(g).zip(s).map(|((l, gi), si)| gi * si + 0.5 * l * si * si).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfo_shift_solves_secular_equation() {
        let lam = [-0.5, 0.3, 2.0];
        let g = [0.2, -0.1, 0.4];
        let mu = rfo_shift(&lam, &g);
        let rhs: f64 = lam.iter().zip(&g).map(|(l, gi)| gi * gi / (mu - l)).sum();
        assert!((mu - rhs).abs() < 1e-10 && mu < -0.5);
    }

    #[test]
    fn steps_respect_trust_radius_and_directions() {
        let lam = [1.0, 4.0];
        let g = [3.0, 1.0];
        let s = rfo_step(&lam, &g, 0.1);
        assert!((norm(&s) - 0.1).abs() < 1e-10);
        assert!(s[0] < 0.0 && s[1] < 0.0, "downhill along positive-curvature modes");
        // small gradient near a minimum: RFO ≈ Newton
        let s = rfo_step(&lam, &[1e-6, 1e-6], 1.0);
        assert!((s[0] + 1e-6).abs() < 1e-9 && (s[1] + 0.25e-6).abs() < 1e-9);
        // P-RFO goes uphill along the maximized mode
        let s = prfo_step(&[-1.0, 2.0], &[-1e-4, 1e-4], 0, 1.0);
        assert!((s[0] + 1e-4).abs() < 1e-7, "Newton-like uphill component {}", s[0]);
        assert!((s[1] + 0.5e-4).abs() < 1e-7);
        let s = prfo_step(&[0.5, 2.0], &[1.0, 1.0], 0, 0.05);
        assert!(s[0] > 0.0, "maximizes along mode 0 even with positive curvature");
        assert!((norm(&s) - 0.05).abs() < 1e-10);
    }
}
