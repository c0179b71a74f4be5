//! Statistics fitted on the training data before the first step: per-element reference
//! energies, the force and Hessian scales.

use crate::graph::radius_graph;
use crate::{Error, Result};
use hip_core::io::dataset::Sample;

/// Per-species reference energies by least squares (`E ≈ Σ_s n_s ε_s`), the RMS force component
/// (readout scale) and the mean number of neighbours within `cutoff`.
pub fn fit_statistics(samples: &[Sample], species: &[u8], cutoff: f64) -> Result<(Vec<f64>, f64, f64)> {
    let energies: Vec<f64> = samples.iter().map(|s| s.energy).collect();
    let refs = per_species_least_squares(samples, &energies, species)?;
    let (mut f2, mut nf, mut neigh, mut atoms) = (0.0, 0usize, 0usize, 0usize);
    for s in samples {
        f2 += s.forces.iter().flatten().map(|x| x * x).sum::<f64>();
        nf += 3 * s.forces.len();
        neigh += radius_graph(&s.molecule.positions, cutoff).len();
        atoms += s.molecule.len();
    }
    Ok((refs, (f2 / nf.max(1) as f64).sqrt().max(1e-3), neigh as f64 / atoms.max(1) as f64))
}

/// Per-species values `ε` that fit `targets ≈ Σ_s n_s ε_s` (one target per sample) by least
/// squares; species absent from the samples get ~0 (a 1e-8 ridge).
fn per_species_least_squares(samples: &[Sample], targets: &[f64], species: &[u8]) -> Result<Vec<f64>> {
    let k = species.len();
    let mut ata = nalgebra::DMatrix::<f64>::zeros(k, k);
    let mut atb = nalgebra::DVector::<f64>::zeros(k);
    for (s, &t) in samples.iter().zip(targets) {
        let mut counts = vec![0.0; k];
        for &z in &s.molecule.numbers {
            let i = species
                .iter()
                .position(|&x| x == z)
                .ok_or_else(|| Error::Input(format!("element Z={z} is not in species {species:?}")))?;
            counts[i] += 1.0;
        }
        for a in 0..k {
            atb[a] += counts[a] * t;
            for b in 0..k {
                ata[(a, b)] += counts[a] * counts[b];
            }
        }
    }
    for a in 0..k {
        ata[(a, a)] += 1e-8;
    }
    let x = ata.lu().solve(&atb).ok_or_else(|| Error::Input("cannot fit per-species reference energies".into()))?;
    Ok(x.iter().copied().collect())
}

/// Shifts of `model`'s reference energies that remove, by least squares, the per-species part
/// of its energy error on `samples` (`E_ref − E_model ≈ Σ_s n_s δ_s`), for a model started at
/// another level of theory than its data's: total energies of two levels differ by
/// per-element constants (GFN2-xTB and ωB97X by keV), which the network itself should not
/// have to learn. Energies of molecules in batches of 16, at the samples' positions.
pub fn fit_reference_shift(model: &crate::HipModel, samples: &[Sample]) -> Result<Vec<f64>> {
    let mut residuals = Vec::with_capacity(samples.len());
    for chunk in samples.chunks(16) {
        let mols: Vec<&hip_core::Molecule> = chunk.iter().map(|s| &s.molecule).collect();
        let batch = crate::graph::Batch::new(&mols, &model.config, model.device())?;
        let e: Vec<f64> = model.forward(&batch, &batch.positions, false)?.energies.to_vec1()?;
        residuals.extend(chunk.iter().zip(e).map(|(s, e)| s.energy - e));
    }
    per_species_least_squares(samples, &residuals, &model.config.species)
}

/// Mean absolute reference Hessian entry (eV/Å²), the head's output scale (`hessian_scale`).
/// The mean |H|, not the RMS: Hessian entries are heavy-tailed (v1 data: median 0.18, mean 3.5,
/// RMS 23 eV/Å²), and the loss is L1.
pub fn fit_hessian_scale(samples: &[Sample]) -> f64 {
    let (mut s1, mut n) = (0.0, 0usize);
    for s in samples {
        s1 += s.hessian.as_slice().iter().map(|x| x.abs()).sum::<f64>();
        n += s.hessian.as_slice().len();
    }
    if n == 0 { 1.0 } else { (s1 / n as f64).max(1e-3) }
}
