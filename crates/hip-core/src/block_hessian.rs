//! [`BlockHessian`]: a symmetric Hessian stored as 3×3 blocks, one per atom and one per atom
//! pair `i < j` that is stored at all (e.g. pairs closer than a cutoff). Memory and
//! matrix–vector products are O(atoms + pairs) instead of O(N²), which is what large systems
//! with a cutoff Hessian graph need. Units eV/Å²; `H[3i + a, 3j + b]` = `block(i, j)[3a + b]`.

use crate::{Error, Hessian, Result};

/// A symmetric block-sparse Hessian. Blocks of pairs not stored are zero.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockHessian {
    n_atoms: usize,
    diag: Vec<[f64; 9]>,
    pairs: Vec<(usize, usize)>,
    blocks: Vec<[f64; 9]>,
}

impl BlockHessian {
    /// From the diagonal blocks (one per atom, each must be symmetric), the stored pairs
    /// (`i < j < n_atoms`, strictly increasing) and their blocks `H_ij` (so `H_ji = H_ijᵀ`).
    /// Fails on wrong lengths, unsorted or out-of-range pairs, asymmetric diagonal blocks or
    /// non-finite values.
    ///
    /// ```
    /// use hip_core::BlockHessian;
    /// let eye = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
    /// let h = BlockHessian::new(2, vec![eye, eye], vec![(0, 1)], vec![[0.5; 9]]).unwrap();
    /// assert_eq!(h.to_dense().get(3, 0), 0.5);
    /// assert!(BlockHessian::new(2, vec![eye, eye], vec![(1, 0)], vec![[0.5; 9]]).is_err());
    /// ```
    pub fn new(n_atoms: usize, diag: Vec<[f64; 9]>, pairs: Vec<(usize, usize)>, blocks: Vec<[f64; 9]>) -> Result<Self> {
        let bad = |m: String| Err(Error::invalid("block hessian", m));
        if diag.len() != n_atoms {
            return bad(format!("{} diagonal blocks for {n_atoms} atoms", diag.len()));
        }
        if pairs.len() != blocks.len() {
            return bad(format!("{} pairs but {} blocks", pairs.len(), blocks.len()));
        }
        for (k, &(i, j)) in pairs.iter().enumerate() {
            if i >= j || j >= n_atoms {
                return bad(format!("pair {k} = ({i}, {j}) is not i < j < {n_atoms}"));
            }
            if k > 0 && pairs[k - 1] >= (i, j) {
                return bad(format!("pairs are not strictly increasing at {k}"));
            }
        }
        for (i, d) in diag.iter().enumerate() {
            if d.iter().any(|x| !x.is_finite()) {
                return bad(format!("diagonal block of atom {i} is not finite"));
            }
            if (0..3).any(|a| (0..3).any(|b| d[3 * a + b] != d[3 * b + a])) {
                return bad(format!("diagonal block of atom {i} is not symmetric"));
            }
        }
        if let Some(k) = blocks.iter().position(|b| b.iter().any(|x| !x.is_finite())) {
            return bad(format!("block of pair {:?} is not finite", pairs[k]));
        }
        Ok(BlockHessian { n_atoms, diag, pairs, blocks })
    }

    /// Number of atoms.
    pub fn n_atoms(&self) -> usize {
        self.n_atoms
    }

    /// Diagonal blocks `H_ii`.
    pub fn diag(&self) -> &[[f64; 9]] {
        &self.diag
    }

    /// Stored pairs `(i, j)`, `i < j`, increasing.
    pub fn pairs(&self) -> &[(usize, usize)] {
        &self.pairs
    }

    /// Blocks `H_ij` of the stored pairs.
    pub fn blocks(&self) -> &[[f64; 9]] {
        &self.blocks
    }

    /// Block `(i, j)`, row-major; zero for a pair that is not stored.
    pub fn block(&self, i: usize, j: usize) -> [f64; 9] {
        if i == j {
            return self.diag[i];
        }
        let (p, q) = if i < j { (i, j) } else { (j, i) };
        match self.pairs.binary_search(&(p, q)) {
            Ok(k) if i < j => self.blocks[k],
            Ok(k) => transpose(&self.blocks[k]),
            Err(_) => [0.0; 9],
        }
    }

    /// Bytes held by the blocks and the pair list.
    pub fn bytes(&self) -> usize {
        (self.diag.len() + self.blocks.len()) * std::mem::size_of::<[f64; 9]>()
            + self.pairs.len() * std::mem::size_of::<(usize, usize)>()
    }

    /// `H v` for a flat `v` of length `3N`.
    pub fn matvec(&self, v: &[f64]) -> Result<Vec<f64>> {
        if v.len() != 3 * self.n_atoms {
            return Err(Error::invalid(
                "block hessian",
                format!("vector of length {} for {} atoms", v.len(), self.n_atoms),
            ));
        }
        let mut out = vec![0.0; v.len()];
        let mul = |out: &mut [f64], b: &[f64; 9], r: usize, c: usize, t: bool| {
            for a in 0..3 {
                for k in 0..3 {
                    let x = if t { b[3 * k + a] } else { b[3 * a + k] };
                    out[3 * r + a] += x * v[3 * c + k];
                }
            }
        };
        for (i, d) in self.diag.iter().enumerate() {
            mul(&mut out, d, i, i, false);
        }
        for (&(i, j), b) in self.pairs.iter().zip(&self.blocks) {
            mul(&mut out, b, i, j, false);
            mul(&mut out, b, j, i, true);
        }
        Ok(out)
    }

    /// The dense `3N × 3N` matrix (exactly symmetric).
    pub fn to_dense(&self) -> Hessian {
        let mut h = Hessian::zeros(self.n_atoms);
        let n = 3 * self.n_atoms;
        let data = h.as_mut_slice();
        let mut put = |i: usize, j: usize, b: &[f64; 9]| {
            for a in 0..3 {
                for c in 0..3 {
                    data[(3 * i + a) * n + 3 * j + c] = b[3 * a + c];
                }
            }
        };
        for (i, d) in self.diag.iter().enumerate() {
            put(i, i, d);
        }
        for (&(i, j), b) in self.pairs.iter().zip(&self.blocks) {
            put(i, j, b);
            put(j, i, &transpose(b));
        }
        h
    }
}

fn transpose(b: &[f64; 9]) -> [f64; 9] {
    std::array::from_fn(|k| b[3 * (k % 3) + k / 3])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> BlockHessian {
        let d = |s: f64| [s, 0.1, 0.2, 0.1, s, 0.3, 0.2, 0.3, s];
        let b = |s: f64| std::array::from_fn(|k| s + k as f64);
        BlockHessian::new(
            4,
            vec![d(1.0), d(2.0), d(3.0), d(4.0)],
            vec![(0, 2), (1, 3), (2, 3)],
            vec![b(0.5), b(-1.0), b(2.0)],
        )
        .unwrap()
    }

    #[test]
    fn dense_form_is_symmetric_and_matches_blocks() {
        let h = example();
        let dense = h.to_dense();
        assert_eq!(dense.max_asymmetry(), 0.0);
        for i in 0..4 {
            for j in 0..4 {
                assert_eq!(dense.block(i, j), h.block(i, j), "block ({i}, {j})");
            }
        }
        assert_eq!(h.block(0, 1), [0.0; 9]);
    }

    #[test]
    fn matvec_matches_the_dense_product() {
        // exact up to summation order: 1e-12 on O(1-10) values
        let h = example();
        let v: Vec<f64> = (0..12).map(|k| (k as f64 * 0.7).sin()).collect();
        let got = h.matvec(&v).unwrap();
        let d = h.to_dense();
        for r in 0..12 {
            let want: f64 = (0..12).map(|c| d.get(r, c) * v[c]).sum();
            assert!((got[r] - want).abs() < 1e-12, "row {r}");
        }
        assert!(h.matvec(&v[..11]).is_err());
    }

    #[test]
    fn rejects_malformed_input() {
        let eye = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
        let mut skew = eye;
        skew[1] = 0.5;
        let mut nan = [0.0; 9];
        nan[4] = f64::NAN;
        let cases = [
            BlockHessian::new(2, vec![eye], vec![], vec![]),
            BlockHessian::new(2, vec![eye, eye], vec![(0, 1)], vec![]),
            BlockHessian::new(2, vec![eye, eye], vec![(0, 2)], vec![eye]),
            BlockHessian::new(3, vec![eye; 3], vec![(1, 2), (0, 1)], vec![eye, eye]),
            BlockHessian::new(2, vec![eye, skew], vec![], vec![]),
            BlockHessian::new(2, vec![eye, eye], vec![(0, 1)], vec![nan]),
        ];
        for (k, c) in cases.into_iter().enumerate() {
            let e = c.unwrap_err().to_string();
            assert!(e.contains("block hessian"), "case {k}: {e}");
        }
    }
}
