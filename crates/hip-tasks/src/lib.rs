//! # hip-tasks — what a Hessian is for
//!
//! On any [`hip_core::Potential`] (a model, an analytic test surface) or a plain
//! [`hip_core::Hessian`]: [`vibrations`] (frequencies, modes, ZPE, classification),
//! [`thermo`] (harmonic thermochemistry), [`optimize`] (RFO, BFGS, FIRE minimization and
//! RS-P-RFO transition-state search), and analytic [`potentials`] with exact Hessians for tests
//! and demos (Müller–Brown, Lennard-Jones, a Morse/angle bonded force field).
//! This crate never depends on a model.

pub mod linalg;
pub mod metrics;
pub mod optimize;
pub mod potentials;
pub mod reaction;
pub mod thermo;
pub mod vibrations;

pub use thermo::{Thermo, ThermoInput, thermo};
pub use vibrations::{Classification, DEFAULT_IMAGINARY_THRESHOLD_CM, RotorType, Vibrations, zpe_ev};
