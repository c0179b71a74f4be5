//! Initial bands between two aligned end points: linear interpolation, and IDPP (Smidstrup et
//! al., J. Chem. Phys. 140, 214106 (2014)): each image relaxed (as a band, with springs) on the
//! pair potential `S_k = Σ_{i<j} w(d_ij) (d_ij^{(k)} − d_ij)²`, `w = 1/d⁴`, whose targets
//! `d^{(k)} = (1 − t_k) d^R + t_k d^P` interpolate the interatomic distances, not the
//! coordinates: bonds do not pass through each other the way a linear interpolation makes them.
//!
//! The IDPP objective has a trivial minimum at infinity (`w (d* − d)² → 0` as `d → ∞`): an atom
//! thrown past its targets can run away. So the relaxation takes small steps and the result is
//! checked ([`band_problem`]); [`initial_band`] falls back to the linear band when the IDPP band
//! fails the check, so that a bad guess is repaired rather than fatal.

use hip_core::{EnergyForces, Molecule, Result, elements};

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

/// `b` in the frame the band between `a` and `b` is interpolated in: as given when the two are
/// already in a common frame, aligned onto `a` ([`aligned`]) when they are not — when alignment
/// lowers their RMSD below [`ALIGN_RMSD_FRACTION`] of the plain one. A common frame is
/// information: reactant and product taken from one path (ReactBench's, from Transition1x's NEBs)
/// differ by the reaction's own rigid motion, and removing it can route the band through a
/// different, much higher region (rxn2574: a 7 eV band where the unaligned one finds the 2.4 eV
/// TS); structures drawn or optimized separately differ by an arbitrary rotation, which must go.
pub fn band_frame(a: &Molecule, b: &Molecule) -> Result<Molecule> {
    let (al, best) = kabsch(a, b)?;
    let plain = super::align::rmsd_as_given(&b.positions, &a.positions);
    Ok(if best < ALIGN_RMSD_FRACTION * plain { al } else { b.clone() })
}

/// See [`band_frame`].
pub const ALIGN_RMSD_FRACTION: f64 = 2.0 / 3.0;

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
    let opts = NebOptions {
        climb: false,
        fmax: IDPP_FMAX,
        max_steps: IDPP_STEPS,
        spring: 1.0,
        max_band_step: None,
        max_move: 0.05,
        dt: 0.05,
        dt_max: 0.1,
        ..Default::default()
    };
    let r = relax_band(band, |k, mol| Ok(idpp(mol, &targets[k])), &opts, None)?;
    Ok(r.images)
}

/// IDPP relaxation: largest force (Å⁻³, the objective's unit) and steps; FIRE with moves of at
/// most 0.05 Å and a time step of at most 0.1, so that an atom started on top of a bond is not
/// thrown past its target.
pub const IDPP_FMAX: f64 = 0.01;
/// See [`IDPP_FMAX`].
pub const IDPP_STEPS: usize = 1000;
/// An image whose closest pair is below this fraction of the sum of bond radii is a bad guess
/// (two H atoms 0.32 Å apart; a C–H bond at 0.54 Å).
pub const MIN_PAIR_RATIO: f64 = 0.5;
/// An image with an interatomic distance further than this fraction of its interpolated target
/// from it has run away along the objective's slope to infinity (or been pushed around a bond).
pub const MAX_TARGET_DEVIATION: f64 = 0.5;

/// Why `band` is a bad initial guess between its two ends, if it is: an intermediate image with
/// nearly coincident atoms or distances far from the linear interpolation of the ends' distances.
pub fn band_problem(band: &[Molecule]) -> Result<Option<String>> {
    let m = band.len();
    if m < 3 {
        return Ok(None);
    }
    let (da, db) = (distances(&band[0]), distances(&band[m - 1]));
    let n = band[0].len();
    let r: Vec<f64> = band[0].numbers.iter().map(|&z| elements::bond_radius(z)).collect::<Result<_>>()?;
    for (k, mol) in band.iter().enumerate().take(m - 1).skip(1) {
        let d = distances(mol);
        let t = k as f64 / (m - 1) as f64;
        for i in 0..n {
            for j in i + 1..n {
                let ratio = d[i * n + j] / (r[i] + r[j]);
                if ratio < MIN_PAIR_RATIO {
                    return Ok(Some(format!(
                        "image {k}: atoms {i} and {j} at {:.2} Å ({ratio:.2} × bond radii)",
                        d[i * n + j]
                    )));
                }
                let target = (1.0 - t) * da[i * n + j] + t * db[i * n + j];
                if (d[i * n + j] - target).abs() > MAX_TARGET_DEVIATION * target {
                    return Ok(Some(format!(
                        "image {k}: atoms {i}–{j} at {:.2} Å, the interpolated distance is {target:.2} Å",
                        d[i * n + j]
                    )));
                }
            }
        }
    }
    Ok(None)
}

/// Which interpolation made the initial band.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct InitialBand {
    /// `idpp`, or `linear` when the IDPP band was a bad guess.
    pub method: String,
    /// Why the IDPP band was rejected, if it was.
    pub idpp_problem: Option<String>,
    /// What is still wrong with the band used (then the NEB has to repair it), if anything.
    pub problem: Option<String>,
}

/// The initial band from `a` to `b` (aligned): IDPP, or the linear band when the IDPP band fails
/// [`band_problem`] and the linear one does not (of two bad bands, IDPP's is kept).
pub fn initial_band(a: &Molecule, b: &Molecule, n_images: usize) -> Result<(Vec<Molecule>, InitialBand)> {
    let idpp = idpp_band(a, b, n_images)?;
    let Some(why) = band_problem(&idpp)? else {
        return Ok((idpp, InitialBand { method: "idpp".into(), idpp_problem: None, problem: None }));
    };
    let lin = linear(a, b, n_images)?;
    match band_problem(&lin)? {
        None => Ok((lin, InitialBand { method: "linear".into(), idpp_problem: Some(why), problem: None })),
        Some(_) => {
            Ok((idpp, InitialBand { method: "idpp".into(), idpp_problem: Some(why.clone()), problem: Some(why) }))
        }
    }
}
