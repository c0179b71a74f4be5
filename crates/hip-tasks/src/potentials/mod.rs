//! Analytic potentials with exact Hessians, for tests and demos: [`MullerBrown`] (2D, embedded
//! in 3D), [`LennardJones`] clusters and a small [`BondedForceField`] (Morse bonds from covalent
//! radii, cosine-harmonic angles, soft non-bonded repulsion).
//!
//! Each is written once, generic over a dual number ([`AnalyticEnergy::energy`]); forces and
//! Hessians come from `num-dual` (forward-mode, exact to round-off), so there are no hand-written
//! derivatives to get wrong.

mod bonded;
mod lennard_jones;
mod muller_brown;

pub use bonded::BondedForceField;
pub use lennard_jones::LennardJones;
pub use muller_brown::MullerBrown;

use hip_core::{EnergyForces, Error, Hessian, Molecule, Potential, Result};
use nalgebra::DVector;
use num_dual::DualNum;

/// An energy written once for any dual number type.
pub trait AnalyticEnergy {
    /// Name for reports.
    fn name(&self) -> String;
    /// Energy (eV) of flat positions `x` (Å, `3N` values) for atoms `numbers`.
    fn energy<D: DualNum<Primitive = f64>>(&self, numbers: &[u8], x: &[D]) -> D;
    /// See [`Potential::rigid_body_invariant`].
    fn rigid_body_invariant(&self) -> bool {
        true
    }
    /// Checks that the molecule fits the potential (e.g. atom count).
    fn check(&self, _mol: &Molecule) -> Result<()> {
        Ok(())
    }
}

/// Adapts an [`AnalyticEnergy`] to [`Potential`] with exact derivatives.
#[derive(Clone, Debug)]
pub struct Analytic<E>(pub E);

impl<E: AnalyticEnergy> Potential for Analytic<E> {
    fn name(&self) -> String {
        self.0.name()
    }

    fn energy_forces(&self, mol: &Molecule) -> Result<EnergyForces> {
        mol.validate()?;
        self.0.check(mol)?;
        let x = DVector::from_vec(mol.flat_positions());
        let (e, g) = num_dual::gradient(|v: DVector<_>| self.0.energy(&mol.numbers, v.as_slice()), &x);
        if !e.is_finite() || g.iter().any(|v| !v.is_finite()) {
            return Err(Error::invalid(self.0.name(), "energy or forces are not finite at this geometry"));
        }
        Ok(EnergyForces { energy: e, forces: g.as_slice().chunks(3).map(|c| [-c[0], -c[1], -c[2]]).collect() })
    }

    fn hessian(&self, mol: &Molecule) -> Result<Hessian> {
        mol.validate()?;
        self.0.check(mol)?;
        let x = DVector::from_vec(mol.flat_positions());
        let (_, _, h) = num_dual::hessian(|v: DVector<_>| self.0.energy(&mol.numbers, v.as_slice()), &x);
        let n = 3 * mol.len();
        Hessian::from_vec(mol.len(), (0..n * n).map(|k| h[(k / n, k % n)]).collect())
    }

    fn rigid_body_invariant(&self) -> bool {
        self.0.rigid_body_invariant()
    }
}

/// `|a − b|` for two atoms of flat positions.
fn distance<D: DualNum<Primitive = f64>>(x: &[D], i: usize, j: usize) -> D {
    let d: [D; 3] = std::array::from_fn(|k| x[3 * i + k].clone() - x[3 * j + k].clone());
    (d[0].clone() * d[0].clone() + d[1].clone() * d[1].clone() + d[2].clone() * d[2].clone()).sqrt()
}
