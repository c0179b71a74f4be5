//! Data quality: per-kind statistics (force RMS, max |F|, closest distances) and the geometry
//! filter a file declares in its `filter` attribute (datasets/README.md):
//!
//! - every pair of atoms at least `min_pair_ratio` × the sum of their covalent radii apart;
//! - `E − E_ref ≤ max_e_per_atom_sampled_eV · N` for samples outside a reaction, and
//!   `E − E_ref ≤ max_e_reaction_eV` for samples of a reaction, where `E_ref` is the lowest
//!   energy of a `minimum` sample of the same molecule.

use std::collections::BTreeMap;

use super::Dataset;
use crate::{Result, elements};

/// A reaction's TS sample and its (reverse, forward) IRC-end samples, where stored.
pub type ReactionSamples = (Option<usize>, [Option<usize>; 2]);

/// The geometry filter of a dataset.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Filter {
    /// Smallest allowed `d_ij / (r_i + r_j)` (covalent radii).
    pub min_pair_ratio: f64,
    /// Largest energy above the molecule's minimum per atom, for samples outside a reaction, eV.
    pub max_e_per_atom_sampled_ev: f64,
    /// Largest energy above the molecule's minimum for samples of a reaction, eV.
    pub max_e_reaction_ev: f64,
}

impl Filter {
    /// The filter of `datasets/generate.py` (data v2).
    pub const V2: Filter = Filter { min_pair_ratio: 0.7, max_e_per_atom_sampled_ev: 0.3, max_e_reaction_ev: 5.0 };

    /// Parses the `filter` attribute (a flat JSON object with the three keys of
    /// `datasets/generate.py`); `None` if a key is missing.
    pub fn from_json(s: &str) -> Option<Filter> {
        Some(Filter {
            min_pair_ratio: json_number(s, "min_pair_ratio")?,
            max_e_per_atom_sampled_ev: json_number(s, "max_e_per_atom_sampled_eV")?,
            max_e_reaction_ev: json_number(s, "max_e_reaction_eV")?,
        })
    }
}

/// The number after `"key":` in a flat JSON object.
fn json_number(s: &str, key: &str) -> Option<f64> {
    let at = s.find(&format!("\"{key}\""))? + key.len() + 2;
    let rest = s[at..].trim_start().strip_prefix(':')?.trim_start();
    let end = rest.find(|c: char| !(c.is_ascii_digit() || "+-.eE".contains(c))).unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// Statistics of the samples of one kind.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct KindStats {
    /// Samples.
    pub count: usize,
    /// RMS force component, eV/Å.
    pub force_rms: f64,
    /// Largest |F| of an atom, eV/Å.
    pub max_force: f64,
    /// Closest interatomic distance, Å.
    pub min_distance: f64,
    /// Smallest `d_ij / (r_i + r_j)`.
    pub min_pair_ratio: f64,
    /// Largest energy above the molecule's minimum, eV (NaN if the molecule has no minimum).
    pub max_energy_above_minimum: f64,
}

/// Per-sample geometry numbers.
struct Geometry {
    min_distance: f64,
    min_ratio: f64,
    /// Σ F² and the largest |F| of an atom.
    f2_maxf: (f64, f64),
}

impl Dataset {
    /// The filter the file declares (`filter` attribute), if any.
    pub fn declared_filter(&self) -> Option<Filter> {
        super::attr_string(&self.file, "filter").and_then(|s| Filter::from_json(&s))
    }

    /// Reaction classes (`reaction_class`, e.g. `conformational`, `h_shift`), one per reaction;
    /// empty for files without them.
    pub fn reaction_classes(&self) -> &[String] {
        &self.reaction_classes
    }

    /// For each reaction: its TS sample and its two IRC-end minima (reverse, forward) from the
    /// optional `reaction_ts_sample` and `reaction_end_samples` datasets (data v2), `None` where
    /// missing; an empty list for files without them. Every index is checked against the file.
    pub fn reaction_samples(&self) -> Result<Vec<ReactionSamples>> {
        let ctx = self.path.display().to_string();
        let read = |name: &str| -> Result<Option<Vec<i64>>> {
            if !self.file.link_exists(name) {
                return Ok(None);
            }
            let d = self.file.dataset(name).map_err(|e| crate::Error::invalid(&ctx, format!("{name}: {e}")))?;
            d.read_raw::<i64>().map(Some).map_err(|e| crate::Error::invalid(&ctx, format!("{name}: {e}")))
        };
        let (Some(ts), Some(ends)) = (read("reaction_ts_sample")?, read("reaction_end_samples")?) else {
            return Ok(Vec::new());
        };
        let r = self.reaction_ids.len();
        if ts.len() != r || ends.len() != 2 * r {
            return Err(crate::Error::invalid(
                &ctx,
                format!(
                    "reaction_ts_sample has {} and reaction_end_samples {} values for {r} reactions (expected {r} and {})",
                    ts.len(),
                    ends.len(),
                    2 * r
                ),
            ));
        }
        let index = |name: &str, k: usize, v: i64| -> Result<Option<usize>> {
            match usize::try_from(v) {
                Ok(i) if i < self.len() => Ok(Some(i)),
                Ok(i) => Err(crate::Error::invalid(
                    &ctx,
                    format!("{name}[{k}] = {i} is not a sample ({} samples)", self.len()),
                )),
                Err(_) => Ok(None),
            }
        };
        (0..r)
            .map(|k| {
                Ok((
                    index("reaction_ts_sample", k, ts[k])?,
                    [
                        index("reaction_end_samples", 2 * k, ends[2 * k])?,
                        index("reaction_end_samples", 2 * k + 1, ends[2 * k + 1])?,
                    ],
                ))
            })
            .collect()
    }

    /// Transition-state samples whose reaction rearranges bonds (class other than
    /// `conformational` and `unknown`).
    pub fn bond_rearranging_ts(&self) -> usize {
        (0..self.len())
            .filter(|&i| self.kind_of(i) == "ts")
            .filter_map(|i| self.reaction_index[i])
            .filter(|&r| self.reaction_classes.get(r).is_some_and(|c| c != "conformational" && c != "unknown"))
            .count()
    }

    /// `E_ref` of each molecule: the lowest energy of its `minimum` samples.
    fn minimum_energies(&self) -> BTreeMap<usize, f64> {
        let mut out: BTreeMap<usize, f64> = BTreeMap::new();
        for i in (0..self.len()).filter(|&i| self.kind_of(i) == "minimum") {
            let e = out.entry(self.molecule_index[i]).or_insert(f64::INFINITY);
            *e = e.min(self.energy[i]);
        }
        out
    }

    fn geometries(&self) -> Result<Vec<Geometry>> {
        let numbers: Vec<i64> = self.read_range("atomic_numbers", 0..self.total_atoms)?;
        let pos = self.read_rows3("positions", 0..self.total_atoms)?;
        let forces = self.read_rows3("forces", 0..self.total_atoms)?;
        let radius = |z: i64| u8::try_from(z).ok().and_then(|z| elements::covalent_radius(z).ok()).unwrap_or(f64::NAN);
        (0..self.len())
            .map(|i| {
                let a = self.atom_offset[i];
                let n = self.n_atoms[i];
                let (mut dmin, mut rmin) = (f64::INFINITY, f64::INFINITY);
                for p in a..a + n {
                    for q in p + 1..a + n {
                        let d = (0..3).map(|k| (pos[p][k] - pos[q][k]).powi(2)).sum::<f64>().sqrt();
                        dmin = dmin.min(d);
                        rmin = rmin.min(d / (radius(numbers[p]) + radius(numbers[q])));
                    }
                }
                let f2: f64 = forces[a..a + n].iter().flatten().map(|x| x * x).sum();
                let max_f =
                    forces[a..a + n].iter().map(|f| f.iter().map(|x| x * x).sum::<f64>().sqrt()).fold(0.0, f64::max);
                if rmin.is_nan() {
                    return Err(self.err(i, "an atom has no covalent radius"));
                }
                Ok(Geometry { min_distance: dmin, min_ratio: rmin, f2_maxf: (f2, max_f) })
            })
            .collect()
    }

    /// Statistics per kind (reads positions and forces, not Hessians).
    pub fn kind_stats(&self) -> Result<BTreeMap<String, KindStats>> {
        let geo = self.geometries()?;
        let e_ref = self.minimum_energies();
        let mut out: BTreeMap<String, (KindStats, f64, usize)> = BTreeMap::new();
        for (i, g) in geo.iter().enumerate() {
            let (s, f2, nf) = out.entry(self.kind_of(i).to_string()).or_insert((
                KindStats {
                    min_distance: f64::INFINITY,
                    min_pair_ratio: f64::INFINITY,
                    max_energy_above_minimum: f64::NEG_INFINITY,
                    ..Default::default()
                },
                0.0,
                0,
            ));
            s.count += 1;
            *f2 += g.f2_maxf.0;
            *nf += 3 * self.n_atoms[i];
            s.max_force = s.max_force.max(g.f2_maxf.1);
            s.min_distance = s.min_distance.min(g.min_distance);
            s.min_pair_ratio = s.min_pair_ratio.min(g.min_ratio);
            let de = e_ref.get(&self.molecule_index[i]).map_or(f64::NAN, |e| self.energy[i] - e);
            s.max_energy_above_minimum = s.max_energy_above_minimum.max(de);
        }
        Ok(out
            .into_iter()
            .map(|(k, (mut s, f2, nf))| {
                s.force_rms = (f2 / nf.max(1) as f64).sqrt();
                (k, s)
            })
            .collect())
    }

    /// Checks every sample against `filter`; the error names the file, the first offending
    /// sample and the rule it breaks.
    pub fn check_filter(&self, filter: &Filter) -> Result<()> {
        let geo = self.geometries()?;
        let e_ref = self.minimum_energies();
        for (i, g) in geo.iter().enumerate() {
            if g.min_ratio < filter.min_pair_ratio {
                return Err(self.err(
                    i,
                    format!(
                        "breaks the geometry filter: closest pair at {:.3} Å is {:.2} × the sum of covalent radii (< {})",
                        g.min_distance, g.min_ratio, filter.min_pair_ratio
                    ),
                ));
            }
            let Some(e0) = e_ref.get(&self.molecule_index[i]) else {
                return Err(self.err(i, "breaks the geometry filter: its molecule has no minimum sample"));
            };
            let de = self.energy[i] - e0;
            let (bound, rule) = match self.reaction_index[i] {
                Some(_) => (filter.max_e_reaction_ev, format!("{} eV for reaction samples", filter.max_e_reaction_ev)),
                None => (
                    filter.max_e_per_atom_sampled_ev * self.n_atoms[i] as f64,
                    format!("{} eV per atom", filter.max_e_per_atom_sampled_ev),
                ),
            };
            if de > bound + 1e-9 {
                return Err(self.err(
                    i,
                    format!("breaks the geometry filter: {de:.3} eV above its molecule's minimum (bound {rule})"),
                ));
            }
        }
        Ok(())
    }
}
