//! A small bonded force field for molecules, so optimizers and TS search run on real 3D
//! molecules without a model. Topology is fixed when the force field is built:
//! - bonds: pairs closer than 1.25 × (sum of covalent radii) in the reference geometry, Morse
//!   `D (1 − e^{−a (r − r₀)})²` with `r₀` = sum of covalent radii, `D` = 4 eV, `a` = 2 Å⁻¹;
//! - angles: every pair of bonds at an atom, `½ k (cos θ − cos θ₀)²`, `k` = 4 eV, `θ₀` by
//!   coordination (4 → 109.47°, 3 → 107° at N and 120° otherwise, 2 → 104.5° at O/S, 180° at C,
//!   115° otherwise);
//! - non-bonded (not 1-2 or 1-3) pairs: soft repulsion `A e^{−r/ρ}`, `A` = 50 eV, `ρ` = 0.25 Å.
//!
//! Planar NH₃ is a first-order saddle of this surface (umbrella inversion): a model-free
//! transition state for tests.

use hip_core::{Error, Molecule, Result, elements};
use num_dual::DualNum;

use super::{AnalyticEnergy, distance};

const MORSE_D: f64 = 4.0;
const MORSE_A: f64 = 2.0;
const ANGLE_K: f64 = 4.0;
const REP_A: f64 = 50.0;
const REP_RHO: f64 = 0.25;

/// A bonded force field with a fixed topology.
#[derive(Clone, Debug)]
pub struct BondedForceField {
    numbers: Vec<u8>,
    bonds: Vec<(usize, usize, f64)>,
    angles: Vec<(usize, usize, usize, f64)>,
    nonbonded: Vec<(usize, usize)>,
}

impl BondedForceField {
    /// Detects bonds and angles in `reference`.
    pub fn new(reference: &Molecule) -> Result<Self> {
        reference.validate()?;
        let n = reference.len();
        let radii: Vec<f64> = reference.numbers.iter().map(|&z| elements::covalent_radius(z)).collect::<Result<_>>()?;
        let dist = |i: usize, j: usize| {
            let (a, b) = (reference.positions[i], reference.positions[j]);
            ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
        };
        let mut neighbors = vec![Vec::new(); n];
        let mut bonds = Vec::new();
        for i in 0..n {
            for j in i + 1..n {
                let r0 = radii[i] + radii[j];
                if dist(i, j) < 1.25 * r0 {
                    bonds.push((i, j, r0));
                    neighbors[i].push(j);
                    neighbors[j].push(i);
                }
            }
        }
        let mut angles = Vec::new();
        for c in 0..n {
            let nb = &neighbors[c];
            let theta0: f64 = match (nb.len(), reference.numbers[c]) {
                (0 | 1, _) => continue,
                (2, 8 | 16) => 104.5,
                (2, 6) => 180.0,
                (2, _) => 115.0,
                (3, 7) => 107.0,
                (3, _) => 120.0,
                _ => 109.471_220_634_490_7,
            };
            for a in 0..nb.len() {
                for b in a + 1..nb.len() {
                    angles.push((nb[a], c, nb[b], theta0.to_radians().cos()));
                }
            }
        }
        let mut nonbonded = Vec::new();
        for i in 0..n {
            for j in i + 1..n {
                let one_two = neighbors[i].contains(&j);
                let one_three = neighbors[i].iter().any(|k| neighbors[*k].contains(&j));
                if !one_two && !one_three {
                    nonbonded.push((i, j));
                }
            }
        }
        Ok(BondedForceField { numbers: reference.numbers.clone(), bonds, angles, nonbonded })
    }

    /// Number of bonds and angle terms.
    pub fn counts(&self) -> (usize, usize) {
        (self.bonds.len(), self.angles.len())
    }
}

impl AnalyticEnergy for BondedForceField {
    fn name(&self) -> String {
        "bonded-ff".into()
    }

    fn energy<D: DualNum<Primitive = f64>>(&self, _numbers: &[u8], x: &[D]) -> D {
        let mut e = D::from(0.0);
        for &(i, j, r0) in &self.bonds {
            let t = -((distance(x, i, j) - r0) * (-MORSE_A)).exp() + 1.0;
            e += t.clone() * t * MORSE_D;
        }
        for &(a, c, b, cos0) in &self.angles {
            let u: [D; 3] = std::array::from_fn(|k| x[3 * a + k].clone() - x[3 * c + k].clone());
            let v: [D; 3] = std::array::from_fn(|k| x[3 * b + k].clone() - x[3 * c + k].clone());
            let dot = u[0].clone() * v[0].clone() + u[1].clone() * v[1].clone() + u[2].clone() * v[2].clone();
            let cos = dot / (distance(x, a, c) * distance(x, b, c));
            let d = cos - cos0;
            e += d.clone() * d * (0.5 * ANGLE_K);
        }
        for &(i, j) in &self.nonbonded {
            e += (distance(x, i, j) * (-1.0 / REP_RHO)).exp() * REP_A;
        }
        e
    }

    fn check(&self, mol: &Molecule) -> Result<()> {
        if mol.numbers != self.numbers {
            return Err(Error::invalid("bonded-ff", "the molecule's atoms differ from the force field's topology"));
        }
        Ok(())
    }
}
