//! Initial bands between two aligned end points: linear interpolation, and IDPP (Smidstrup et
//! al., J. Chem. Phys. 140, 214106 (2014)): each image relaxed (as a band, with springs) on the
//! pair potential `S_k = Σ_{i<j} w(d_ij) (d_ij^{(k)} − d_ij)²`, `w = 1/d⁴`, whose targets
//! `d^{(k)} = (1 − t_k) d^R + t_k d^P` interpolate the interatomic distances, not the
//! coordinates: bonds do not pass through each other the way a linear interpolation makes them.

use hip_core::{EnergyForces, Molecule, Result};

use super::align::{kabsch, same_atoms};
use super::neb::{NebOptions, relax_band};

/// `n_images` geometries from `a` to `b` inclusive, linearly interpolated. No alignment: for
/// molecules, align first ([`aligned`]); a model surface must not be aligned.
pub fn linear(a: &Molecule, b: &Molecule, n_images: usize) -> Result<Vec<Molecule>> {
    same_atoms(a, b, "interpolation")?;
    let n = n_images.max(2);
    Ok((0..n)
        .map(|k| {
            let t = k as f64 / (n - 1) as f64;
            let positions = a
                .positions
                .iter()
                .zip(&b.positions)
                .map(|(p, q)| [0, 1, 2].map(|c| (1.0 - t) * p[c] + t * q[c]))
                .collect();
            Molecule { positions, ..a.clone() }
        })
        .collect())
}

/// `b` moved onto `a` by the optimal rotation and translation (Kabsch), for a band between
/// molecules: interpolating unaligned end points would mix rigid motion into the path.
pub fn aligned(a: &Molecule, b: &Molecule) -> Result<Molecule> {
    Ok(kabsch(a, b)?.0)
}

fn distances(m: &Molecule) -> Vec<f64> {
    let n = m.len();
    let mut d = Vec::with_capacity(n * n);
    for i in 0..n {
        for j in 0..n {
            d.push((0..3).map(|k| (m.positions[i][k] - m.positions[j][k]).powi(2)).sum::<f64>().sqrt());
        }
    }
    d
}

/// The IDPP objective of image `mol` with target distances `target` (`n × n`).
fn idpp(mol: &Molecule, target: &[f64]) -> EnergyForces {
    let n = mol.len();
    let mut e = 0.0;
    let mut f = vec![[0.0; 3]; n];
    for i in 0..n {
        for j in i + 1..n {
            let dv: [f64; 3] = [0, 1, 2].map(|k| mol.positions[i][k] - mol.positions[j][k]);
            let d = dv.iter().map(|x| x * x).sum::<f64>().sqrt().max(1e-6);
            let t = target[i * n + j];
            let w = 1.0 / d.powi(4);
            e += w * (t - d).powi(2);
            // dS/dd = -4 d^-5 (t-d)^2 - 2 w (t-d)
            let ds = -4.0 / d.powi(5) * (t - d).powi(2) - 2.0 * w * (t - d);
            for k in 0..3 {
                let g = ds * dv[k] / d;
                f[i][k] -= g;
                f[j][k] += g;
            }
        }
    }
    EnergyForces { energy: e, forces: f }
}

/// An IDPP band of `n_images` from `a` to `b` (align `b` to `a` first, [`aligned`]), relaxed
/// with the NEB machinery on the IDPP objective (no climbing image).
pub fn idpp_band(a: &Molecule, b: &Molecule, n_images: usize) -> Result<Vec<Molecule>> {
    let band = linear(a, b, n_images)?;
    let (da, db) = (distances(&band[0]), distances(&band[band.len() - 1]));
    let m = band.len();
    let targets: Vec<Vec<f64>> = (0..m)
        .map(|k| {
            let t = k as f64 / (m - 1) as f64;
            da.iter().zip(&db).map(|(x, y)| (1.0 - t) * x + t * y).collect()
        })
        .collect();
    let opts = NebOptions { climb: false, fmax: 0.01, max_steps: 2000, spring: 1.0, ..Default::default() };
    let r = relax_band(band, |k, mol| Ok(idpp(mol, &targets[k])), &opts, None)?;
    Ok(r.images)
}
