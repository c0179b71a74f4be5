//! [`HipModel`]: backbone → atomic energies (+ reference energies) and, optionally, the HIP head.

use candle_core::{DType, Device, Tensor, Var};
use irreps::Irreps;

use crate::graph::Batch;
use crate::hessian_head::{HeadBlocks, HessianHead};
use crate::layers::{conv::EdgeTp, gate::Gate, linear::EquiLinear, pair_tp::PairTp};
use crate::radial::{Dense, bessel_envelope};
use crate::sh::spherical_harmonics;
use crate::{ModelConfig, Params, Result};

/// Edges per chunk of per-edge work (backbone messages, Hessian-head pairs).
pub const EDGE_CHUNK: usize = 2048;

/// `(start, len)` chunks of `0..n` of at most [`EDGE_CHUNK`].
pub(crate) fn chunks(n: usize) -> impl Iterator<Item = (usize, usize)> {
    (0..n).step_by(EDGE_CHUNK).map(move |s| (s, EDGE_CHUNK.min(n - s)))
}

struct Interaction {
    conv: EdgeTp,
    /// `fused_to_descriptor` of `conv`, as a tensor (rows of `lin` for fused input).
    rows: Tensor,
    lin: EquiLinear,
    /// With `node_product`: the product of the mixed messages with themselves.
    product: Option<NodeProduct>,
    self_int: EquiLinear,
    gate: Gate,
    residual: bool,
}

/// MACE-style product (`ModelConfig::node_product`): `A ↦ A + W·(A ⊗ A)` for an atom's mixed
/// messages `A` (`(N, dim)` in the gate's input irreps), the elementwise (`uuu`) product along
/// every path back to those irreps, each path and channel weighted by an MLP of the atom's element.
/// `A` is a two-body feature (a sum over neighbours), so `A ⊗ A` is three-body.
struct NodeProduct {
    tp: PairTp,
    lin: EquiLinear,
}

impl NodeProduct {
    fn new(params: &mut Params, name: &str, irreps: &Irreps, n_species: usize, hidden: usize) -> Result<Self> {
        let tp = PairTp::new(params, &format!("{name}.tp"), irreps, irreps, n_species, hidden)?;
        let lin = EquiLinear::new(params, &format!("{name}.lin"), tp.irreps_out(), irreps, false)?;
        Ok(NodeProduct { tp, lin })
    }

    /// `a (N, dim)`, `onehot (N, n_species)` → `a + W·(a ⊗ a)`.
    fn forward(&self, a: &Tensor, onehot: &Tensor) -> Result<Tensor> {
        Ok((a + self.lin.forward(&self.tp.forward_radial(a, a, onehot)?)?)?)
    }
}

impl std::fmt::Debug for Interaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Interaction({} -> {})", self.conv.descriptor().irreps_in1(), self.gate.irreps_out)
    }
}

/// The network.
#[derive(Debug)]
pub struct HipModel {
    /// Architecture.
    pub config: ModelConfig,
    /// Trainable parameters.
    pub params: Params,
    embed: Dense,
    layers: Vec<Interaction>,
    readout: EquiLinear,
    head: HessianHead,
    refs: Tensor,
    device: Device,
    /// The checkpoint's training record says the head never saw a Hessian loss (an E+F model).
    head_untrained: bool,
}

/// What one forward pass returns.
#[derive(Debug)]
pub struct Output {
    /// Energy per molecule `(M,)`, eV.
    pub energies: Tensor,
    /// Flat Hessians (molecule after molecule, each `(3N)²` row-major), if requested.
    pub hessians: Option<Tensor>,
}

impl HipModel {
    /// Builds a freshly initialized f64 model.
    pub fn new(config: ModelConfig, device: &Device) -> Result<Self> {
        Self::with_dtype(config, device, DType::F64)
    }

    /// Builds a freshly initialized model whose weights and network arithmetic are `dtype` (F64
    /// or F32). Positions, their differences, energies, forces and Hessians stay f64 either way:
    /// edge vectors are differenced in f64 before the cast, and the atomic energies are summed
    /// (with the reference energies) in f64.
    pub fn with_dtype(config: ModelConfig, device: &Device, dtype: DType) -> Result<Self> {
        config.validate().map_err(|e| crate::Error::Input(format!("model config: {e}")))?;
        if !matches!(dtype, DType::F64 | DType::F32) {
            return Err(crate::Error::Input(format!("dtype {dtype:?}: the model runs in f64 or f32")));
        }
        let mut params = Params::with_dtype(config.seed, device, dtype);
        let hidden: Irreps = config.hidden_irreps.parse()?;
        let sh_irreps = Irreps::spherical_harmonics(&(0..=config.lmax).collect::<Vec<_>>());
        let n0: usize = hidden.iter().filter(|m| m.ir.is_scalar()).map(|m| m.mul).sum();
        if n0 == 0 {
            return Err(crate::Error::Input("hidden_irreps needs scalar (0e) channels".into()));
        }
        if config.reference_energies.len() != config.species.len() {
            return Err(crate::Error::Input("reference_energies must have one value per species".into()));
        }
        let embed = Dense::new(&mut params, "embed", config.species.len(), n0)?;
        let mut x_irreps: Irreps = format!("{n0}x0e").parse()?;
        let gate = Gate::new(&hidden);
        let mut layers = Vec::new();
        for k in 0..config.num_layers {
            let conv = EdgeTp::new(
                &mut params,
                &format!("layer{k}.conv"),
                &x_irreps,
                &sh_irreps,
                &gate.irreps_in,
                config.num_bessel,
                config.radial_hidden,
            )?;
            let lin =
                EquiLinear::new(&mut params, &format!("layer{k}.lin"), conv.irreps_out(), &gate.irreps_in, false)?;
            let product = if config.node_product {
                let name = format!("layer{k}.product");
                Some(NodeProduct::new(&mut params, &name, &gate.irreps_in, config.species.len(), config.radial_hidden)?)
            } else {
                None
            };
            let self_int = EquiLinear::new(&mut params, &format!("layer{k}.self"), &x_irreps, &gate.irreps_in, true)?;
            let rows = Tensor::from_vec(conv.fused_to_descriptor().to_vec(), conv.irreps_out().dim(), device)?;
            let residual = x_irreps == hidden;
            layers.push(Interaction { conv, rows, lin, product, self_int, gate: gate.clone(), residual });
            x_irreps = hidden.clone();
        }
        let readout = EquiLinear::new(&mut params, "readout", &hidden, &"1x0e".parse()?, false)?;
        let head = HessianHead::new(&mut params, &config, &hidden, &sh_irreps)?;
        let refs = Tensor::from_vec(config.reference_energies.clone(), config.reference_energies.len(), device)?;
        Ok(HipModel {
            config,
            params,
            embed,
            layers,
            readout,
            head,
            refs,
            device: device.clone(),
            head_untrained: false,
        })
    }

    /// The device.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The dtype of the weights and of the network's arithmetic.
    pub fn dtype(&self) -> DType {
        self.params.dtype()
    }

    /// The same model (config and weights) on `device` in `dtype` (F64 or F32): weights are
    /// converted, f64 → f32 rounding to nearest.
    pub fn to(&self, device: &Device, dtype: DType) -> Result<HipModel> {
        let mut m = HipModel::with_dtype(self.config.clone(), device, dtype)?;
        m.params.assign(&self.params.tensors(), "model conversion")?;
        m.head_untrained = self.head_untrained;
        Ok(m)
    }

    /// The same model (weights, device, dtype) with other per-species reference energies.
    pub fn with_reference_energies(&self, reference_energies: Vec<f64>) -> Result<HipModel> {
        let mut config = self.config.clone();
        config.reference_energies = reference_energies;
        let mut m = HipModel::with_dtype(config, &self.device, self.dtype())?;
        m.params.assign(&self.params.tensors(), "reference-energy shift")?;
        m.head_untrained = self.head_untrained;
        Ok(m)
    }

    /// Whether the Hessian head may be used: false for a checkpoint trained without a Hessian loss
    /// ([`crate::checkpoint::head_never_trained`]: the E+F baseline), whose head is its random
    /// initialization. A model without a record (built in code, or an old file) counts as trained.
    pub fn head_trained(&self) -> bool {
        !self.head_untrained
    }

    /// Marks the head as never trained (set by the checkpoint loader from the training history).
    pub fn mark_head_untrained(&mut self) {
        self.head_untrained = true;
    }

    /// Marks the head as trained (training with a Hessian loss does).
    pub(crate) fn mark_head_trained(&mut self) {
        self.head_untrained = false;
    }

    /// Node features after the backbone `(N, dim_hidden)`.
    pub fn node_features(&self, batch: &Batch, positions: &Tensor) -> Result<Tensor> {
        let n = batch.n_total_atoms();
        let onehot = Tensor::zeros((n, self.config.species.len()), self.dtype(), &self.device)?;
        let ones = Tensor::ones((n, 1), self.dtype(), &self.device)?;
        let onehot = onehot.scatter_add(&batch.species.unsqueeze(1)?, &ones, 1)?;
        let mut x = self.embed.forward(&onehot)?;
        if batch.n_edges == 0 {
            for layer in &self.layers {
                let y = layer.gate.forward(&layer.self_int.forward(&x)?)?;
                x = if layer.residual { (y + x)? } else { y };
            }
            return Ok(x);
        }
        let vec = (positions.index_select(&batch.dst, 0)? - positions.index_select(&batch.src, 0)?)?
            .to_dtype(self.dtype())?;
        let r = vec.sqr()?.sum_keepdim(1)?.sqrt()?;
        let sh = spherical_harmonics(&vec, self.config.lmax)?;
        let radial = bessel_envelope(&r, self.config.cutoff, self.config.num_bessel, self.config.envelope_p)?;
        for layer in &self.layers {
            // Edges in chunks of EDGE_CHUNK: per-edge tensors stay a few MB (cache- and
            // allocator-friendly) however large the system; one chunk for small molecules.
            let mut aggs: Vec<Tensor> = Vec::new();
            for (start, len) in chunks(batch.n_edges) {
                let (src, dst) = (batch.src.narrow(0, start, len)?, batch.dst.narrow(0, start, len)?);
                let w = layer.conv.weights_fused(&radial.narrow(0, start, len)?)?;
                let msgs = layer.conv.forward_fused(&x.index_select(&src, 0)?, &sh.narrow(0, start, len)?, &w)?;
                for (k, msg) in msgs.iter().enumerate() {
                    if k == aggs.len() {
                        aggs.push(Tensor::zeros((n, msg.dim(1)?), self.dtype(), &self.device)?);
                    }
                    aggs[k] = aggs[k].index_add(&dst, msg, 0)?;
                }
            }
            let aggs =
                aggs.iter().map(|a| a / self.config.avg_num_neighbors).collect::<candle_core::Result<Vec<_>>>()?;
            let mut mixed = layer.lin.forward_permuted(&aggs, &layer.rows)?;
            if let Some(p) = &layer.product {
                mixed = p.forward(&mixed, &onehot)?;
            }
            let y = layer.gate.forward(&(mixed + layer.self_int.forward(&x)?)?)?;
            x = if layer.residual { (y + x)? } else { y };
        }
        Ok(x)
    }

    /// Energies (and, with `with_hessian`, direct Hessians) at `positions` `(N, 3)`.
    pub fn forward(&self, batch: &Batch, positions: &Tensor, with_hessian: bool) -> Result<Output> {
        let x = self.node_features(batch, positions)?;
        let energies = self.energies(batch, &x)?;
        let hessians = if with_hessian { Some(self.head.forward(batch, positions, &x)?) } else { None };
        Ok(Output { energies, hessians })
    }

    /// Energies per molecule `(M,)`, f64, from node features.
    fn energies(&self, batch: &Batch, x: &Tensor) -> Result<Tensor> {
        let atomic = (self.readout.forward(x)?.squeeze(1)?.to_dtype(DType::F64)? * self.config.energy_scale)?;
        let atomic = (atomic + self.refs.index_select(&batch.species, 0)?)?;
        let m = batch.n_atoms.len();
        Ok(Tensor::zeros(m, DType::F64, &self.device)?.index_add(&batch.mol_of_atom, &atomic, 0)?)
    }

    /// Flat direct Hessians of the batch from given node features `x (N, dim_hidden)` (e.g. a
    /// frozen backbone's, for head-only training), at the batch's positions.
    pub fn head_hessians(&self, batch: &Batch, x: &Tensor) -> Result<Tensor> {
        self.head.forward(batch, &batch.positions, x)
    }

    /// The direct Hessian as pair and diagonal blocks (no dense buffer), one forward pass.
    pub fn forward_blocks(&self, batch: &Batch, positions: &Tensor) -> Result<HeadBlocks> {
        let x = self.node_features(batch, positions)?;
        self.head.blocks(batch, positions, &x)
    }

    /// Energies, forces `(N, 3)` (kept differentiable when `create_graph`, for force training
    /// and autodiff Hessians) and optionally direct Hessians.
    ///
    /// At inference (no [`crate::params::ParamGrads`] guard) the head runs after the force
    /// backward pass on detached inputs: nothing differentiates the Hessian then, and without a
    /// graph its per-edge intermediates are freed as it goes (kept alive, they made a 50-atom
    /// energy+forces+Hessian call cost about 1.7× the sum of its parts). In training the head
    /// stays on the graph so the Hessian loss reaches the backbone.
    pub fn energy_forces(&self, batch: &Batch, with_hessian: bool) -> Result<(Output, Tensor, Var)> {
        let pos = Var::from_tensor(&batch.positions)?;
        let x = self.node_features(batch, pos.as_tensor())?;
        let energies = self.energies(batch, &x)?;
        let grads = energies.sum_all()?.backward()?;
        let g = grads.get(pos.as_tensor()).cloned().unwrap_or(pos.as_tensor().zeros_like()?);
        let hessians = match (with_hessian, crate::params::param_grads_enabled()) {
            (false, _) => None,
            (true, true) => Some(self.head.forward(batch, pos.as_tensor(), &x)?),
            (true, false) => Some(self.head.forward(batch, &batch.positions, &x.detach())?),
        };
        Ok((Output { energies, hessians }, g.neg()?, pos))
    }
}
