//! Reading a molecule from `FILE.xyz` (XYZ / extended XYZ) or `FILE.h5:INDEX` (a dataset sample).

use std::path::Path;

use hip_core::io::{dataset::Dataset, xyz};
use hip_core::{Molecule, Result};

/// A molecule and, for dataset samples, the sample itself.
pub struct Input {
    pub molecule: Molecule,
    pub sample: Option<hip_core::io::dataset::Sample>,
}

/// Reads `spec`: `PATH.h5:INDEX` selects a dataset sample, anything else is read as XYZ.
pub fn read_molecule(spec: &str) -> Result<Input> {
    if let Some((file, index)) = spec.rsplit_once(':') {
        if file.ends_with(".h5") || file.ends_with(".hdf5") {
            let i: usize = index.parse().map_err(|_| {
                hip_core::Error::invalid(spec, format!("\"{index}\" is not a sample index (use FILE.h5:INDEX)"))
            })?;
            let ds = Dataset::open(Path::new(file))?;
            let sample = ds.sample(i)?;
            return Ok(Input { molecule: sample.molecule.clone(), sample: Some(sample) });
        }
    }
    Ok(Input { molecule: xyz::read_xyz(Path::new(spec))?, sample: None })
}
