//! Hessians of the same weights by three routes, behind one interface, and the model as a
//! [`hip_core::Potential`].

use std::sync::Arc;

use candle_core::{Device, Tensor, Var};
use hip_core::{BlockHessian, EnergyForces, Hessian, Molecule, Potential};

use crate::graph::Batch;
use crate::{Error, HipModel, Result};

/// How to get the Hessian.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum HessianMethod {
    /// The HIP head: one forward pass.
    Direct,
    /// 3N backward passes through the forces (second-order autodiff).
    Autodiff,
    /// Central differences of forces, step `delta` Å, `(J + Jᵀ)/2`.
    FiniteDifference {
        /// Displacement, Å.
        delta: f64,
    },
}

impl std::str::FromStr for HessianMethod {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "direct" => Ok(Self::Direct),
            "autodiff" | "ad" => Ok(Self::Autodiff),
            "fd" | "finite_difference" => Ok(Self::FiniteDifference { delta: 0.01 }),
            _ => Err(Error::Input(format!("unknown Hessian method \"{s}\" (direct, autodiff, fd)"))),
        }
    }
}

impl HessianMethod {
    /// `direct`, `autodiff` or `fd`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Direct => "direct",
            Self::Autodiff => "autodiff",
            Self::FiniteDifference { .. } => "fd",
        }
    }
}

/// Energy (eV), forces (eV/Å) and Hessian (eV/Å²) of one molecule.
#[derive(Clone, Debug)]
pub struct Prediction {
    /// Energy.
    pub energy: f64,
    /// Forces.
    pub forces: Vec<[f64; 3]>,
    /// Hessian.
    pub hessian: Hessian,
}

/// Checks that candle computes second derivatives correctly in this thread: `d²/dx² Σx³ = 6x`.
/// Without `CANDLE_GRAD_DO_NOT_DETACH=1` candle silently returns wrong values (stack.md rule 1).
pub fn second_order_self_test() -> Result<()> {
    let x = Var::from_vec(vec![1.0f64, 2.0, 3.0], 3, &Device::Cpu)?;
    let y = x.as_tensor().mul(x.as_tensor())?.mul(x.as_tensor())?.sum_all()?;
    let g = y.backward()?.get(x.as_tensor()).cloned().ok_or_else(|| Error::Input("no gradient".into()))?;
    let g2 = g.sum_all()?.backward()?;
    let got = g2.get(x.as_tensor()).map(|t| t.to_vec1::<f64>()).transpose()?.unwrap_or_default();
    if got != [6.0, 12.0, 18.0] {
        return Err(Error::SecondOrderDisabled(format!(
            "second-order autodiff is disabled (self-test d²/dx² x³ gave {got:?}, expected [6, 12, 18]): \
             set CANDLE_GRAD_DO_NOT_DETACH=1 before the first backward pass; refusing to return wrong autodiff Hessians"
        )));
    }
    Ok(())
}

fn to_rows(t: &Tensor) -> Result<Vec<[f64; 3]>> {
    Ok(t.to_vec2::<f64>()?.into_iter().map(|r| [r[0], r[1], r[2]]).collect())
}

impl HipModel {
    /// The direct Hessian of a model whose head was never trained is its random initialization:
    /// refused with an error that says what to use instead.
    fn require_trained_head(&self) -> Result<()> {
        if self.head_trained() {
            return Ok(());
        }
        Err(Error::Input(
            "this model's Hessian head was never trained (an E+F model: no epoch of its training history has a \
             Hessian loss), so it has no direct Hessian; use --method autodiff or fd"
                .into(),
        ))
    }

    /// Energy and forces of one molecule (no Hessian).
    pub fn predict_energy_forces(&self, mol: &Molecule) -> Result<(f64, Vec<[f64; 3]>)> {
        let batch = Batch::new(&[mol], &self.config, self.device())?;
        let (out, f, _) = self.energy_forces(&batch, false)?;
        Ok((out.energies.to_vec1::<f64>()?[0], to_rows(&f)?))
    }

    /// The Hessian alone by `method` (what frequencies, ZPEs and Hessian benchmarks need).
    ///
    /// For `Direct` this is **one forward pass with no backward pass**: the head predicts the
    /// Hessian from the node features, so the forces are never needed. For `Autodiff` the force
    /// graph is the route to the Hessian, and `FiniteDifference` needs forces at the 6N displaced
    /// geometries only (not at the centre).
    pub fn hessian(&self, mol: &Molecule, method: HessianMethod) -> Result<Hessian> {
        match method {
            HessianMethod::Direct => {
                self.require_trained_head()?;
                let batch = Batch::new(&[mol], &self.config, self.device())?;
                let out = self.forward(&batch, &batch.positions, true)?;
                let h = out.hessians.expect("requested").to_vec1::<f64>()?;
                Ok(Hessian::from_vec(mol.len(), h)?)
            }
            HessianMethod::Autodiff => Ok(self.predict(mol, method)?.hessian),
            HessianMethod::FiniteDifference { delta } => self.fd_hessian(mol, delta),
        }
    }

    /// Direct Hessians of several molecules from **one batched forward pass** (no backward pass):
    /// the same values as [`Self::hessian`] with `Direct` for each molecule alone, up to
    /// floating-point summation order. An empty list gives an empty result.
    pub fn hessians_direct(&self, mols: &[&Molecule]) -> Result<Vec<Hessian>> {
        self.require_trained_head()?;
        if mols.is_empty() {
            return Ok(Vec::new());
        }
        let batch = Batch::new(mols, &self.config, self.device())?;
        let out = self.forward(&batch, &batch.positions, true)?;
        let h = out.hessians.expect("requested").to_vec1::<f64>()?;
        let mut result = Vec::with_capacity(mols.len());
        for (k, m) in mols.iter().enumerate() {
            let block = h[batch.h_offsets[k]..batch.h_offsets[k + 1]].to_vec();
            result.push(Hessian::from_vec(m.len(), block)?);
        }
        Ok(result)
    }

    /// The direct Hessian, block-sparse: one 3×3 block per atom and per atom pair within
    /// `hessian_cutoff`, from one forward pass with no dense `(3N)²` buffer anywhere. Memory
    /// and time are O(atoms + pairs), so this is the call for large systems; for pairs inside
    /// the cutoff the blocks are exactly those of [`Self::hessian`] with `Direct`.
    pub fn hessian_blocks(&self, mol: &Molecule) -> Result<BlockHessian> {
        self.require_trained_head()?;
        let batch = Batch::new(&[mol], &self.config, self.device())?;
        let b = self.forward_blocks(&batch, &batch.positions)?;
        let rows = |t: &Tensor| -> Result<Vec<[f64; 9]>> {
            let v = t.flatten_all()?.to_vec1::<f64>()?;
            Ok(v.chunks_exact(9).map(|c| std::array::from_fn(|k| c[k])).collect())
        };
        Ok(BlockHessian::new(mol.len(), rows(&b.diag)?, batch.pairs, rows(&b.pairs)?)?)
    }

    fn fd_hessian(&self, mol: &Molecule, delta: f64) -> Result<Hessian> {
        let d = 3 * mol.len();
        let x0 = mol.flat_positions();
        let mut j = vec![0.0; d * d];
        for k in 0..d {
            let mut fs = Vec::with_capacity(2);
            for sgn in [1.0, -1.0] {
                let mut x = x0.clone();
                x[k] += sgn * delta;
                fs.push(self.predict_energy_forces(&mol.with_flat_positions(&x))?.1);
            }
            for r in 0..d {
                j[r * d + k] = -(fs[0][r / 3][r % 3] - fs[1][r / 3][r % 3]) / (2.0 * delta);
            }
        }
        Ok(Hessian::from_vec(mol.len(), j)?.symmetrized())
    }

    /// Energy, forces and the Hessian by `method`.
    pub fn predict(&self, mol: &Molecule, method: HessianMethod) -> Result<Prediction> {
        let n = mol.len();
        let d = 3 * n;
        let batch = Batch::new(&[mol], &self.config, self.device())?;
        match method {
            HessianMethod::Direct => {
                self.require_trained_head()?;
                let (out, f, _) = self.energy_forces(&batch, true)?;
                let h = out.hessians.expect("requested").to_vec1::<f64>()?;
                Ok(Prediction {
                    energy: out.energies.to_vec1::<f64>()?[0],
                    forces: to_rows(&f)?,
                    hessian: Hessian::from_vec(n, h)?,
                })
            }
            HessianMethod::Autodiff => {
                second_order_self_test()?;
                let (out, f, pos) = self.energy_forces(&batch, false)?;
                let g = f.neg()?.flatten_all()?;
                let mut h = Vec::with_capacity(d * d);
                for k in 0..d {
                    let grads = g.narrow(0, k, 1)?.sum_all()?.backward()?;
                    let row = match grads.get(pos.as_tensor()) {
                        Some(t) => t.flatten_all()?.to_vec1::<f64>()?,
                        None => vec![0.0; d],
                    };
                    h.extend(row);
                }
                Ok(Prediction {
                    energy: out.energies.to_vec1::<f64>()?[0],
                    forces: to_rows(&f)?,
                    hessian: Hessian::from_vec(n, h)?,
                })
            }
            HessianMethod::FiniteDifference { delta } => {
                let (energy, forces) = self.predict_energy_forces(mol)?;
                Ok(Prediction { energy, forces, hessian: self.fd_hessian(mol, delta)? })
            }
        }
    }
}

/// The model with a fixed Hessian method, as a [`Potential`].
#[derive(Clone, Debug)]
pub struct ModelPotential {
    /// The model.
    pub model: Arc<HipModel>,
    /// How Hessians are computed.
    pub method: HessianMethod,
}

fn core_err(e: Error) -> hip_core::Error {
    match e {
        Error::Core(c) => c,
        other => hip_core::Error::invalid("model", other.to_string()),
    }
}

/// Every geometry an optimizer asks the model about is checked for coincident nuclei
/// ([`hip_core::domain::check_coincident`]): a search on a learned surface without short-range
/// repulsion can walk two atoms together, where the model's forces become non-finite; the run then
/// stops with the pair and its distance instead.
impl Potential for ModelPotential {
    fn name(&self) -> String {
        format!("hip-{}", self.method.name())
    }
    fn energy_forces(&self, mol: &Molecule) -> hip_core::Result<EnergyForces> {
        hip_core::domain::check_coincident(mol)?;
        let (energy, forces) = self.model.predict_energy_forces(mol).map_err(core_err)?;
        Ok(EnergyForces { energy, forces })
    }
    fn hessian(&self, mol: &Molecule) -> hip_core::Result<Hessian> {
        hip_core::domain::check_coincident(mol)?;
        self.model.hessian(mol, self.method).map_err(core_err)
    }
}
