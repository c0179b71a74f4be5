//! # hip-core — the shared vocabulary of hip-rs
//!
//! [`Molecule`], [`elements`] (symbols, masses with an explicit [`MassConvention`], covalent
//! radii), [`units`] (CODATA 2018 constants, in one place), [`Hessian`] (dense `3N × 3N`,
//! row-major over `(atom, xyz)`, eV/Å²), the [`Potential`] trait, and [`io`] (XYZ/extended XYZ,
//! NPY and text matrices). Units everywhere: Å, eV, eV/Å, eV/Å², amu, cm⁻¹.

pub mod block_hessian;
pub mod domain;
pub mod elements;
mod elements_table;
pub mod error;
pub mod hessian;
pub mod io;
pub mod molecule;
pub mod potential;
pub mod units;

pub use block_hessian::BlockHessian;
pub use elements::MassConvention;
pub use error::{Error, Result};
pub use hessian::Hessian;
pub use molecule::Molecule;
pub use potential::{EnergyForces, Potential};
