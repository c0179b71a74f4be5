//! [`Molecule`]: atomic numbers and positions (Å), with charge and spin multiplicity.

use crate::elements::{self, MassConvention};
use crate::{Error, Result};

/// A molecule. Positions are in Å, one `[x, y, z]` per atom.
#[derive(Clone, Debug, PartialEq)]
pub struct Molecule {
    /// Atomic numbers, one per atom.
    pub numbers: Vec<u8>,
    /// Cartesian positions in Å.
    pub positions: Vec<[f64; 3]>,
    /// Total charge (default 0).
    pub charge: i32,
    /// Spin multiplicity 2S+1 (default 1).
    pub multiplicity: u32,
}

/// Largest accepted |coordinate|, Å: a million Å (0.1 mm) is no molecule, and beyond it the
/// differences of positions lose the precision a Hessian needs.
pub const MAX_COORDINATE: f64 = 1e6;

impl Molecule {
    /// A neutral singlet, validated (non-empty, known elements, finite coordinates, equal lengths).
    ///
    /// ```
    /// use hip_core::Molecule;
    /// let water = Molecule::new(vec![8, 1, 1], vec![[0.0, 0.0, 0.0], [0.96, 0.0, 0.0], [-0.24, 0.93, 0.0]]).unwrap();
    /// assert_eq!(water.len(), 3);
    /// assert!(Molecule::new(vec![], vec![]).is_err());
    /// ```
    pub fn new(numbers: Vec<u8>, positions: Vec<[f64; 3]>) -> Result<Self> {
        let m = Molecule { numbers, positions, charge: 0, multiplicity: 1 };
        m.validate()?;
        Ok(m)
    }

    /// Checks the invariants; the error says what is wrong.
    pub fn validate(&self) -> Result<()> {
        if self.numbers.is_empty() {
            return Err(Error::invalid("molecule", "it has no atoms"));
        }
        if self.numbers.len() != self.positions.len() {
            return Err(Error::invalid(
                "molecule",
                format!("{} atomic numbers but {} positions", self.numbers.len(), self.positions.len()),
            ));
        }
        for (i, &z) in self.numbers.iter().enumerate() {
            elements::symbol(z).map_err(|e| e.in_context(&format!("atom {i}")))?;
        }
        for (i, p) in self.positions.iter().enumerate() {
            if p.iter().any(|x| !x.is_finite()) {
                return Err(Error::invalid("molecule", format!("atom {i} has a non-finite coordinate {p:?}")));
            }
            if p.iter().any(|x| x.abs() > MAX_COORDINATE) {
                return Err(Error::invalid(
                    "molecule",
                    format!("atom {i} has a coordinate beyond ±{MAX_COORDINATE:e} Å ({p:?}): not a molecular geometry"),
                ));
            }
        }
        if self.multiplicity == 0 {
            return Err(Error::invalid("molecule", "multiplicity must be >= 1"));
        }
        Ok(())
    }

    /// Number of atoms.
    pub fn len(&self) -> usize {
        self.numbers.len()
    }

    /// `true` when there are no atoms (never for a validated molecule).
    pub fn is_empty(&self) -> bool {
        self.numbers.is_empty()
    }

    /// Masses in amu under `convention`.
    pub fn masses(&self, convention: MassConvention) -> Result<Vec<f64>> {
        elements::masses(&self.numbers, convention)
    }

    /// Positions flattened to `3N` values (atom-major).
    pub fn flat_positions(&self) -> Vec<f64> {
        self.positions.iter().flatten().copied().collect()
    }

    /// The same molecule with new flat positions (`3N` values).
    pub fn with_flat_positions(&self, x: &[f64]) -> Molecule {
        assert_eq!(x.len(), 3 * self.len(), "flat positions must have 3N values");
        Molecule { positions: x.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect(), ..self.clone() }
    }

    /// The chemical formula in Hill order (C, H, then alphabetical), e.g. `CH4O`.
    pub fn formula(&self) -> String {
        let mut counts = std::collections::BTreeMap::new();
        for &z in &self.numbers {
            *counts.entry(elements::symbol(z).unwrap_or("X")).or_insert(0usize) += 1;
        }
        let mut out = String::new();
        let mut push = |sym: &str, n: usize| {
            out.push_str(sym);
            if n > 1 {
                out.push_str(&n.to_string());
            }
        };
        let has_c = counts.contains_key("C");
        if has_c {
            push("C", counts.remove("C").unwrap_or(0));
            if let Some(n) = counts.remove("H") {
                push("H", n);
            }
        }
        for (s, n) in counts {
            push(s, n);
        }
        out
    }
}
