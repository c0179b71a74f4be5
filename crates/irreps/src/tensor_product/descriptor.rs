//! [`TensorProduct`]: a tensor product as inspectable data (irreps, paths, normalization factors,
//! weight layout). Evaluation lives in [`super::reference`] (ground truth) and, for speed, in the
//! model crate's kernels; both read this descriptor.

use std::fmt;

use super::instruction::{ConnectionMode, Instruction, InstructionSpec, IrrepNormalization, PathNormalization};
use crate::{Error, Irreps, MulIr};

/// A tensor product `irreps_in1 ⊗ irreps_in2 → irreps_out` described by its paths.
///
/// ```
/// use irreps::TensorProduct;
/// let tp = TensorProduct::fully_connected(
///     &"2x0e+1x1o".parse().unwrap(), &"1x0e+1x1o".parse().unwrap(), &"1x0e+1x1o".parse().unwrap(),
/// ).unwrap();
/// // paths: 0e⊗0e→0e, 0e⊗1o→1o, 1o⊗0e→1o, 1o⊗1o→0e
/// assert_eq!(tp.instructions().len(), 4);
/// assert_eq!(tp.weight_numel(), 2 + 2 + 1 + 1);
/// println!("{tp}"); // one line per path
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct TensorProduct {
    irreps_in1: Irreps,
    irreps_in2: Irreps,
    irreps_out: Irreps,
    instructions: Vec<Instruction>,
    weight_offsets: Vec<usize>,
    weight_numel: usize,
    irrep_normalization: IrrepNormalization,
    path_normalization: PathNormalization,
}

impl TensorProduct {
    /// Builds a tensor product from explicit paths, computing e3nn's normalization factors:
    /// `path_weight = √(α / x)` with `α` from the irrep normalization and `x` from the path
    /// normalization (input and output variances 1).
    pub fn new(
        irreps_in1: &Irreps,
        irreps_in2: &Irreps,
        irreps_out: &Irreps,
        specs: &[InstructionSpec],
        irrep_normalization: IrrepNormalization,
        path_normalization: PathNormalization,
    ) -> Result<Self, Error> {
        let get = |irreps: &Irreps, i: usize, name: &str| -> Result<MulIr, Error> {
            irreps.0.get(i).copied().ok_or_else(|| {
                Error::Invalid(format!(
                    "instruction refers to {name}[{i}] but {name} = \"{irreps}\" has {} entries",
                    irreps.len()
                ))
            })
        };
        for s in specs {
            let (a, b, o) = (
                get(irreps_in1, s.i_in1, "irreps_in1")?,
                get(irreps_in2, s.i_in2, "irreps_in2")?,
                get(irreps_out, s.i_out, "irreps_out")?,
            );
            if a.ir.p * b.ir.p != o.ir.p || !crate::wigner::triangle(a.ir.l, b.ir.l, o.ir.l) {
                return Err(Error::Invalid(format!(
                    "path {} ⊗ {} → {} is not allowed by selection rules",
                    a.ir, b.ir, o.ir
                )));
            }
            if matches!(s.mode, ConnectionMode::Uuw | ConnectionMode::Uuu) && a.mul != b.mul {
                return Err(Error::Invalid(format!(
                    "mode {} needs equal input multiplicities, got {} and {}",
                    s.mode, a.mul, b.mul
                )));
            }
            if let Some(m) = s.mode.required_mul_out(a.mul, b.mul) {
                if m != o.mul {
                    return Err(Error::Invalid(format!(
                        "mode {} needs output multiplicity {m}, irreps_out[{}] has {}",
                        s.mode, s.i_out, o.mul
                    )));
                }
            }
        }
        let num_elements =
            |s: &InstructionSpec| s.mode.num_elements(irreps_in1[s.i_in1].mul, irreps_in2[s.i_in2].mul) as f64;
        let mut instructions = Vec::with_capacity(specs.len());
        for s in specs {
            let (a, b, o) = (irreps_in1[s.i_in1], irreps_in2[s.i_in2], irreps_out[s.i_out]);
            let mut alpha = match irrep_normalization {
                IrrepNormalization::Component => o.ir.dim() as f64,
                IrrepNormalization::Norm => (a.ir.dim() * b.ir.dim()) as f64,
                IrrepNormalization::None => 1.0,
            };
            let same_out = specs.iter().filter(|t| t.i_out == s.i_out);
            let x = match path_normalization {
                PathNormalization::Element => same_out.map(num_elements).sum(),
                PathNormalization::Path => num_elements(s) * same_out.count() as f64,
                PathNormalization::None => 1.0,
            };
            if x > 0.0 {
                alpha /= x;
            }
            alpha *= s.path_weight;
            instructions.push(Instruction {
                i_in1: s.i_in1,
                i_in2: s.i_in2,
                i_out: s.i_out,
                mode: s.mode,
                has_weight: s.has_weight,
                path_weight: alpha.sqrt(),
                path_shape: s.mode.path_shape(a.mul, b.mul, o.mul),
            });
        }
        let mut weight_offsets = Vec::with_capacity(instructions.len());
        let mut weight_numel = 0;
        for ins in &instructions {
            weight_offsets.push(weight_numel);
            weight_numel += ins.weight_numel();
        }
        Ok(TensorProduct {
            irreps_in1: irreps_in1.clone(),
            irreps_in2: irreps_in2.clone(),
            irreps_out: irreps_out.clone(),
            instructions,
            weight_offsets,
            weight_numel,
            irrep_normalization,
            path_normalization,
        })
    }

    /// e3nn's `FullyConnectedTensorProduct`: a weighted `uvw` path for every
    /// `(i1, i2, i_out)` allowed by the selection rules, in that loop order. Default normalizations.
    pub fn fully_connected(irreps_in1: &Irreps, irreps_in2: &Irreps, irreps_out: &Irreps) -> Result<Self, Error> {
        Self::fully_connected_with(
            irreps_in1,
            irreps_in2,
            irreps_out,
            IrrepNormalization::default(),
            PathNormalization::default(),
        )
    }

    /// [`TensorProduct::fully_connected`] with explicit normalizations.
    pub fn fully_connected_with(
        irreps_in1: &Irreps,
        irreps_in2: &Irreps,
        irreps_out: &Irreps,
        irrep_normalization: IrrepNormalization,
        path_normalization: PathNormalization,
    ) -> Result<Self, Error> {
        let mut specs = Vec::new();
        for (i1, a) in irreps_in1.iter().enumerate() {
            for (i2, b) in irreps_in2.iter().enumerate() {
                for (io, o) in irreps_out.iter().enumerate() {
                    if a.ir.tensor(&b.ir).any(|ir| ir == o.ir) {
                        specs.push(InstructionSpec::new(i1, i2, io, ConnectionMode::Uvw, true));
                    }
                }
            }
        }
        Self::new(irreps_in1, irreps_in2, irreps_out, &specs, irrep_normalization, path_normalization)
    }

    /// e3nn's `ElementwiseTensorProduct`: inputs simplified, multiplicities split so they pair up
    /// one to one, then an unweighted `uuu` path for every irrep in each pair's product.
    pub fn elementwise(irreps_in1: &Irreps, irreps_in2: &Irreps) -> Result<Self, Error> {
        let mut a = irreps_in1.simplify().0;
        let mut b = irreps_in2.simplify().0;
        if irreps_in1.num_irreps() != irreps_in2.num_irreps() {
            return Err(Error::Invalid(format!(
                "elementwise tensor product needs the same number of irreps, got {} (\"{irreps_in1}\") and {} (\"{irreps_in2}\")",
                irreps_in1.num_irreps(),
                irreps_in2.num_irreps()
            )));
        }
        let mut i = 0;
        while i < a.len() {
            let (m1, m2) = (a[i].mul, b[i].mul);
            if m1 < m2 {
                b[i].mul = m1;
                b.insert(i + 1, MulIr { mul: m2 - m1, ir: b[i].ir });
            }
            if m2 < m1 {
                a[i].mul = m2;
                a.insert(i + 1, MulIr { mul: m1 - m2, ir: a[i].ir });
            }
            i += 1;
        }
        let mut out = Vec::new();
        let mut specs = Vec::new();
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            for ir in x.ir.tensor(&y.ir) {
                specs.push(InstructionSpec::new(i, i, out.len(), ConnectionMode::Uuu, false));
                out.push(MulIr { mul: x.mul, ir });
            }
        }
        Self::new(
            &Irreps(a),
            &Irreps(b),
            &Irreps(out),
            &specs,
            IrrepNormalization::default(),
            PathNormalization::default(),
        )
    }

    /// e3nn's `FullTensorProduct`: inputs simplified, an unweighted `uvuv` path for every pair and
    /// every irrep in its product; the output irreps are sorted (so `i_out` is permuted).
    pub fn full(irreps_in1: &Irreps, irreps_in2: &Irreps) -> Result<Self, Error> {
        let a = irreps_in1.simplify();
        let b = irreps_in2.simplify();
        let mut out = Vec::new();
        let mut specs = Vec::new();
        for (i1, x) in a.iter().enumerate() {
            for (i2, y) in b.iter().enumerate() {
                for ir in x.ir.tensor(&y.ir) {
                    specs.push(InstructionSpec::new(i1, i2, out.len(), ConnectionMode::Uvuv, false));
                    out.push(MulIr { mul: x.mul * y.mul, ir });
                }
            }
        }
        let sorted = Irreps(out).sort();
        for s in &mut specs {
            s.i_out = sorted.p[s.i_out];
        }
        Self::new(&a, &b, &sorted.irreps, &specs, IrrepNormalization::default(), PathNormalization::default())
    }

    /// First input irreps.
    pub fn irreps_in1(&self) -> &Irreps {
        &self.irreps_in1
    }
    /// Second input irreps.
    pub fn irreps_in2(&self) -> &Irreps {
        &self.irreps_in2
    }
    /// Output irreps.
    pub fn irreps_out(&self) -> &Irreps {
        &self.irreps_out
    }
    /// The resolved paths, in order.
    pub fn instructions(&self) -> &[Instruction] {
        &self.instructions
    }
    /// Total number of weights (the concatenation of each weighted path's `path_shape`).
    pub fn weight_numel(&self) -> usize {
        self.weight_numel
    }
    /// Offset of each path's weights in the flat weight vector.
    pub fn weight_offsets(&self) -> &[usize] {
        &self.weight_offsets
    }
    /// Irrep normalization used.
    pub fn irrep_normalization(&self) -> IrrepNormalization {
        self.irrep_normalization
    }
    /// Path normalization used.
    pub fn path_normalization(&self) -> PathNormalization {
        self.path_normalization
    }
}

impl fmt::Display for TensorProduct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "TensorProduct {} x {} -> {} | {} weights",
            self.irreps_in1, self.irreps_in2, self.irreps_out, self.weight_numel
        )?;
        for (k, ins) in self.instructions.iter().enumerate() {
            writeln!(
                f,
                "  path {k}: {} x {} -> {} ({}{}) path_weight {:.6} shape {:?}",
                self.irreps_in1[ins.i_in1],
                self.irreps_in2[ins.i_in2],
                self.irreps_out[ins.i_out],
                ins.mode,
                if ins.has_weight { ", weighted" } else { "" },
                ins.path_weight,
                ins.path_shape
            )?;
        }
        Ok(())
    }
}
