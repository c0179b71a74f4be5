//! From reactant and product to a verified transition state, on any [`hip_core::Potential`]:
//!
//! - [`align`]: Kabsch alignment and RMSD of two geometries with the same atoms in the same order;
//! - [`interpolate`]: linear and IDPP (image-dependent pair potential, Smidstrup et al. 2014)
//!   initial bands;
//! - [`neb`]: climbing-image NEB (improved tangent, springs, FIRE on the band), whose climbing
//!   image is the TS guess;
//! - [`irc`]: the intrinsic reaction coordinate from a TS in both directions (mass-weighted
//!   steepest descent, Euler predictor–corrector), each end then minimized with RFO;
//! - [`pipeline`]: NEB → TS search → frequency check → IRC → "intended" (ends = R and P).

pub mod align;
pub mod interpolate;
pub mod irc;
pub mod neb;
pub mod pipeline;
