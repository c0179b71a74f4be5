//! Correctness of a device/precision against the CPU in f64: the same weights give the same
//! energy, forces and Hessians (direct, autodiff, finite differences) on water and a 30-atom
//! alkane, within tolerances stated per precision. What `scripts/gpu-check.sh` runs first on a
//! GPU machine (`hip device-check`).

use std::time::Instant;

use candle_core::Device;
use hip_core::Molecule;
use hip_model::{HessianMethod, HipModel, Precision};
use serde::Serialize;

/// Largest allowed `max |Δ| / max(1, max |ref|)` of each output against the CPU f64 result.
///
/// - f64: the device sums in other orders (atomics, tree reductions), so results differ from
///   the CPU's by rounding, ~1e-16 relative per operation, amplified by the network's depth and,
///   for finite differences, by 1/(2δ) = 50: 1e-9 leaves orders of magnitude of margin.
/// - f32: rounding of 6e-8 per operation; measured 3e-7 of the output scale on the CPU for direct
///   and autodiff Hessians (crates/hip-model/tests/precision.rs, bound 1e-5 there); a GPU's
///   reduction orders add a few ulps, so 1e-4. Finite differences divide force differences by
///   2δ = 0.02 Å: a force rounding of 6e-8·|F| becomes ~3e-6·|F| in H, so 1e-3.
pub fn tolerance(precision: Precision, method: HessianMethod) -> f64 {
    match (precision, method) {
        (Precision::F64, _) => 1e-9,
        (Precision::F32, HessianMethod::FiniteDifference { .. }) => 1e-3,
        (Precision::F32, _) => 1e-4,
    }
}

/// One comparison.
#[derive(Clone, Debug, Serialize)]
pub struct CheckRow {
    /// Molecule label.
    pub molecule: String,
    /// Atoms.
    pub n_atoms: usize,
    /// `f64` or `f32`.
    pub dtype: String,
    /// Hessian method.
    pub method: String,
    /// Relative error of the energy (against max(1, |E|)).
    pub energy_rel_err: f64,
    /// Relative error of the forces.
    pub forces_rel_err: f64,
    /// Relative error of the Hessian.
    pub hessian_rel_err: f64,
    /// The tolerance applied to all three.
    pub tolerance: f64,
    /// All three within tolerance.
    pub ok: bool,
    /// Wall time of the device call, ms (first call included: not a benchmark).
    pub device_ms: f64,
}

/// The whole check.
#[derive(Clone, Debug, Serialize)]
pub struct DeviceCheck {
    /// The device checked, as candle names it.
    pub device: String,
    /// Comparisons.
    pub rows: Vec<CheckRow>,
    /// Every row ok.
    pub ok: bool,
}

/// `max |a − b| / max(1, max |b|)`: relative to the output's scale, absolute below 1.
pub fn rel_err(a: &[f64], b: &[f64]) -> f64 {
    let scale = b.iter().fold(1.0f64, |m, x| m.max(x.abs()));
    let diff = a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
    if a.len() != b.len() || a.iter().any(|x| !x.is_finite()) { f64::INFINITY } else { diff / scale }
}

/// The molecules checked: water and an alkane of `alkane_atoms` atoms (30 in the GPU check).
pub fn molecules(alkane_atoms: usize) -> Vec<(String, Molecule)> {
    let water = Molecule::new(vec![8, 1, 1], vec![[0.0, 0.0, 0.117], [0.0, 0.757, -0.469], [0.0, -0.757, -0.469]])
        .expect("valid water");
    vec![("water".into(), water), (format!("alkane-{alkane_atoms}"), crate::molecules::alkane(alkane_atoms))]
}

/// Compares `model` placed on `device` in each of `precisions` with `model` on the CPU in f64,
/// on [`molecules`]`(alkane_atoms)`.
pub fn run(
    model: &HipModel,
    device: &Device,
    precisions: &[Precision],
    alkane_atoms: usize,
) -> hip_model::Result<DeviceCheck> {
    let reference = model.to(&Device::Cpu, candle_core::DType::F64)?;
    let methods = [HessianMethod::Direct, HessianMethod::Autodiff, HessianMethod::FiniteDifference { delta: 0.01 }];
    let mut rows = Vec::new();
    for &p in precisions {
        let m = model.to(device, p.dtype())?;
        for (label, mol) in molecules(alkane_atoms) {
            for method in methods {
                let r = reference.predict(&mol, method)?;
                let t0 = Instant::now();
                let d = m.predict(&mol, method)?;
                let device_ms = 1e3 * t0.elapsed().as_secs_f64();
                let tol = tolerance(p, method);
                let e = rel_err(&[d.energy], &[r.energy]);
                let f = rel_err(&d.forces.concat(), &r.forces.concat());
                let h = rel_err(d.hessian.as_slice(), r.hessian.as_slice());
                rows.push(CheckRow {
                    molecule: label.clone(),
                    n_atoms: mol.len(),
                    dtype: p.to_string(),
                    method: method.name().into(),
                    energy_rel_err: e,
                    forces_rel_err: f,
                    hessian_rel_err: h,
                    tolerance: tol,
                    ok: e <= tol && f <= tol && h <= tol,
                    device_ms,
                });
            }
        }
    }
    let ok = rows.iter().all(|r| r.ok);
    Ok(DeviceCheck { device: format!("{device:?}"), rows, ok })
}

/// A text table of the check.
pub fn table(c: &DeviceCheck) -> String {
    let mut s = format!(
        "device check on {} against the CPU in f64 (relative errors)\n{:<10} {:>5} {:<5} {:<9} {:>9} {:>9} {:>9} {:>7} {:>9}  ok\n",
        c.device, "molecule", "atoms", "dtype", "method", "E", "F", "H", "tol", "ms"
    );
    for r in &c.rows {
        s += &format!(
            "{:<10} {:>5} {:<5} {:<9} {:>9.1e} {:>9.1e} {:>9.1e} {:>7.0e} {:>9.1}  {}\n",
            r.molecule,
            r.n_atoms,
            r.dtype,
            r.method,
            r.energy_rel_err,
            r.forces_rel_err,
            r.hessian_rel_err,
            r.tolerance,
            r.device_ms,
            if r.ok { "yes" } else { "NO" }
        );
    }
    s
}
