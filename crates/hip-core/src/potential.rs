//! The [`Potential`] trait: anything that gives energies, forces and Hessians of a molecule
//! (a trained model with any Hessian provider, an analytic test potential, a QM code).

use crate::{Hessian, Molecule, Result};

/// Energy in eV and forces in eV/Å (`F = −∂E/∂x`), one per atom.
#[derive(Clone, Debug, PartialEq)]
pub struct EnergyForces {
    /// Energy, eV.
    pub energy: f64,
    /// Forces, eV/Å.
    pub forces: Vec<[f64; 3]>,
}

/// A potential energy surface.
pub trait Potential {
    /// A short name for reports (e.g. `hip-direct`, `muller-brown`).
    fn name(&self) -> String;

    /// Energy and forces at `mol`.
    fn energy_forces(&self, mol: &Molecule) -> Result<EnergyForces>;

    /// The Hessian at `mol` (eV/Å²).
    fn hessian(&self, mol: &Molecule) -> Result<Hessian>;

    /// Whether the surface is invariant under rigid translations and rotations of the whole
    /// system (true for molecules in vacuum). Optimizers project rigid-body motion out only when
    /// this holds; a 2D model surface such as Müller–Brown returns `false`.
    fn rigid_body_invariant(&self) -> bool {
        true
    }

    /// Counters of the potential's own work so far, for reports (GFN2-xTB: its SCFs' second
    /// tries and failures, and their seconds); none by default.
    fn diagnostics(&self) -> std::collections::BTreeMap<String, f64> {
        std::collections::BTreeMap::new()
    }
}

impl<P: Potential + ?Sized> Potential for &P {
    fn name(&self) -> String {
        (**self).name()
    }
    fn energy_forces(&self, mol: &Molecule) -> Result<EnergyForces> {
        (**self).energy_forces(mol)
    }
    fn hessian(&self, mol: &Molecule) -> Result<Hessian> {
        (**self).hessian(mol)
    }
    fn rigid_body_invariant(&self) -> bool {
        (**self).rigid_body_invariant()
    }
    fn diagnostics(&self) -> std::collections::BTreeMap<String, f64> {
        (**self).diagnostics()
    }
}

impl<P: Potential + ?Sized> Potential for Box<P> {
    fn name(&self) -> String {
        (**self).name()
    }
    fn energy_forces(&self, mol: &Molecule) -> Result<EnergyForces> {
        (**self).energy_forces(mol)
    }
    fn hessian(&self, mol: &Molecule) -> Result<Hessian> {
        (**self).hessian(mol)
    }
    fn rigid_body_invariant(&self) -> bool {
        (**self).rigid_body_invariant()
    }
    fn diagnostics(&self) -> std::collections::BTreeMap<String, f64> {
        (**self).diagnostics()
    }
}
