//! `--potential model|gfn2`: which surface a command works on. Every molecule command (`hessian`,
//! `freq`, `opt`, `ts`, `neb`, `irc`, `reaction`) flattens [`PotentialArgs`] and works on the
//! [`Surface`] it builds, through `hip_core::Potential` only.

use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use hip_core::{EnergyForces, Hessian, Molecule, Potential};
use hip_model::ModelPotential;

use crate::model_io::{ComputeArgs, domain_warnings};

/// The potential a command runs on.
#[derive(Args, Debug, Clone, Default)]
pub struct PotentialArgs {
    /// The surface: `model` (the HIP model: `--model`, `--method`, `--device`, `--dtype`) or
    /// `gfn2` (GFN2-xTB through tblite, the level the models are trained on; Hessians by central
    /// differences of its gradients).
    #[arg(long, default_value = "model")]
    pub potential: String,
    /// Model checkpoint (default: the embedded model).
    #[arg(long)]
    pub model: Option<PathBuf>,
    #[command(flatten)]
    pub compute: ComputeArgs,
    /// The model's Hessian: direct (HIP head), autodiff or fd [default: direct].
    #[arg(long)]
    pub method: Option<String>,
}

/// A built surface.
#[derive(Debug)]
pub enum Surface {
    /// The HIP model with a Hessian method.
    Model(ModelPotential),
    /// GFN2-xTB.
    #[cfg(feature = "gfn2")]
    Gfn2(hip_xtb::Gfn2),
}

impl PotentialArgs {
    /// `--method`, or its default.
    pub fn method(&self) -> &str {
        self.method.as_deref().unwrap_or("direct")
    }

    /// What the Hessian is, for reports: the model's method, or `gfn2-fd`.
    pub fn label(&self) -> String {
        if self.potential == "gfn2" { "gfn2-fd".into() } else { self.method().into() }
    }

    /// The surface, with the domain warnings of `mols` (the model's; none for GFN2-xTB, whose
    /// calls check for coincident atoms themselves).
    pub fn surface(&self, mols: &[&Molecule]) -> Result<(Surface, Vec<String>), String> {
        match self.potential.as_str() {
            "model" => {
                let model = self.compute.load(self.model.as_deref())?;
                let mut warnings = Vec::new();
                for m in mols {
                    warnings.extend(domain_warnings(m, &model)?);
                }
                let method = self.method().parse().map_err(|e: hip_model::Error| e.to_string())?;
                Ok((Surface::Model(ModelPotential { model: Arc::new(model), method }), warnings))
            }
            "gfn2" => self.gfn2(mols),
            other => Err(format!("--potential {other}: unknown (model, gfn2)")),
        }
    }

    fn model_only_flags(&self) -> Vec<&'static str> {
        let mut used = Vec::new();
        if self.model.is_some() {
            used.push("--model");
        }
        if self.method.is_some() {
            used.push("--method");
        }
        if self.compute.device.is_some() {
            used.push("--device");
        }
        if self.compute.dtype.is_some() {
            used.push("--dtype");
        }
        used
    }

    fn gfn2(&self, mols: &[&Molecule]) -> Result<(Surface, Vec<String>), String> {
        let used = self.model_only_flags();
        if !used.is_empty() {
            let verb = if used.len() == 1 { "applies" } else { "apply" };
            return Err(format!("{} {verb} to --potential model, not gfn2", used.join(", ")));
        }
        let surface = Surface::gfn2()?;
        for m in mols {
            hip_core::domain::check_coincident(m).map_err(|e| e.to_string())?;
        }
        Ok((surface, Vec::new()))
    }
}

impl Surface {
    /// GFN2-xTB, or why this build or machine has none.
    #[cfg(feature = "gfn2")]
    pub fn gfn2() -> Result<Surface, String> {
        hip_xtb::available()?;
        Ok(Surface::Gfn2(hip_xtb::Gfn2::default()))
    }

    /// GFN2-xTB, or why this build or machine has none.
    #[cfg(not(feature = "gfn2"))]
    pub fn gfn2() -> Result<Surface, String> {
        Err("--potential gfn2: this build has no GFN2-xTB (cargo feature `gfn2` of hip-cli)".into())
    }

    /// Energy, forces and Hessian at `mol` in one call.
    pub fn predict(&self, mol: &Molecule) -> Result<(EnergyForces, Hessian), String> {
        match self {
            Surface::Model(m) => {
                hip_core::domain::check_coincident(mol).map_err(|e| e.to_string())?;
                let p = m.model.predict(mol, m.method).map_err(|e| e.to_string())?;
                Ok((EnergyForces { energy: p.energy, forces: p.forces }, p.hessian))
            }
            #[cfg(feature = "gfn2")]
            Surface::Gfn2(g) => g.energy_forces_hessian(mol).map_err(|e| e.to_string()),
        }
    }

    /// [`Surface::predict`] as the evaluation's [`hip_model::Prediction`] (`hip eval
    /// --potential gfn2`, the report's DFT check).
    pub fn prediction(&self, mol: &Molecule) -> hip_model::Result<hip_model::Prediction> {
        let (ef, hessian) = self.predict(mol).map_err(hip_model::Error::Input)?;
        Ok(hip_model::Prediction { energy: ef.energy, forces: ef.forces, hessian })
    }

    fn inner(&self) -> &dyn Potential {
        match self {
            Surface::Model(m) => m,
            #[cfg(feature = "gfn2")]
            Surface::Gfn2(g) => g,
        }
    }
}

impl Potential for Surface {
    fn name(&self) -> String {
        self.inner().name()
    }
    fn energy_forces(&self, mol: &Molecule) -> hip_core::Result<EnergyForces> {
        self.inner().energy_forces(mol)
    }
    fn hessian(&self, mol: &Molecule) -> hip_core::Result<Hessian> {
        self.inner().hessian(mol)
    }
    fn diagnostics(&self) -> std::collections::BTreeMap<String, f64> {
        self.inner().diagnostics()
    }
}
