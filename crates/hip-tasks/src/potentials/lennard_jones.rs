//! Lennard-Jones clusters: `E = Σ_{i<j} 4ε ((σ/r)¹² − (σ/r)⁶)`.

use num_dual::DualNum;

use super::{AnalyticEnergy, distance};

/// A Lennard-Jones cluster (all pairs, no cutoff). Defaults to reduced units ε = σ = 1.
#[derive(Clone, Debug)]
pub struct LennardJones {
    /// Well depth, eV.
    pub epsilon: f64,
    /// Zero-crossing distance, Å.
    pub sigma: f64,
}

impl Default for LennardJones {
    fn default() -> Self {
        LennardJones { epsilon: 1.0, sigma: 1.0 }
    }
}

impl AnalyticEnergy for LennardJones {
    fn name(&self) -> String {
        "lennard-jones".into()
    }

    fn energy<D: DualNum<Primitive = f64>>(&self, numbers: &[u8], x: &[D]) -> D {
        let n = numbers.len();
        let mut e = D::from(0.0);
        for i in 0..n {
            for j in i + 1..n {
                let s6 = (distance(x, i, j).recip() * self.sigma).powi(6);
                e += (s6.clone() * s6.clone() - s6) * (4.0 * self.epsilon);
            }
        }
        e
    }
}
