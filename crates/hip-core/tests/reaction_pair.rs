//! The reaction-pair checks of `hip_core::io::reaction`: each way a pair can be wrong gets its own
//! error naming the input, and a valid pair passes. The cases are built from water and ammonia:
//! the checks compare atoms and geometries, not chemistry.

use std::path::PathBuf;

use hip_core::Molecule;
use hip_core::io::reaction::{SAME_GEOMETRY, check_pair, read_pair};

fn water() -> (Molecule, Molecule) {
    let r = Molecule::new(vec![8, 1, 1], vec![[0.0, 0.0, 0.0], [0.96, 0.0, 0.0], [-0.24, 0.93, 0.0]]).unwrap();
    let mut p = r.clone();
    p.positions[1] = [1.2, 0.1, 0.0];
    (r, p)
}

fn xyz(m: &Molecule) -> String {
    hip_core::io::xyz::format_xyz(m, "frame")
}

fn tmp(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hip-pair-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn a_valid_two_frame_file_reads_as_reactant_and_product() {
    let (r, p) = water();
    let f = tmp("ok.xyz", &(xyz(&r) + &xyz(&p)));
    let (r2, p2) = read_pair(&f).unwrap();
    assert_eq!(r2.numbers, r.numbers);
    assert_eq!(p2.positions.len(), p.positions.len());
    for (a, b) in p2.positions.iter().zip(&p.positions) {
        for k in 0..3 {
            assert!((a[k] - b[k]).abs() < 1e-6, "the product frame is read as written");
        }
    }
}

#[test]
fn frame_counts_other_than_two_are_errors_naming_the_file_and_count() {
    let (r, _) = water();
    for k in [1usize, 3] {
        let f = tmp(&format!("frames{k}.xyz"), &xyz(&r).repeat(k));
        let e = read_pair(&f).unwrap_err().to_string();
        assert!(e.contains(&format!("{k} frame(s)")) && e.contains(&format!("frames{k}.xyz")), "{e}");
    }
}

#[test]
fn mismatched_pairs_get_one_clear_error_each() {
    let (r, p) = water();
    // different atom counts
    let short = Molecule::new(vec![8, 1], vec![[0.0; 3], [0.96, 0.0, 0.0]]).unwrap();
    let e = check_pair(&r, &short, "R.xyz, P.xyz").unwrap_err().to_string();
    assert!(e.starts_with("R.xyz, P.xyz") && e.contains("3 atoms, product 2"), "{e}");
    // different elements
    let mut other = p.clone();
    other.numbers[2] = 6;
    let e = check_pair(&r, &other, "pair").unwrap_err().to_string();
    assert!(e.contains("different elements"), "{e}");
    // the same atoms in another order: a permutation, named as such
    let mut perm = p.clone();
    perm.numbers.swap(0, 1);
    perm.positions.swap(0, 1);
    let e = check_pair(&r, &perm, "pair").unwrap_err().to_string();
    assert!(e.contains("permutation") && e.contains("atom 0"), "{e}");
    // identical geometries, also after a rigid rotation and translation
    let mut moved = r.clone();
    for q in moved.positions.iter_mut() {
        *q = [-q[1] + 3.0, q[0] - 1.0, q[2] + 0.5];
    }
    let e = check_pair(&r, &moved, "pair").unwrap_err().to_string();
    assert!(e.contains("same geometry"), "{e}");
    // mirror images have equal distances but are two geometries (an inversion)
    let pyramid =
        Molecule::new(vec![7, 1, 1, 1], vec![[0.0, 0.0, 0.38], [1.0, 0.0, 0.0], [-0.5, 0.87, 0.0], [-0.5, -0.87, 0.0]])
            .unwrap();
    let mut mirrored = pyramid.clone();
    mirrored.positions[0][2] = -0.38;
    assert!(check_pair(&pyramid, &mirrored, "inversion").is_ok());
    // just above the tolerance is a (tiny) reaction, not an error
    let mut nudged = r.clone();
    nudged.positions[1][0] += 10.0 * SAME_GEOMETRY; // along the O–H bond: its length changes by that much
    assert!(check_pair(&r, &nudged, "pair").is_ok());
    assert!(check_pair(&r, &p, "pair").is_ok());
}
