//! The model's domain, checked on a geometry before a model is asked about it:
//!
//! - atoms closer than [`COINCIDENT_RATIO`] × the sum of their covalent radii are an **error**
//!   (nearly coincident nuclei: no chemistry, and a model's features are singular there);
//! - atoms closer than [`TRAINING_RATIO`] × the sum (the data-v2 geometry filter: below the
//!   closest pair of the training data) are a **warning**;
//! - atoms without a neighbour within the model's interaction cutoff, and fragments farther apart
//!   than it, are a **warning**: they do not interact in the model, so their Hessian blocks are
//!   those of isolated pieces.

use crate::{Error, Molecule, Result, elements};

/// Below this fraction of the sum of covalent radii two atoms count as coincident (error).
pub const COINCIDENT_RATIO: f64 = 0.5;
/// Below this fraction the geometry is outside the training data (warning; `hip data check`'s
/// v2 filter).
pub const TRAINING_RATIO: f64 = 0.7;

/// An error naming the closest pair if two atoms of `mol` are coincident (closer than
/// [`COINCIDENT_RATIO`] × the sum of their covalent radii); the same test as [`check`], without
/// the warnings. The model's [`crate::Potential`] runs it on every geometry it is asked about, so
/// that a search stepping into collapsed nuclei ends with this message instead of with the
/// model's non-finite forces there.
pub fn check_coincident(mol: &Molecule) -> Result<()> {
    mol.validate()?;
    let r: Vec<f64> = mol.numbers.iter().map(|&z| elements::covalent_radius(z)).collect::<Result<_>>()?;
    for i in 0..mol.len() {
        for j in i + 1..mol.len() {
            let d = distance(mol, i, j);
            if d / (r[i] + r[j]) < COINCIDENT_RATIO {
                return Err(coincident(mol, i, j, d, d / (r[i] + r[j])));
            }
        }
    }
    Ok(())
}

fn distance(mol: &Molecule, i: usize, j: usize) -> f64 {
    (0..3).map(|k| (mol.positions[i][k] - mol.positions[j][k]).powi(2)).sum::<f64>().sqrt()
}

fn coincident(mol: &Molecule, i: usize, j: usize, d: f64, ratio: f64) -> Error {
    let sym = |i: usize| elements::symbol(mol.numbers[i]).unwrap_or("?");
    Error::invalid(
        "geometry",
        format!(
            "atoms {i} ({}) and {j} ({}) are {d:.3} Å apart, {ratio:.2} × the sum of their covalent radii: \
             nearly coincident nuclei are outside any model's domain",
            sym(i),
            sym(j)
        ),
    )
}

/// Domain warnings of `mol` for a model whose atoms interact within `cutoff` Å; an error for
/// coincident atoms (naming them and their distance).
pub fn check(mol: &Molecule, cutoff: f64) -> Result<Vec<String>> {
    mol.validate()?;
    let n = mol.len();
    let r: Vec<f64> = mol.numbers.iter().map(|&z| elements::covalent_radius(z)).collect::<Result<_>>()?;
    let sym = |i: usize| elements::symbol(mol.numbers[i]).unwrap_or("?");
    let mut warnings = Vec::new();
    let mut parent: Vec<usize> = (0..n).collect();
    fn find(p: &mut [usize], mut a: usize) -> usize {
        while p[a] != a {
            p[a] = p[p[a]];
            a = p[a];
        }
        a
    }
    let mut has_neighbour = vec![false; n];
    let mut close: Option<(usize, usize, f64, f64)> = None;
    for i in 0..n {
        for j in i + 1..n {
            let d = distance(mol, i, j);
            let ratio = d / (r[i] + r[j]);
            if ratio < COINCIDENT_RATIO {
                return Err(coincident(mol, i, j, d, ratio));
            }
            if ratio < TRAINING_RATIO && close.is_none_or(|c| ratio < c.3) {
                close = Some((i, j, d, ratio));
            }
            if d < cutoff {
                has_neighbour[i] = true;
                has_neighbour[j] = true;
                let (a, b) = (find(&mut parent, i), find(&mut parent, j));
                parent[a] = b;
            }
        }
    }
    if let Some((i, j, d, ratio)) = close {
        warnings.push(format!(
            "atoms {i} ({}) and {j} ({}) are {d:.3} Å apart ({ratio:.2} × the sum of covalent radii), closer than \
             any pair in the training data (≥ {TRAINING_RATIO}): the prediction is an extrapolation",
            sym(i),
            sym(j)
        ));
    }
    if n > 1 {
        let lonely: Vec<String> = (0..n).filter(|&i| !has_neighbour[i]).map(|i| format!("{i} ({})", sym(i))).collect();
        if !lonely.is_empty() {
            warnings.push(format!(
                "atom(s) {} have no neighbour within the model's {cutoff} Å cutoff: they do not interact in the model",
                lonely.join(", ")
            ));
        }
        let roots: std::collections::BTreeSet<usize> = (0..n).map(|i| find(&mut parent, i)).collect();
        if roots.len() > 1 && lonely.len() < roots.len() {
            warnings.push(format!(
                "the molecule falls into {} fragments more than {cutoff} Å apart: they do not interact in the model",
                roots.len()
            ));
        }
    }
    Ok(warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coincident_close_and_isolated_atoms() {
        let water = Molecule::new(vec![8, 1, 1], vec![[0.0; 3], [0.96, 0.0, 0.0], [-0.24, 0.93, 0.0]]).unwrap();
        assert!(check(&water, 5.0).unwrap().is_empty());
        let squeezed = Molecule::new(vec![8, 1, 1], vec![[0.0; 3], [0.96, 0.0, 0.0], [0.96, 0.40, 0.0]]).unwrap();
        let w = check(&squeezed, 5.0).unwrap();
        assert!(w.len() == 1 && w[0].contains("atoms 1 (H) and 2 (H)") && w[0].contains("0.400 Å"), "{w:?}");
        let same = Molecule::new(vec![1, 1], vec![[0.0; 3], [0.1, 0.0, 0.0]]).unwrap();
        let e = check(&same, 5.0).unwrap_err().to_string();
        assert!(e.contains("atoms 0 (H) and 1 (H)") && e.contains("coincident"), "{e}");
        let far = Molecule::new(vec![1, 1], vec![[0.0; 3], [40.0, 0.0, 0.0]]).unwrap();
        let w = check(&far, 5.0).unwrap();
        assert!(w.iter().any(|m| m.contains("do not interact")), "{w:?}");
        let dimer = Molecule::new(
            vec![8, 1, 1, 8, 1, 1],
            vec![
                [0.0; 3],
                [0.96, 0.0, 0.0],
                [-0.24, 0.93, 0.0],
                [20.0, 0.0, 0.0],
                [20.96, 0.0, 0.0],
                [19.76, 0.93, 0.0],
            ],
        )
        .unwrap();
        let w = check(&dimer, 5.0).unwrap();
        assert!(w.len() == 1 && w[0].contains("2 fragments"), "{w:?}");
        let atom = Molecule::new(vec![8], vec![[0.0; 3]]).unwrap();
        assert!(check(&atom, 5.0).unwrap().is_empty());
    }
}
