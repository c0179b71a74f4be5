//! File formats: [`xyz`] (XYZ and extended XYZ), [`matrix`] (NPY and whitespace text matrices).

pub mod matrix;
pub mod xyz;
