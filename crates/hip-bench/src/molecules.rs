//! Benchmark molecules of any size: zig-zag alkane chains truncated to N atoms, and
//! 3D-packed "alkane slabs" for the large-N scaling runs.

use hip_core::Molecule;

/// A zig-zag C_nH_{2n+2} chain with exactly `n_atoms` atoms (carbons first, then hydrogens).
pub fn alkane(n_atoms: usize) -> Molecule {
    let n_c = (n_atoms.saturating_sub(2)).div_ceil(3).max(1);
    let mut atoms: Vec<(u8, [f64; 3])> = Vec::new();
    let carbons: Vec<[f64; 3]> =
        (0..n_c).map(|i| [1.27 * i as f64, if i % 2 == 0 { 0.0 } else { 0.89 }, 0.0]).collect();
    atoms.extend(carbons.iter().map(|&p| (6u8, p)));
    for (i, c) in carbons.iter().enumerate() {
        let up = if i % 2 == 0 { -1.0 } else { 1.0 };
        for s in [-1.0, 1.0] {
            atoms.push((1, [c[0], c[1] + 0.63 * up, 0.89 * s]));
        }
    }
    atoms.push((1, [-1.0, -0.4, 0.0]));
    atoms.push((1, [1.27 * n_c as f64, if n_c % 2 == 0 { -0.4 } else { 1.3 }, 0.0]));
    atoms.truncate(n_atoms);
    Molecule::new(atoms.iter().map(|a| a.0).collect(), atoms.iter().map(|a| a.1).collect()).expect("valid geometry")
}

/// Parallel alkane chains stacked 4.5 Å apart in y and z until `n_atoms` atoms: a bulk-like
/// system of constant density for large-N scaling.
pub fn alkane_bundle(n_atoms: usize) -> Molecule {
    let chain = alkane(32); // C10H22
    let side = ((n_atoms as f64 / chain.len() as f64).sqrt().ceil() as usize).max(1);
    let (mut z, mut p) = (Vec::new(), Vec::new());
    'outer: for a in 0..side {
        for b in 0..side * side {
            for (zz, q) in chain.numbers.iter().zip(&chain.positions) {
                if z.len() == n_atoms {
                    break 'outer;
                }
                z.push(*zz);
                p.push([q[0] + 14.0 * (b / side) as f64, q[1] + 4.5 * a as f64, q[2] + 4.5 * (b % side) as f64]);
            }
        }
    }
    Molecule::new(z, p).expect("valid geometry")
}
