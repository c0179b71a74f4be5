//! File formats: [`xyz`] (XYZ and extended XYZ), [`matrix`] (NPY and whitespace text matrices),
//! [`dataset`] (HDF5 Hessian datasets); every writer is atomic ([`atomic`]).

pub mod atomic;
pub mod dataset;
pub mod matrix;
pub mod reaction;
pub mod xyz;
