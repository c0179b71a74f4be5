//! [`Irrep`] (one irreducible representation of O(3)) and [`Irreps`] (a direct sum of them).
//!
//! Semantics follow `e3nn.o3.Irrep` / `e3nn.o3.Irreps` (e3nn 0.6) exactly, including the quirks
//! users rely on: `sort` orders parity −1 before +1 (`0o` before `0e`), `simplify` merges across
//! dropped `0x` entries, and `Irreps * n` repeats the list.

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use crate::Error;

/// An irreducible representation of O(3): degree `l` and parity `p` (+1 even, −1 odd).
///
/// The derived order is e3nn's sort key `(l, p)`, so `0o < 0e < 1o < 1e`.
///
/// ```
/// use irreps::Irrep;
/// let ir: Irrep = "1o".parse().unwrap();
/// assert_eq!((ir.l, ir.p, ir.dim()), (1, -1, 3));
/// assert_eq!("2y".parse::<Irrep>().unwrap().to_string(), "2e"); // y = (-1)^l
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Irrep {
    /// Degree, `l >= 0`.
    pub l: usize,
    /// Parity, `+1` (`e`) or `-1` (`o`).
    pub p: i8,
}

impl Irrep {
    /// A new irrep. Panics if `p` is not ±1 (a programming error, not an input error).
    pub const fn new(l: usize, p: i8) -> Self {
        assert!(p == 1 || p == -1, "parity must be +1 or -1");
        Irrep { l, p }
    }

    /// Dimension `2l + 1`.
    pub const fn dim(&self) -> usize {
        2 * self.l + 1
    }

    /// `true` for `0e`.
    pub const fn is_scalar(&self) -> bool {
        self.l == 0 && self.p == 1
    }

    /// The parity of a spherical harmonic of degree `l`, `(-1)^l`.
    pub const fn sh_parity(l: usize) -> i8 {
        if l % 2 == 0 { 1 } else { -1 }
    }

    /// The irreps in `self ⊗ other`: `l = |l1-l2| ..= l1+l2`, parity `p1 p2`, in e3nn's order.
    pub fn tensor(&self, other: &Irrep) -> impl Iterator<Item = Irrep> + use<> {
        let p = self.p * other.p;
        let lo = self.l.abs_diff(other.l);
        (lo..=self.l + other.l).map(move |l| Irrep::new(l, p))
    }

    /// e3nn's `Irrep.iterator()`: `0e, 0o, 1o, 1e, 2e, 2o, ...` (natural parity first).
    pub fn iter_all() -> impl Iterator<Item = Irrep> {
        (0..).flat_map(|l| {
            let p = Irrep::sh_parity(l);
            [Irrep::new(l, p), Irrep::new(l, -p)]
        })
    }

    /// The Wigner D matrix of this irrep, `p^k D^l(α, β, γ)` with `k = 1` for an improper rotation.
    /// Shape `(2l+1, 2l+1)`, row-major.
    pub fn d_from_angles(&self, alpha: f64, beta: f64, gamma: f64, improper: bool) -> Vec<f64> {
        let mut d = crate::wigner::wigner_d(self.l, alpha, beta, gamma);
        if improper && self.p == -1 {
            d.iter_mut().for_each(|x| *x = -*x);
        }
        d
    }
}

impl fmt::Display for Irrep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.l, if self.p == 1 { 'e' } else { 'o' })
    }
}

/// Parses an integer the way Python's `int(str)` does for ASCII text: surrounding whitespace,
/// an optional sign, digits with single underscores between them.
/// Largest degree `l` the parsers accept (far beyond any use; it keeps `2l + 1` and the
/// dimension arithmetic of parsed irreps free of overflow).
pub const MAX_PARSED_L: usize = 10_000;
/// Largest multiplicity the parser accepts.
pub const MAX_PARSED_MUL: usize = 1_000_000_000;
/// Largest total dimension `Σ mul (2l + 1)` of a parsed `Irreps`.
pub const MAX_PARSED_DIM: usize = 1 << 40;

fn python_int(s: &str) -> Option<i64> {
    let s = s.trim();
    let (neg, digits) = match s.as_bytes().first()? {
        b'+' => (false, &s[1..]),
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    let bytes = digits.as_bytes();
    if bytes.is_empty() || !bytes[0].is_ascii_digit() || !bytes[bytes.len() - 1].is_ascii_digit() {
        return None;
    }
    let mut value: i64 = 0;
    let mut prev_underscore = false;
    for &b in bytes {
        if b == b'_' {
            if prev_underscore {
                return None;
            }
            prev_underscore = true;
            continue;
        }
        if !b.is_ascii_digit() {
            return None;
        }
        prev_underscore = false;
        value = value.checked_mul(10)?.checked_add(i64::from(b - b'0'))?;
    }
    Some(if neg { -value } else { value })
}

impl FromStr for Irrep {
    type Err = Error;

    /// `"<l><p>"` with p one of `e`, `o`, `y` (`y` means `(-1)^l`), surrounding whitespace allowed.
    fn from_str(s: &str) -> Result<Self, Error> {
        let name = s.trim();
        let bad = |why: &str| Error::Parse {
            input: s.to_string(),
            reason: format!("unable to convert \"{name}\" into an Irrep: {why}"),
        };
        let last = name.chars().last().ok_or_else(|| bad("empty"))?;
        let l = python_int(&name[..name.len() - last.len_utf8()]).ok_or_else(|| bad("l is not an integer"))?;
        if l < 0 {
            return Err(bad("l must be >= 0"));
        }
        if l > MAX_PARSED_L as i64 {
            return Err(bad(&format!("l = {l} is beyond the largest supported degree {MAX_PARSED_L}")));
        }
        let l = l as usize;
        let p = match last {
            'e' => 1,
            'o' => -1,
            'y' => Irrep::sh_parity(l),
            _ => return Err(bad("parity must be 'e', 'o' or 'y'")),
        };
        Ok(Irrep::new(l, p))
    }
}

/// One entry of an [`Irreps`]: `mul` copies of `ir`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MulIr {
    /// Multiplicity (may be 0).
    pub mul: usize,
    /// The irrep.
    pub ir: Irrep,
}

impl MulIr {
    /// `mul * (2l+1)`.
    pub const fn dim(&self) -> usize {
        self.mul * self.ir.dim()
    }
}

impl fmt::Display for MulIr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}", self.mul, self.ir)
    }
}

/// A direct sum of irreps, `[(mul, ir), ...]`. A feature vector of these irreps is the
/// concatenation of the blocks; inside a block, element `(u, m)` sits at
/// `offset + u * (2l+1) + (m + l)` (multiplicity-major, as e3nn).
///
/// ```
/// use irreps::Irreps;
/// let irreps: Irreps = "2x0e + 1x1o".parse().unwrap();
/// assert_eq!(irreps.to_string(), "2x0e+1x1o");
/// assert_eq!(irreps.dim(), 5);
/// assert_eq!(irreps.slices(), vec![0..2, 2..5]);
/// assert_eq!("3x1o+0x0e+2x1o".parse::<Irreps>().unwrap().simplify().to_string(), "5x1o");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Irreps(pub Vec<MulIr>);

/// Result of [`Irreps::sort`], e3nn's `(irreps, p, inv)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sorted {
    /// The sorted irreps.
    pub irreps: Irreps,
    /// `p[i]` is where original entry `i` went (the inverse of `inv`).
    pub p: Vec<usize>,
    /// `inv[i]` is the original index of sorted entry `i`.
    pub inv: Vec<usize>,
}

impl Irreps {
    /// Builds from `(mul, l, p)` triples.
    pub fn from_triples(list: &[(usize, usize, i8)]) -> Self {
        Irreps(list.iter().map(|&(mul, l, p)| MulIr { mul, ir: Irrep::new(l, p) }).collect())
    }

    /// The spherical-harmonic irreps `1x0e + 1x1o + ... + 1x(lmax)p` for `ls`.
    pub fn spherical_harmonics(ls: &[usize]) -> Self {
        Irreps(ls.iter().map(|&l| MulIr { mul: 1, ir: Irrep::new(l, Irrep::sh_parity(l)) }).collect())
    }

    /// Total dimension `Σ mul (2l+1)`.
    pub fn dim(&self) -> usize {
        self.0.iter().map(MulIr::dim).sum()
    }

    /// `Σ mul`.
    pub fn num_irreps(&self) -> usize {
        self.0.iter().map(|m| m.mul).sum()
    }

    /// Number of `(mul, ir)` entries, 0x entries included.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// `true` when there is no entry.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// One `l` per copy (length `num_irreps`).
    pub fn ls(&self) -> Vec<usize> {
        self.0.iter().flat_map(|m| std::iter::repeat_n(m.ir.l, m.mul)).collect()
    }

    /// The largest `l` over copies actually present (0x entries do not count, as in e3nn's
    /// `max(ls)`); `None` when there is none (e3nn raises).
    pub fn lmax(&self) -> Option<usize> {
        self.0.iter().filter(|m| m.mul > 0).map(|m| m.ir.l).max()
    }

    /// The index range of each entry inside a feature vector.
    pub fn slices(&self) -> Vec<Range<usize>> {
        let mut start = 0;
        self.0
            .iter()
            .map(|m| {
                let r = start..start + m.dim();
                start = r.end;
                r
            })
            .collect()
    }

    /// Start offset of each entry.
    pub fn offsets(&self) -> Vec<usize> {
        self.slices().into_iter().map(|r| r.start).collect()
    }

    /// Drops entries with `mul == 0`.
    pub fn remove_zero_multiplicities(&self) -> Irreps {
        Irreps(self.0.iter().copied().filter(|m| m.mul > 0).collect())
    }

    /// Merges consecutive equal irreps and drops zero multiplicities (merging across a dropped
    /// entry, as e3nn does: `3x1o+0x0e+2x1o -> 5x1o`).
    pub fn simplify(&self) -> Irreps {
        let mut out: Vec<MulIr> = Vec::new();
        for m in self.0.iter().filter(|m| m.mul > 0) {
            match out.last_mut() {
                Some(last) if last.ir == m.ir => last.mul += m.mul,
                _ => out.push(*m),
            }
        }
        Irreps(out)
    }

    /// Stable sort by `(l, p)` with `p = -1` first; keeps 0x entries.
    pub fn sort(&self) -> Sorted {
        let mut inv: Vec<usize> = (0..self.len()).collect();
        inv.sort_by_key(|&i| self.0[i].ir);
        let mut p = vec![0; inv.len()];
        for (sorted, &orig) in inv.iter().enumerate() {
            p[orig] = sorted;
        }
        let irreps = Irreps(inv.iter().map(|&i| self.0[i]).collect());
        Sorted { irreps, p, inv }
    }

    /// `sort().irreps.simplify()`.
    pub fn regroup(&self) -> Irreps {
        self.sort().irreps.simplify()
    }

    /// Concatenation (e3nn's `a + b`).
    pub fn concat(&self, other: &Irreps) -> Irreps {
        Irreps(self.0.iter().chain(other.0.iter()).copied().collect())
    }

    /// The list repeated `n` times (e3nn's `irreps * n`).
    pub fn repeat(&self, n: usize) -> Irreps {
        Irreps(self.0.iter().copied().cycle().take(self.len() * n).collect())
    }

    /// Multiplicities multiplied by `n` (e3nn's `n * irreps` on entries: `2 * "1x0e"`-style
    /// scaling is spelled this way in Rust to avoid confusion with [`Irreps::repeat`]).
    pub fn scale_muls(&self, n: usize) -> Irreps {
        Irreps(self.0.iter().map(|m| MulIr { mul: m.mul * n, ir: m.ir }).collect())
    }

    /// Block-diagonal Wigner D of the whole representation, `(dim, dim)` row-major.
    /// `improper = true` multiplies each odd-parity block by −1 (the `k = 1` case of e3nn).
    pub fn d_from_angles(&self, alpha: f64, beta: f64, gamma: f64, improper: bool) -> Vec<f64> {
        let dim = self.dim();
        let mut out = vec![0.0; dim * dim];
        let mut offset = 0;
        for m in &self.0 {
            let d = m.ir.dim();
            let block = m.ir.d_from_angles(alpha, beta, gamma, improper);
            for _ in 0..m.mul {
                for i in 0..d {
                    out[(offset + i) * dim + offset..(offset + i) * dim + offset + d]
                        .copy_from_slice(&block[i * d..(i + 1) * d]);
                }
                offset += d;
            }
        }
        out
    }

    /// Block-diagonal D of a 3×3 orthogonal matrix `r` (proper or improper), as e3nn's
    /// `Irreps.D_from_matrix`: `D(det(r)·r)` with odd blocks negated when `det(r) < 0`.
    pub fn d_from_matrix(&self, r: &[[f64; 3]; 3]) -> Vec<f64> {
        let det = crate::rotation::det3(r);
        let improper = det < 0.0;
        let proper = if improper { crate::rotation::scale3(r, -1.0) } else { *r };
        let [a, b, c] = crate::rotation::matrix_to_angles(&proper);
        self.d_from_angles(a, b, c, improper)
    }

    /// Iterates over the entries.
    pub fn iter(&self) -> std::slice::Iter<'_, MulIr> {
        self.0.iter()
    }
}

impl std::ops::Index<usize> for Irreps {
    type Output = MulIr;
    fn index(&self, i: usize) -> &MulIr {
        &self.0[i]
    }
}

impl<'a> IntoIterator for &'a Irreps {
    type Item = &'a MulIr;
    type IntoIter = std::slice::Iter<'a, MulIr>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl fmt::Display for Irreps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, m) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("+")?;
            }
            write!(f, "{m}")?;
        }
        Ok(())
    }
}

impl FromStr for Irreps {
    type Err = Error;

    /// e3nn's grammar: entries `"[MULx]LP"` joined by `+`, whitespace around tokens allowed,
    /// the empty (or all-blank) string is the empty `Irreps`.
    fn from_str(s: &str) -> Result<Self, Error> {
        let mut out = Vec::new();
        let mut dim = 0usize;
        if s.trim().is_empty() {
            return Ok(Irreps(out));
        }
        for (k, token) in s.split('+').enumerate() {
            let fail = |reason: String| Error::Parse {
                input: s.to_string(),
                reason: format!("entry {k} (\"{token}\"): {reason}"),
            };
            let (mul, ir) = match token.split_once('x') {
                Some((mul, ir)) => {
                    if ir.contains('x') {
                        return Err(fail("more than one 'x'".into()));
                    }
                    let mul = python_int(mul)
                        .ok_or_else(|| fail(format!("multiplicity \"{}\" is not an integer", mul.trim())))?;
                    if mul < 0 {
                        return Err(fail(format!("multiplicity {mul} is negative")));
                    }
                    if mul > MAX_PARSED_MUL as i64 {
                        return Err(fail(format!("multiplicity {mul} is beyond the supported {MAX_PARSED_MUL}")));
                    }
                    (mul as usize, ir)
                }
                None => (1, token),
            };
            let ir: Irrep = ir.parse().map_err(|e: Error| fail(e.reason().to_string()))?;
            dim = dim.saturating_add(mul.saturating_mul(ir.dim()));
            if dim > MAX_PARSED_DIM {
                return Err(fail(format!("the irreps' dimension exceeds the supported {MAX_PARSED_DIM}")));
            }
            out.push(MulIr { mul, ir });
        }
        Ok(Irreps(out))
    }
}

impl From<Irrep> for Irreps {
    fn from(ir: Irrep) -> Self {
        Irreps(vec![MulIr { mul: 1, ir }])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_int_rules() {
        assert_eq!(python_int(" 2 "), Some(2));
        assert_eq!(python_int("+3"), Some(3));
        assert_eq!(python_int("-1"), Some(-1));
        assert_eq!(python_int("1_0"), Some(10));
        assert_eq!(python_int("1__0"), None);
        assert_eq!(python_int("1.5"), None);
        assert_eq!(python_int(""), None);
        assert_eq!(python_int("_1"), None);
    }

    #[test]
    fn errors_name_the_input() {
        let e = "2x1z".parse::<Irreps>().unwrap_err();
        assert!(e.to_string().contains("2x1z"), "{e}");
        assert!("1x2x0e".parse::<Irreps>().is_err());
    }

    #[test]
    fn sort_permutations_are_inverse() {
        let irreps: Irreps = "2e+0o+1e+0e+1o".parse().unwrap();
        let s = irreps.sort();
        assert_eq!(s.irreps.to_string(), "1x0o+1x0e+1x1o+1x1e+1x2e");
        for i in 0..irreps.len() {
            assert_eq!(s.inv[s.p[i]], i);
        }
    }
}
