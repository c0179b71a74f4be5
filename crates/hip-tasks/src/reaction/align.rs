//! Kabsch alignment: the rotation (proper, no reflection) and translation that bring one
//! geometry onto another with the least RMSD. Both must hold the same elements in the same order.

use hip_core::{Error, Molecule, Result};
use nalgebra::{Matrix3, Vector3};

/// Checks that `a` and `b` have the same atoms in the same order (what NEB and RMSD need).
pub fn same_atoms(a: &Molecule, b: &Molecule, what: &str) -> Result<()> {
    if a.len() != b.len() {
        return Err(Error::invalid(what, format!("the two structures have {} and {} atoms", a.len(), b.len())));
    }
    if let Some(k) = (0..a.len()).find(|&k| a.numbers[k] != b.numbers[k]) {
        return Err(Error::invalid(
            what,
            format!(
                "atom {k} is element {} in one structure and {} in the other: give both with the same atom order",
                a.numbers[k], b.numbers[k]
            ),
        ));
    }
    Ok(())
}

fn centroid(p: &[[f64; 3]]) -> Vector3<f64> {
    p.iter().fold(Vector3::zeros(), |acc, x| acc + Vector3::from(*x)) / p.len().max(1) as f64
}

/// `mobile` moved onto `reference` (optimal rotation about, and translation to, the centroids),
/// and the RMSD after alignment, Å.
pub fn kabsch(reference: &Molecule, mobile: &Molecule) -> Result<(Molecule, f64)> {
    same_atoms(reference, mobile, "alignment")?;
    let (cr, cm) = (centroid(&reference.positions), centroid(&mobile.positions));
    let mut h = Matrix3::zeros();
    for (p, q) in mobile.positions.iter().zip(&reference.positions) {
        h += (Vector3::from(*p) - cm) * (Vector3::from(*q) - cr).transpose();
    }
    let svd = nalgebra::SVD::try_new(h, true, true, f64::EPSILON, 1000)
        .ok_or_else(|| Error::invalid("alignment", "the 3×3 SVD did not converge"))?;
    let (u, vt) = (svd.u.expect("computed"), svd.v_t.expect("computed"));
    let mut d = Matrix3::identity();
    if (vt.transpose() * u.transpose()).determinant() < 0.0 {
        d[(2, 2)] = -1.0;
    }
    let r = vt.transpose() * d * u.transpose();
    let positions: Vec<[f64; 3]> =
        mobile.positions.iter().map(|p| (r * (Vector3::from(*p) - cm) + cr).into()).collect();
    let rmsd = rmsd_as_given(&positions, &reference.positions);
    Ok((Molecule { positions, ..mobile.clone() }, rmsd))
}

/// RMSD of two position lists of the same length without any alignment, Å.
pub fn rmsd_as_given(a: &[[f64; 3]], b: &[[f64; 3]]) -> f64 {
    let sum: f64 = a.iter().zip(b).map(|(p, q)| (0..3).map(|k| (p[k] - q[k]).powi(2)).sum::<f64>()).sum();
    (sum / a.len().max(1) as f64).sqrt()
}

/// RMSD of `b` against `a` after optimal alignment, Å.
pub fn rmsd(a: &Molecule, b: &Molecule) -> Result<f64> {
    Ok(kabsch(a, b)?.1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use irreps::rotation::{SplitMix64, angles_to_matrix, matvec3};

    #[test]
    fn alignment_undoes_a_rigid_motion_and_refuses_other_atoms() {
        let a = Molecule::new(vec![8, 1, 1, 6], vec![[0.0; 3], [0.96, 0.0, 0.0], [-0.24, 0.93, 0.0], [0.3, 0.4, 1.2]])
            .unwrap();
        let mut rng = SplitMix64(4);
        let [x, y, z] = rng.angles();
        let r = angles_to_matrix(x, y, z);
        let moved = Molecule {
            positions: a
                .positions
                .iter()
                .map(|p| {
                    let q = matvec3(&r, *p);
                    [q[0] + 3.0, q[1] - 1.0, q[2] + 0.5]
                })
                .collect(),
            ..a.clone()
        };
        let (back, d) = kabsch(&a, &moved).unwrap();
        assert!(d < 1e-10, "rmsd {d}");
        for (p, q) in back.positions.iter().zip(&a.positions) {
            assert!((0..3).all(|k| (p[k] - q[k]).abs() < 1e-10));
        }
        let other = Molecule::new(vec![8, 1, 6, 1], a.positions.clone()).unwrap();
        let e = kabsch(&a, &other).unwrap_err().to_string();
        assert!(e.contains("atom 2") && e.contains("same atom order"), "{e}");
    }
}
