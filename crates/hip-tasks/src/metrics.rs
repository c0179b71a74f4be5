//! Hessian accuracy metrics (method page, section 6), per molecule and averaged over molecules.
//!
//! Eigen-quantities use the mass-weighted, Eckart-projected Hessian of [`Vibrations`] (rigid-body
//! modes removed), with the masses given. "Negative" means below the imaginary-frequency
//! threshold (−10 cm⁻¹ by default), so that round-off around zero is not counted.

use hip_core::{Hessian, Molecule, Result};

use crate::vibrations::{DEFAULT_IMAGINARY_THRESHOLD_CM, Vibrations};

/// Metrics of one predicted Hessian against its reference.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct HessianMetrics {
    /// mean |H_pred − H_ref| over all (3N)² entries, eV/Å².
    pub hessian_mae: f64,
    /// mean |H_pred − H_predᵀ|, eV/Å².
    pub asymmetry: f64,
    /// mean |Δλ| of sorted projected mass-weighted eigenvalues, eV/(Å² amu).
    pub eigenvalue_mae: f64,
    /// |⟨v₁_pred, v₁_ref⟩| of the lowest projected eigenvectors.
    pub cos_v1: f64,
    /// |λ₁_pred − λ₁_ref|, eV/(Å² amu).
    pub lambda1_mae: f64,
    /// 1 if the numbers of negative eigenvalues agree, else 0.
    pub neg_count_agreement: f64,
    /// 1 if (n_neg == 1) agrees, else 0.
    pub ts_agreement: f64,
    /// mean |Δν̃| over reference modes with λ > 0 and 400–4000 cm⁻¹, index-aligned; `None`
    /// when there is no such mode.
    pub frequency_mae_cm: Option<f64>,
    /// |ZPE_pred − ZPE_ref|, eV.
    pub zpe_error_ev: f64,
}

/// Compares `pred` with `reference` for `mol` with `masses` (amu).
pub fn compare(mol: &Molecule, masses: &[f64], pred: &Hessian, reference: &Hessian) -> Result<HessianMetrics> {
    let vp = Vibrations::new(mol, pred, masses)?;
    let vr = Vibrations::new(mol, reference, masses)?;
    Ok(compare_analysed(pred, reference, &vp, &vr))
}

/// [`compare`] with the harmonic analyses of `pred` (`vp`) and `reference` (`vr`) already done
/// (same molecule and masses), for callers that also use them.
pub fn compare_analysed(pred: &Hessian, reference: &Hessian, vp: &Vibrations, vr: &Vibrations) -> HessianMetrics {
    let n = pred.dim();
    let hessian_mae =
        pred.as_slice().iter().zip(reference.as_slice()).map(|(a, b)| (a - b).abs()).sum::<f64>() / (n * n) as f64;
    let mut asym = 0.0;
    for r in 0..n {
        for c in 0..n {
            asym += (pred.get(r, c) - pred.get(c, r)).abs();
        }
    }
    let k = vp.eigenvalues.len();
    let eigenvalue_mae = if k == 0 {
        0.0
    } else {
        vp.eigenvalues.iter().zip(&vr.eigenvalues).map(|(a, b)| (a - b).abs()).sum::<f64>() / k as f64
    };
    let (cos_v1, lambda1_mae) = if k == 0 {
        (1.0, 0.0)
    } else {
        let dot: f64 = vp.mass_weighted_modes[0].iter().zip(&vr.mass_weighted_modes[0]).map(|(a, b)| a * b).sum();
        (dot.abs(), (vp.eigenvalues[0] - vr.eigenvalues[0]).abs())
    };
    let (np, nr) = (vp.n_imaginary(DEFAULT_IMAGINARY_THRESHOLD_CM), vr.n_imaginary(DEFAULT_IMAGINARY_THRESHOLD_CM));
    let pairs: Vec<(f64, f64)> = vp
        .frequencies_cm
        .iter()
        .zip(&vr.frequencies_cm)
        .filter(|(_, r)| **r > 400.0 && **r < 4000.0)
        .map(|(p, r)| (*p, *r))
        .collect();
    let frequency_mae_cm = if pairs.is_empty() {
        None
    } else {
        Some(pairs.iter().map(|(p, r)| (p - r).abs()).sum::<f64>() / pairs.len() as f64)
    };
    HessianMetrics {
        hessian_mae,
        asymmetry: asym / (n * n) as f64,
        eigenvalue_mae,
        cos_v1,
        lambda1_mae,
        neg_count_agreement: f64::from(u8::from(np == nr)),
        ts_agreement: f64::from(u8::from((np == 1) == (nr == 1))),
        frequency_mae_cm,
        zpe_error_ev: (vp.zpe_ev() - vr.zpe_ev()).abs(),
    }
}

/// Means over molecules (frequency MAE over molecules that have modes in range).
pub fn average(list: &[HessianMetrics]) -> HessianMetrics {
    let n = list.len().max(1) as f64;
    let mean = |f: fn(&HessianMetrics) -> f64| list.iter().map(f).sum::<f64>() / n;
    let freqs: Vec<f64> = list.iter().filter_map(|m| m.frequency_mae_cm).collect();
    HessianMetrics {
        hessian_mae: mean(|m| m.hessian_mae),
        asymmetry: mean(|m| m.asymmetry),
        eigenvalue_mae: mean(|m| m.eigenvalue_mae),
        cos_v1: mean(|m| m.cos_v1),
        lambda1_mae: mean(|m| m.lambda1_mae),
        neg_count_agreement: mean(|m| m.neg_count_agreement),
        ts_agreement: mean(|m| m.ts_agreement),
        frequency_mae_cm: if freqs.is_empty() { None } else { Some(freqs.iter().sum::<f64>() / freqs.len() as f64) },
        zpe_error_ev: mean(|m| m.zpe_error_ev),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_hessians_have_perfect_metrics() {
        let mol = Molecule::new(vec![8, 1, 1], vec![[0.0, 0.0, 0.0], [0.96, 0.0, 0.0], [-0.24, 0.93, 0.0]]).unwrap();
        let mut h = Hessian::zeros(3);
        // a positive-definite, translation-invariant toy: springs between all pairs
        for i in 0..3 {
            for j in 0..3 {
                if i == j {
                    continue;
                }
                for a in 0..3 {
                    let k = 10.0 + (i + j + a) as f64;
                    h.as_mut_slice()[(3 * i + a) * 9 + 3 * j + a] -= k;
                    h.as_mut_slice()[(3 * i + a) * 9 + 3 * i + a] += k;
                }
            }
        }
        let h = h.symmetrized();
        let m = compare(&mol, &[16.0, 1.0, 1.0], &h, &h).unwrap();
        assert_eq!(m.hessian_mae, 0.0);
        assert!((m.cos_v1 - 1.0).abs() < 1e-12);
        assert_eq!((m.neg_count_agreement, m.ts_agreement), (1.0, 1.0));
        let mut h2 = h.clone();
        h2.as_mut_slice()[0] += 8.1; // one of 81 entries: MAE 0.1
        let m2 = compare(&mol, &[16.0, 1.0, 1.0], &h2, &h).unwrap();
        assert!((m2.hessian_mae - 0.1).abs() < 1e-12 && m2.asymmetry == 0.0);
    }
}
