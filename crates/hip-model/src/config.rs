//! [`ModelConfig`]: every architectural choice, serialized (TOML) into each checkpoint.

use serde::{Deserialize, Serialize};

/// The architecture. Defaults are chosen for CPU training in minutes-to-hours on 2 cores:
/// 2 interaction layers of `16x0e+8x1o+8x1e+4x2e` (l ≤ 2 like the HIP head needs: 1o⊗1o gives the
/// 0e/1e/2e parts of a Hessian block), a 5 Å backbone cutoff and a 10 Å Hessian graph (the
/// complete graph for the molecules of the shipped datasets).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Atomic numbers the model knows, in embedding order.
    pub species: Vec<u8>,
    /// Backbone radial cutoff, Å.
    pub cutoff: f64,
    /// Hessian-graph cutoff, Å: atom pairs closer than this get predicted blocks (a large value
    /// gives the complete graph for molecules).
    pub hessian_cutoff: f64,
    /// Bessel radial basis functions.
    pub num_bessel: usize,
    /// Exponent `p` of the polynomial cutoff envelope.
    pub envelope_p: usize,
    /// Highest degree of the edge spherical harmonics.
    pub lmax: usize,
    /// Node feature irreps of each interaction layer (e3nn string; scalars first).
    pub hidden_irreps: String,
    /// Number of interaction layers.
    pub num_layers: usize,
    /// Hidden width of the radial MLPs.
    pub radial_hidden: usize,
    /// Irreps of the Hessian head's edge messages before projection to `0e+1e+2e`.
    pub head_irreps: String,
    /// Normalization of aggregated messages (≈ mean number of neighbours).
    pub avg_num_neighbors: f64,
    /// Predict diagonal blocks from the exact translational sum rule instead of node features.
    pub sum_rule: bool,
    /// With `sum_rule`: add a learned node term to the sum-rule diagonal,
    /// `H_ii = −sym(Σ_{j≠i} H_ij) + N_i + N_iᵀ` (the sum rule then holds only approximately).
    #[serde(default)]
    pub diag_correction: bool,
    /// Bessel functions of the head's radial basis (0: `num_bessel`). The head's basis spans the
    /// Hessian cutoff, so it needs more functions than the backbone's to resolve bond lengths.
    #[serde(default)]
    pub head_num_bessel: usize,
    /// Couple the two atoms of a pair: an elementwise (`uuu`) tensor product `h_s ⊗ h_t` with
    /// radial weights joins the two `h ⊗ Y` messages (without it, a message is a sum of a term
    /// in `h_s` and a term in `h_t`).
    #[serde(default)]
    pub head_pair_tp: bool,
    /// Feed the scalar (`0e`) head features of both atoms into the head's radial MLPs with the
    /// radial basis: radial weights specific to the pair (its elements and environments).
    #[serde(default)]
    pub head_radial_scalars: bool,
    /// Multiply head blocks by the smooth cutoff envelope of the Hessian cutoff, so that blocks
    /// vanish continuously at the cutoff.
    #[serde(default)]
    pub head_envelope: bool,
    /// Extra message-passing layers of the head on the Hessian graph (the paper's 1–3), run on
    /// the head features before the blocks are read off; messages are averaged over each atom's
    /// Hessian-graph neighbours.
    #[serde(default)]
    pub head_layers: usize,
    /// Hidden width of the head's radial MLPs (0: `radial_hidden`). With `head_radial_scalars`
    /// these MLPs map the pair's distance basis and both atoms' scalars to the weights of its
    /// block, so their width bounds how finely a pair block can depend on the pair's environment.
    #[serde(default)]
    pub head_radial_hidden: usize,
    /// A physics-shaped part of every pair block (issue 34, hypothesis 2): the exact second
    /// derivative of a Morse pair energy `φ(r) = D (1 − e^{−a(r−r₀)})²` whose `D, a, r₀` an MLP
    /// reads from both atoms' scalar head features (symmetric in the two atoms), added to the
    /// equivariant `l ≤ 2` block, which becomes its correction. Its curvature along the bond,
    /// `φ''`, turns negative past the inflection point `r₀ + ln 2 / a` by construction, as a
    /// breaking bond's does. Needs `0e` channels in `head_irreps`. Still direct: no derivative
    /// of the network is taken ([`crate::hessian_head::morse_blocks`]).
    #[serde(default)]
    pub head_pair_potential: bool,
    /// A MACE-style product in each interaction layer: the elementwise (`uuu`) tensor product of
    /// each atom's mixed messages with themselves, with element-dependent weights (an MLP of width
    /// `radial_hidden` on the element's one-hot), added to the messages (three-body features per
    /// layer instead of two-body ones).
    #[serde(default)]
    pub node_product: bool,
    /// Scale of the head's output blocks, eV/Å² (fitted: RMS of the reference Hessian entries
    /// of the training set); 1 in models from before it existed.
    #[serde(default = "one")]
    pub hessian_scale: f64,
    /// Per-species reference energies, eV (fitted on the training set).
    pub reference_energies: Vec<f64>,
    /// Scale of the atomic energy readout, eV.
    pub energy_scale: f64,
    /// Seed of the weight initialization.
    pub seed: u64,
}

/// Largest irrep degree a config may use (the HIP head needs l ≤ 2).
pub const MAX_L: usize = 6;
/// Largest node feature dimension a config may use (the shipped models use 128).
pub const MAX_FEATURE_DIM: usize = 4096;

impl Default for ModelConfig {
    fn default() -> Self {
        ModelConfig {
            species: vec![1, 6, 7, 8],
            cutoff: 5.0,
            hessian_cutoff: 10.0,
            num_bessel: 8,
            envelope_p: 6,
            lmax: 2,
            hidden_irreps: "16x0e+8x1o+8x1e+4x2e".into(),
            num_layers: 2,
            radial_hidden: 16,
            head_irreps: "8x0e+8x1e+8x2e".into(),
            avg_num_neighbors: 8.0,
            sum_rule: false,
            diag_correction: false,
            head_num_bessel: 0,
            head_pair_tp: false,
            head_radial_scalars: false,
            head_envelope: false,
            head_layers: 0,
            head_radial_hidden: 0,
            head_pair_potential: false,
            node_product: false,
            hessian_scale: 1.0,
            reference_energies: vec![0.0; 4],
            energy_scale: 1.0,
            seed: 0,
        }
    }
}

fn one() -> f64 {
    1.0
}

impl ModelConfig {
    /// TOML text.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).expect("config serializes")
    }

    /// From TOML text; unknown keys are errors, and so is any value [`Self::validate`] refuses,
    /// except that the fitted scales (`avg_num_neighbors`, `energy_scale`, `hessian_scale`) may be
    /// 0: a config for `hip train --model-config` holds placeholders that training fits, and
    /// [`crate::HipModel::new`] checks the fitted values.
    pub fn from_toml(text: &str) -> Result<Self, String> {
        let c: ModelConfig = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut probe = c.clone();
        for v in [&mut probe.avg_num_neighbors, &mut probe.energy_scale, &mut probe.hessian_scale] {
            if *v == 0.0 {
                *v = 1.0;
            }
        }
        probe.validate()?;
        Ok(c)
    }

    /// Checks every field against the range a molecular model can use, so that a malformed or
    /// hostile config (in a TOML file or a checkpoint) is an error before anything is allocated:
    /// element numbers, finite positive lengths and scales, and sizes bounded well above any
    /// useful model (features ≤ [`MAX_FEATURE_DIM`] per node, l ≤ [`MAX_L`], ≤ 16 layers).
    pub fn validate(&self) -> Result<(), String> {
        let bad = |m: String| Err(m);
        if self.species.is_empty() || self.species.len() > 118 {
            return bad(format!("species: {} entries (need 1..=118)", self.species.len()));
        }
        for (k, &z) in self.species.iter().enumerate() {
            if !(1..=118).contains(&z) {
                return bad(format!("species[{k}] = {z} is not an element (1..=118)"));
            }
            if self.species[..k].contains(&z) {
                return bad(format!("species: {z} appears twice"));
            }
        }
        if self.reference_energies.len() != self.species.len() {
            return bad(format!(
                "reference_energies: {} values for {} species",
                self.reference_energies.len(),
                self.species.len()
            ));
        }
        let positive = [
            ("cutoff", self.cutoff, 50.0),
            ("hessian_cutoff", self.hessian_cutoff, 1000.0),
            ("avg_num_neighbors", self.avg_num_neighbors, 1e6),
            ("hessian_scale", self.hessian_scale, 1e6),
            ("energy_scale", self.energy_scale, 1e6),
        ];
        for (name, v, max) in positive {
            if !(v.is_finite() && v > 0.0 && v <= max) {
                return bad(format!("{name} = {v} (need a finite value in (0, {max}])"));
            }
        }
        if let Some(k) = self.reference_energies.iter().position(|e| !e.is_finite()) {
            return bad(format!("reference_energies[{k}] is not finite"));
        }
        let sizes = [
            ("num_bessel", self.num_bessel, 1, 64),
            ("head_num_bessel", self.head_num_bessel, 0, 64),
            ("envelope_p", self.envelope_p, 1, 32),
            ("lmax", self.lmax, 0, MAX_L),
            ("num_layers", self.num_layers, 0, 16),
            ("radial_hidden", self.radial_hidden, 1, 1024),
            ("head_layers", self.head_layers, 0, 8),
            ("head_radial_hidden", self.head_radial_hidden, 0, 1024),
        ];
        for (name, v, lo, hi) in sizes {
            if !(lo..=hi).contains(&v) {
                return bad(format!("{name} = {v} (need {lo}..={hi})"));
            }
        }
        for (name, s) in [("hidden_irreps", &self.hidden_irreps), ("head_irreps", &self.head_irreps)] {
            let irreps: irreps::Irreps = s.parse().map_err(|e| format!("{name}: {e}"))?;
            let mut dim = 0usize;
            for m in irreps.iter() {
                if m.ir.l > MAX_L {
                    return bad(format!("{name}: l = {} (need l <= {MAX_L})", m.ir.l));
                }
                dim = m.mul.checked_mul(2 * m.ir.l + 1).and_then(|d| d.checked_add(dim)).unwrap_or(usize::MAX);
            }
            if dim > MAX_FEATURE_DIM {
                return bad(format!("{name}: {dim} features per node (need <= {MAX_FEATURE_DIM})"));
            }
        }
        Ok(())
    }

    /// Bessel functions of the head's radial basis.
    pub fn head_bessel(&self) -> usize {
        if self.head_num_bessel == 0 { self.num_bessel } else { self.head_num_bessel }
    }

    /// Hidden width of the head's radial MLPs.
    pub fn head_hidden(&self) -> usize {
        if self.head_radial_hidden == 0 { self.radial_hidden } else { self.head_radial_hidden }
    }

    /// Index of atomic number `z` in `species`.
    pub fn species_index(&self, z: u8) -> Option<usize> {
        self.species.iter().position(|&s| s == z)
    }
}
