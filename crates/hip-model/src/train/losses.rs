//! The losses, apart from the loop: L1 on energies, forces and direct Hessians, the subspace
//! loss on the lowest vibrational modes, the mode-curvature loss on Taylor-displaced samples,
//! and validation.

use crate::graph::Batch;
use crate::{Error, HipModel, Result};
use candle_core::{DType, Device, Tensor};
use hip_core::io::dataset::Sample;
use irreps::rotation::SplitMix64;
use serde::Serialize;

use super::*;

/// Subspace-loss target of one sample: `U (3N, k)`, the Cartesian displacements of the `k` lowest
/// vibrational modes of the mass-weighted, Eckart-projected reference (mass-weighted eigenvector
/// divided by `√m`, IUPAC masses), and their eigenvalues `Λ (k,)` in eV/(Å² amu); so that
/// `Uᵀ H_pred U` is the predicted mass-weighted Hessian in the reference's mode basis.
#[derive(Clone, Debug)]
pub struct SubspaceTarget {
    /// `(3N, k)`.
    pub modes: Tensor,
    /// `(k, k)`, diagonal `Λ`.
    pub lambda: Tensor,
}

/// The subspace target of `s` with `k` modes (fewer if the molecule has fewer), `None` for a
/// molecule without vibrations.
pub fn subspace_target(s: &Sample, k: usize, device: &Device) -> Result<Option<SubspaceTarget>> {
    let masses = s.molecule.masses(hip_core::MassConvention::Iupac)?;
    let vib = hip_tasks::vibrations::Vibrations::new(&s.molecule, &s.hessian, &masses)?;
    let k = k.min(vib.eigenvalues.len());
    if k == 0 {
        return Ok(None);
    }
    let d = 3 * s.molecule.len();
    let u: Vec<f64> = (0..d).flat_map(|r| (0..k).map(move |c| (r, c))).map(|(r, c)| vib.modes[c][r]).collect();
    let lam: Vec<f64> = (0..k * k).map(|i| if i / k == i % k { vib.eigenvalues[i / k] } else { 0.0 }).collect();
    Ok(Some(SubspaceTarget {
        modes: Tensor::from_vec(u, (d, k), device)?,
        lambda: Tensor::from_vec(lam, (k, k), device)?,
    }))
}

/// `s` displaced by `δ` (Å, flat over (atom, xyz)) with its labels carried to the new geometry
/// by the second-order expansion of its reference surface: `F' = F − Hδ`,
/// `E' = E − F·δ + ½ δᵀHδ`, Hessian unchanged. Exact for a quadratic surface; for a real one the
/// force error is third order, `O(|∂³E| δ²)` (a few meV/Å at δ = 0.02 Å for bond stretches).
pub fn taylor_displaced(s: &Sample, delta: &[f64]) -> Result<Sample> {
    let d = 3 * s.molecule.len();
    if delta.len() != d {
        return Err(Error::Input(format!("taylor_displaced: {} displacements for {d} coordinates", delta.len())));
    }
    let h = s.hessian.as_slice();
    let hd: Vec<f64> = (0..d).map(|r| (0..d).map(|c| h[r * d + c] * delta[c]).sum()).collect();
    let f: Vec<f64> = s.forces.iter().flatten().copied().collect();
    let energy = s.energy - f.iter().zip(delta).map(|(a, b)| a * b).sum::<f64>()
        + 0.5 * delta.iter().zip(&hd).map(|(a, b)| a * b).sum::<f64>();
    let x: Vec<f64> = s.molecule.flat_positions().iter().zip(delta).map(|(a, b)| a + b).collect();
    let forces =
        f.iter().zip(&hd).map(|(a, b)| a - b).collect::<Vec<_>>().chunks(3).map(|c| [c[0], c[1], c[2]]).collect();
    Ok(Sample { molecule: s.molecule.with_flat_positions(&x), energy, forces, ..s.clone() })
}

/// The Taylor-augmented copy of `s` for visit `visit` of `epoch` (`None`: this visit is not
/// displaced), deterministic in (`cfg.seed`, epoch, visit).
pub(super) fn taylor_visit(s: &Sample, cfg: &TrainConfig, epoch: usize, visit: usize) -> Result<Option<Sample>> {
    if cfg.taylor_sigma <= 0.0 {
        return Ok(None);
    }
    let mut rng = SplitMix64(cfg.seed ^ 0x7A71_0A06 ^ ((epoch as u64) << 32) ^ visit as u64);
    if rng.uniform() >= cfg.taylor_fraction {
        return Ok(None);
    }
    let delta: Vec<f64> = (0..3 * s.molecule.len()).map(|_| cfg.taylor_sigma * rng.normal()).collect();
    taylor_displaced(s, &delta).map(Some)
}

/// The curvature loss of the first `cfg.curvature_per_batch` molecules of `items` (0: all):
/// `mean |(F(x+δ) − F(x−δ))/2 + Hδ| / σ` over their coordinates, with `δ ~ N(0, σ²)` per
/// coordinate drawn from `seed`, `F` the model's forces and `H` the reference Hessian. The
/// central difference is `−Hδ + O(|∂⁴E| δ³)`: the surface's third derivatives cancel, and so does
/// any error the model's forces share at `x±δ`. A scalar tensor in eV/Å² (a Hessian error).
pub fn curvature_loss(model: &HipModel, samples: &[&Sample], cfg: &TrainConfig, seed: u64) -> Result<Tensor> {
    let k = if cfg.curvature_per_batch == 0 { samples.len() } else { cfg.curvature_per_batch.min(samples.len()) };
    let sigma = cfg.curvature_sigma;
    let mut rng = SplitMix64(seed ^ 0xC0A7_0E55);
    let (mut plus, mut minus, mut target) = (Vec::with_capacity(k), Vec::with_capacity(k), Vec::new());
    for s in &samples[..k] {
        let d = 3 * s.molecule.len();
        let delta: Vec<f64> = (0..d).map(|_| sigma * rng.normal()).collect();
        let x = s.molecule.flat_positions();
        plus.push(s.molecule.with_flat_positions(&x.iter().zip(&delta).map(|(a, b)| a + b).collect::<Vec<_>>()));
        minus.push(s.molecule.with_flat_positions(&x.iter().zip(&delta).map(|(a, b)| a - b).collect::<Vec<_>>()));
        let h = s.hessian.as_slice();
        target.extend((0..d).map(|r| -(0..d).map(|c| h[r * d + c] * delta[c]).sum::<f64>()));
    }
    let mols: Vec<&hip_core::Molecule> = plus.iter().chain(&minus).collect();
    let batch = Batch::new(&mols, &model.config, model.device())?;
    let (_, forces, _) = model.energy_forces(&batch, false)?;
    let n = forces.dim(0)? / 2;
    let half = ((forces.narrow(0, 0, n)? - forces.narrow(0, n, n)?)? * 0.5)?;
    let target = Tensor::from_vec(target, half.dims(), model.device())?.to_dtype(half.dtype())?;
    Ok(((half - target)?.abs()?.mean_all()? / sigma)?)
}

/// The items of one batch (`chunk`: indices into `items`), each replaced by its displaced copy
/// where [`taylor_visit`] made one (`moved`, parallel to `chunk`).
pub(super) fn visit_items<'b>(items: &[Item<'b>], chunk: &[usize], moved: &'b [Option<Sample>]) -> Vec<Item<'b>> {
    chunk
        .iter()
        .zip(moved)
        .map(|(&i, m)| match m {
            Some(m) => Item { sample: m, features: None, subspace: items[i].subspace.clone(), consistency: None },
            None => items[i].clone(),
        })
        .collect()
}

/// Losses of one batch (also the validation numbers).
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Losses {
    /// mean |ΔE| per molecule, eV.
    pub energy: f64,
    /// mean |ΔF| per component, eV/Å.
    pub forces: f64,
    /// mean |ΔH| per entry, eV/Å² (direct Hessian).
    pub hessian: f64,
    /// Weighted total.
    pub total: f64,
}

/// A training or validation sample with what is precomputed for it.
#[derive(Clone)]
pub(super) struct Item<'a> {
    pub(super) sample: &'a Sample,
    /// Frozen backbone node features `(N, dim)` (head-only training).
    pub(super) features: Option<Tensor>,
    pub(super) subspace: Option<SubspaceTarget>,
    /// Self-consistency directions `U (3N, m)` and targets `T (3N, m)` ([`consistency_target`]).
    pub(super) consistency: Option<(Tensor, Tensor)>,
}

pub(super) fn prepare<'a>(model: &HipModel, samples: &[&'a Sample], cfg: &TrainConfig) -> Result<Vec<Item<'a>>> {
    let device = model.device();
    samples
        .iter()
        .map(|&s| {
            let features = if cfg.head_only {
                let batch = Batch::new(&[&s.molecule], &model.config, device)?;
                Some(model.node_features(&batch, &batch.positions)?.detach())
            } else {
                None
            };
            let subspace = if cfg.w_subspace > 0.0 || cfg.w_modes > 0.0 {
                subspace_target(s, cfg.subspace_k, device)?
            } else {
                None
            };
            let consistency = if cfg.w_consistency > 0.0
                && (cfg.consistency_kinds.is_empty() || cfg.consistency_kinds.iter().any(|k| k == &s.kind))
            {
                consistency_target(model, s, cfg, geometry_seed(s))?
            } else {
                None
            };
            Ok(Item { sample: s, features, subspace, consistency })
        })
        .collect()
}

/// A per-sample seed for the random directions: from the geometry, so that a sample gets the
/// same directions whatever its position in the set.
fn geometry_seed(s: &Sample) -> u64 {
    s.molecule.flat_positions().iter().fold(0x5E1F_C0DE_u64, |h, x| (h ^ x.to_bits()).wrapping_mul(0x100_0000_01B3))
}

/// The self-consistency directions and targets of `s` (see `TrainConfig::w_consistency`):
/// `U (3N, m)`, unit columns, and `T = −ΔF/2ε (3N, m)` from `model`'s forces; `None` for a
/// molecule without vibrations.
pub fn consistency_target(
    model: &HipModel,
    s: &Sample,
    cfg: &TrainConfig,
    seed: u64,
) -> Result<Option<(Tensor, Tensor)>> {
    let device = model.device();
    let d = 3 * s.molecule.len();
    let Some(t) = subspace_target(s, cfg.subspace_k, device)? else { return Ok(None) };
    let u = t.modes.to_dtype(DType::F64)?.to_vec2::<f64>()?;
    let mut dirs: Vec<Vec<f64>> = (0..u[0].len()).map(|c| (0..d).map(|r| u[r][c]).collect()).collect();
    let mut rng = SplitMix64(seed ^ cfg.seed ^ 0xC0_5157);
    dirs.extend((0..cfg.consistency_random).map(|_| (0..d).map(|_| rng.normal()).collect()));
    for v in &mut dirs {
        let n = v.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-300);
        v.iter_mut().for_each(|x| *x /= n);
    }
    let eps = cfg.consistency_eps;
    let x = s.molecule.flat_positions();
    let moved = |sign: f64, v: &[f64]| {
        s.molecule.with_flat_positions(&x.iter().zip(v).map(|(a, b)| a + sign * eps * b).collect::<Vec<_>>())
    };
    let mols: Vec<hip_core::Molecule> =
        dirs.iter().map(|v| moved(1.0, v)).chain(dirs.iter().map(|v| moved(-1.0, v))).collect();
    let refs: Vec<&hip_core::Molecule> = mols.iter().collect();
    let batch = Batch::new(&refs, &model.config, device)?;
    let (_, forces, _) = model.energy_forces(&batch, false)?;
    let f = forces.to_dtype(DType::F64)?.flatten_all()?.to_vec1::<f64>()?; // (2m·N·3)
    let m = dirs.len();
    let (mut u, mut t) = (vec![0.0; d * m], vec![0.0; d * m]);
    for (j, v) in dirs.iter().enumerate() {
        for r in 0..d {
            u[r * m + j] = v[r];
            t[r * m + j] = -(f[j * d + r] - f[(m + j) * d + r]) / (2.0 * eps);
        }
    }
    Ok(Some((Tensor::from_vec(u, (d, m), device)?, Tensor::from_vec(t, (d, m), device)?)))
}

/// L1 Hessian loss and subspace loss of predicted flat Hessians `hp` of `items`.
pub(super) fn hessian_terms(hp: &Tensor, items: &[&Item], batch: &Batch, cfg: &TrainConfig) -> Result<(Tensor, f64)> {
    let device = hp.device();
    let h_ref: Vec<f64> = items.iter().flat_map(|it| it.sample.hessian.as_slice().iter().copied()).collect();
    let h_ref = Tensor::from_vec(h_ref, hp.dims(), device)?;
    let norm_of = |kind: HessianLoss, err: &Tensor| -> Result<Tensor> {
        Ok(match kind {
            HessianLoss::L1 => err.abs()?.mean_all()?,
            HessianLoss::Squared => err.sqr()?.mean_all()?,
        })
    };
    let norm = |err: &Tensor| norm_of(cfg.hessian_loss, err);
    let sub_norm = |err: &Tensor| norm_of(cfg.subspace_loss.unwrap_or(cfg.hessian_loss), err);
    let diff = (hp - &h_ref)?;
    let l1 = diff.abs()?.mean_all()?;
    let mae = l1.to_scalar::<f64>()?;
    let entries = match cfg.hessian_loss {
        HessianLoss::L1 => l1, // the MAE just computed is the L1 term
        HessianLoss::Squared => norm(&diff)?,
    };
    let mut total = (entries * cfg.w_hessian)?;
    if cfg.w_subspace > 0.0 || cfg.w_modes > 0.0 {
        let (mut sub, mut modes) = (Tensor::zeros((), DType::F64, device)?, Tensor::zeros((), DType::F64, device)?);
        for (m, it) in items.iter().enumerate() {
            let Some(t) = &it.subspace else { continue };
            let d = 3 * it.sample.molecule.len();
            let hm = hp.narrow(0, batch.h_offsets[m], d * d)?.reshape((d, d))?;
            let err = (t.modes.t()?.matmul(&hm)?.matmul(&t.modes)? - &t.lambda)?;
            if cfg.w_subspace > 0.0 {
                sub = (sub + sub_norm(&err)?)?;
            }
            if cfg.w_modes > 0.0 {
                let k = err.dim(0)?;
                let eye = Tensor::eye(k, DType::F64, device)?;
                let mut diag = (err * eye)?.abs()?;
                if cfg.modes_floor > 0.0 {
                    diag = diag.broadcast_div(&(t.lambda.abs()? + cfg.modes_floor)?)?;
                }
                modes = (modes + diag.sum_all()?.affine(1.0 / k as f64, 0.0)?)?;
            }
        }
        let n = items.len() as f64;
        total = (total + ((sub / n)? * cfg.w_subspace)? + ((modes / n)? * cfg.w_modes)?)?;
    }
    if cfg.w_consistency > 0.0 {
        let mut cons = Tensor::zeros((), DType::F64, device)?;
        for (m, it) in items.iter().enumerate() {
            let Some((u, t)) = &it.consistency else { continue };
            let d = 3 * it.sample.molecule.len();
            let hm = hp.narrow(0, batch.h_offsets[m], d * d)?.reshape((d, d))?;
            cons = (cons + norm(&(hm.matmul(u)? - t)?)?)?;
        }
        total = (total + ((cons / items.len() as f64)? * cfg.w_consistency)?)?;
    }
    Ok((total, mae))
}

pub(super) fn batch_loss(
    model: &HipModel,
    items: &[&Item],
    cfg: &TrainConfig,
    device: &Device,
) -> Result<(Tensor, Losses)> {
    let mols: Vec<&hip_core::Molecule> = items.iter().map(|it| &it.sample.molecule).collect();
    let batch = Batch::new(&mols, &model.config, device)?;
    if cfg.head_only {
        let feats: Vec<&Tensor> = items.iter().filter_map(|it| it.features.as_ref()).collect();
        let x = Tensor::cat(&feats, 0)?;
        let hp = model.head_hessians(&batch, &x)?;
        let (total, mae) = hessian_terms(&hp, items, &batch, cfg)?;
        let losses = Losses { energy: f64::NAN, forces: f64::NAN, hessian: mae, total: total.to_scalar::<f64>()? };
        return Ok((total, losses));
    }
    let need_h = cfg.w_hessian > 0.0 || cfg.w_subspace > 0.0 || cfg.w_modes > 0.0;
    let (out, forces, _) = model.energy_forces(&batch, need_h)?;
    let e_ref = Tensor::from_vec(items.iter().map(|it| it.sample.energy).collect::<Vec<_>>(), items.len(), device)?;
    let f_ref: Vec<f64> = items.iter().flat_map(|it| it.sample.forces.iter().flatten().copied()).collect();
    let f_ref = Tensor::from_vec(f_ref, forces.dims(), device)?;
    let le = (&out.energies - &e_ref)?.abs()?.mean_all()?;
    let lf = (&forces - &f_ref)?.abs()?.mean_all()?;
    let mut total = ((le.clone() * cfg.w_energy)? + (lf.clone() * cfg.w_forces)?)?;
    let mut hessian_mae = f64::NAN;
    if let Some(hp) = &out.hessians {
        let (th, mae) = hessian_terms(hp, items, &batch, cfg)?;
        hessian_mae = mae;
        total = (total + th)?;
    }
    let losses = Losses {
        energy: le.to_scalar::<f64>()?,
        forces: lf.to_scalar::<f64>()?,
        hessian: hessian_mae,
        total: total.to_scalar::<f64>()?,
    };
    Ok((total, losses))
}

/// Mean losses over `samples` (no gradient step), in batches. An empty set is an error (it has
/// no errors to report, not zero errors).
pub fn validate(model: &HipModel, samples: &[&Sample], cfg: &TrainConfig) -> Result<Losses> {
    let items = prepare(model, samples, cfg)?;
    let mut l = validate_items(model, &items, cfg)?;
    if cfg.head_only {
        let ef = TrainConfig { head_only: false, w_hessian: 0.0, w_subspace: 0.0, w_modes: 0.0, ..cfg.clone() };
        let e = validate_items(model, &prepare(model, samples, &ef)?, &ef)?;
        (l.energy, l.forces) = (e.energy, e.forces);
    }
    Ok(l)
}

pub(super) fn validate_items(model: &HipModel, items: &[Item], cfg: &TrainConfig) -> Result<Losses> {
    if items.is_empty() {
        return Err(Error::Input("validation set is empty: nothing to evaluate".into()));
    }
    let mut acc = Losses::default();
    let mut n = 0.0;
    let refs: Vec<&Item> = items.iter().collect();
    for chunk in refs.chunks(cfg.batch_size.max(1)) {
        let (_, l) = batch_loss(model, chunk, cfg, model.device())?;
        let w = chunk.len() as f64;
        acc.energy += w * l.energy;
        acc.forces += w * l.forces;
        acc.hessian += w * l.hessian;
        acc.total += w * l.total;
        n += w;
    }
    Ok(Losses { energy: acc.energy / n, forces: acc.forces / n, hessian: acc.hessian / n, total: acc.total / n })
}
