//! A reaction's two ends: reactant and product with the same atoms in the same order, from two
//! files or one two-frame XYZ file (ReactBench's format). Every way the pair can be wrong gets one
//! error naming the file(s) and the problem: a frame count other than two, different atom counts
//! or elements, the same atoms in another order (a permutation, which an interpolation would turn
//! into atoms passing through each other), or two frames of one geometry (mirror images are two
//! geometries: an inversion is a reaction).

use std::path::Path;

use crate::io::xyz::{Frame, read_xyz_frames};
use crate::{Error, Molecule, Result, elements};

/// Two geometries whose interatomic distances all agree to this (Å) are the same geometry up to a
/// rotation and translation.
pub const SAME_GEOMETRY: f64 = 1e-3;

/// Reactant and product from one two-frame XYZ file, checked ([`pair_from_frames`]).
pub fn read_pair(path: &Path) -> Result<(Molecule, Molecule)> {
    pair_from_frames(read_xyz_frames(path)?, &path.display().to_string())
}

/// Reactant and product from the frames of one reaction file (`ctx` names it): exactly two
/// frames that pass [`check_pair`].
pub fn pair_from_frames(frames: Vec<Frame>, ctx: &str) -> Result<(Molecule, Molecule)> {
    let n = frames.len();
    let [r, p]: [Frame; 2] = frames.try_into().map_err(|_| {
        Error::invalid(ctx, format!("{n} frame(s); a reaction file has exactly two (reactant, then product)"))
    })?;
    check_pair(&r.molecule, &p.molecule, ctx)?;
    Ok((r.molecule, p.molecule))
}

fn counts(m: &Molecule) -> std::collections::BTreeMap<u8, usize> {
    let mut c = std::collections::BTreeMap::new();
    for &z in &m.numbers {
        *c.entry(z).or_insert(0) += 1;
    }
    c
}

fn formula(c: &std::collections::BTreeMap<u8, usize>) -> String {
    c.iter().map(|(&z, &n)| format!("{}{n}", elements::symbol(z).unwrap_or("?"))).collect()
}

/// Whether two geometries with equal interatomic distances are mirror images (an inversion, a
/// real reaction): some quadruple of atoms has signed volumes of opposite sign.
fn mirror_images(r: &Molecule, p: &Molecule) -> bool {
    let vol = |m: &Molecule, i: usize, j: usize, k: usize, l: usize| {
        let d = |a: usize| [0, 1, 2].map(|c| m.positions[a][c] - m.positions[i][c]);
        let (a, b, c) = (d(j), d(k), d(l));
        a[0] * (b[1] * c[2] - b[2] * c[1]) - a[1] * (b[0] * c[2] - b[2] * c[0]) + a[2] * (b[0] * c[1] - b[1] * c[0])
    };
    let n = r.len();
    for i in 0..n {
        for j in i + 1..n {
            for k in j + 1..n {
                for l in k + 1..n {
                    let (a, b) = (vol(r, i, j, k, l), vol(p, i, j, k, l));
                    if a * b < 0.0 && a.abs().min(b.abs()) > SAME_GEOMETRY {
                        return true;
                    }
                }
            }
        }
    }
    false
}

/// Checks that `r` and `p` can be the two ends of one reaction; `ctx` names the input.
pub fn check_pair(r: &Molecule, p: &Molecule, ctx: &str) -> Result<()> {
    if r.len() != p.len() {
        return Err(Error::invalid(ctx, format!("reactant has {} atoms, product {}", r.len(), p.len())));
    }
    if r.numbers != p.numbers {
        let (cr, cp) = (counts(r), counts(p));
        if cr != cp {
            return Err(Error::invalid(
                ctx,
                format!("reactant ({}) and product ({}) have different elements", formula(&cr), formula(&cp)),
            ));
        }
        let k = r.numbers.iter().zip(&p.numbers).position(|(a, b)| a != b).expect("they differ");
        return Err(Error::invalid(
            ctx,
            format!(
                "the product lists the same atoms in another order (atom {k} is {} in the reactant, {} in the \
                 product): a permutation; write the product's atoms in the reactant's order",
                elements::symbol(r.numbers[k]).unwrap_or("?"),
                elements::symbol(p.numbers[k]).unwrap_or("?")
            ),
        ));
    }
    let n = r.len();
    let dist = |m: &Molecule, i: usize, j: usize| {
        (0..3).map(|k| (m.positions[i][k] - m.positions[j][k]).powi(2)).sum::<f64>().sqrt()
    };
    let max_dev = (0..n)
        .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
        .map(|(i, j)| (dist(r, i, j) - dist(p, i, j)).abs())
        .fold(0.0, f64::max);
    if max_dev < SAME_GEOMETRY && !mirror_images(r, p) {
        return Err(Error::invalid(
            ctx,
            format!("reactant and product are the same geometry (interatomic distances agree to {max_dev:.1e} Å)"),
        ));
    }
    Ok(())
}
