//! The Müller–Brown surface (Müller & Brown, Theor. Chim. Acta 53, 75 (1979)), embedded in 3D:
//! one "atom" at `(x, y, z)`, `E = V_MB(x, y) + ½ k z²`.

use hip_core::{Error, Molecule, Result};
use num_dual::DualNum;

use super::AnalyticEnergy;

const A: [f64; 4] = [-200.0, -100.0, -170.0, 15.0];
const AA: [f64; 4] = [-1.0, -1.0, -6.5, 0.7];
const BB: [f64; 4] = [0.0, 0.0, 11.0, 0.6];
const CC: [f64; 4] = [-10.0, -10.0, -6.5, 0.7];
const X0: [f64; 4] = [1.0, 0.0, -0.5, -1.0];
const Y0: [f64; 4] = [0.0, 0.5, 1.5, 1.0];

/// The Müller–Brown potential. Its stationary points (literature values, 3 decimals) are in
/// [`MullerBrown::MINIMA`] and [`MullerBrown::SADDLES`].
#[derive(Clone, Debug)]
pub struct MullerBrown {
    /// Stiffness of the harmonic confinement along z (keeps the surface 2D).
    pub z_stiffness: f64,
}

impl Default for MullerBrown {
    fn default() -> Self {
        MullerBrown { z_stiffness: 1.0e4 }
    }
}

impl MullerBrown {
    /// The three minima `(x, y, E)`.
    pub const MINIMA: [(f64, f64, f64); 3] =
        [(-0.558, 1.442, -146.700), (0.623, 0.028, -108.167), (-0.050, 0.467, -80.768)];
    /// The two saddle points `(x, y, E)`.
    pub const SADDLES: [(f64, f64, f64); 2] = [(-0.822, 0.624, -40.665), (0.212, 0.293, -72.249)];

    /// A one-atom "molecule" at `(x, y, 0)`.
    pub fn molecule(x: f64, y: f64) -> Molecule {
        Molecule::new(vec![1], vec![[x, y, 0.0]]).expect("finite point")
    }
}

impl AnalyticEnergy for MullerBrown {
    fn name(&self) -> String {
        "muller-brown".into()
    }

    fn energy<D: DualNum<Primitive = f64>>(&self, _numbers: &[u8], x: &[D]) -> D {
        let (px, py, pz) = (x[0].clone(), x[1].clone(), x[2].clone());
        let mut e = pz.clone() * pz * (0.5 * self.z_stiffness);
        for k in 0..4 {
            let dx = px.clone() - X0[k];
            let dy = py.clone() - Y0[k];
            let arg = dx.clone() * dx.clone() * AA[k] + dx * dy.clone() * BB[k] + dy.clone() * dy * CC[k];
            e += arg.exp() * A[k];
        }
        e
    }

    fn rigid_body_invariant(&self) -> bool {
        false
    }

    fn check(&self, mol: &Molecule) -> Result<()> {
        if mol.len() != 1 {
            return Err(Error::invalid("muller-brown", format!("needs exactly one atom, got {}", mol.len())));
        }
        Ok(())
    }
}
