//! ΔZPE of reactions (method page, section 8): for reactant/product pairs (the two IRC-end
//! minima of each test-split reaction, with their reference Hessians), the zero-point energy
//! difference `ΔZPE = ZPE(P) − ZPE(R)` from each Hessian method at the reference geometries,
//! against the reference Hessians' ΔZPE: ΔΔZPE = |ΔZPE_method − ΔZPE_ref|. Masses: IUPAC; ZPE
//! over real modes (`hip_tasks::Vibrations`).

use std::collections::BTreeMap;

use hip_core::io::dataset::Sample;
use hip_core::{Hessian, MassConvention, Molecule};
use hip_model::{HessianMethod, HipModel};
use hip_tasks::Vibrations;
use serde::{Deserialize, Serialize};

/// One reaction's ΔZPE by the reference and by each method.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ZpeRow {
    /// Reaction.
    pub name: String,
    /// Reference ΔZPE, eV.
    pub reference_ev: f64,
    /// ΔZPE per method label, eV.
    pub by_method: BTreeMap<String, f64>,
}

/// ΔΔZPE MAE per method, over the rows.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ZpeResults {
    /// Per reaction.
    pub rows: Vec<ZpeRow>,
    /// Mean |ΔZPE_method − ΔZPE_ref| per method, eV.
    pub ddzpe_mae_ev: BTreeMap<String, f64>,
}

fn zpe(mol: &Molecule, h: &Hessian) -> hip_core::Result<f64> {
    Ok(Vibrations::new(mol, h, &mol.masses(MassConvention::Iupac)?)?.zpe_ev())
}

/// ΔZPE of each `(name, reactant, product)` by the reference Hessians and by each
/// `(label, model, method)`.
pub fn delta_zpe(
    pairs: &[(String, Sample, Sample)],
    methods: &[(&str, &HipModel, HessianMethod)],
) -> Result<ZpeResults, String> {
    let mut rows = Vec::new();
    for (name, r, p) in pairs {
        let reference_ev = zpe(&p.molecule, &p.hessian).map_err(|e| e.to_string())?
            - zpe(&r.molecule, &r.hessian).map_err(|e| e.to_string())?;
        let mut by_method = BTreeMap::new();
        for &(label, model, method) in methods {
            let h = |m: &Molecule| model.hessian(m, method).map_err(|e| e.to_string());
            let d = zpe(&p.molecule, &h(&p.molecule)?).map_err(|e| e.to_string())?
                - zpe(&r.molecule, &h(&r.molecule)?).map_err(|e| e.to_string())?;
            by_method.insert(label.to_string(), d);
        }
        rows.push(ZpeRow { name: name.clone(), reference_ev, by_method });
    }
    let n = rows.len().max(1) as f64;
    let ddzpe_mae_ev = methods
        .iter()
        .map(|&(label, _, _)| {
            let s: f64 = rows.iter().map(|r| (r.by_method[label] - r.reference_ev).abs()).sum();
            (label.to_string(), s / n)
        })
        .collect();
    Ok(ZpeResults { rows, ddzpe_mae_ev })
}
