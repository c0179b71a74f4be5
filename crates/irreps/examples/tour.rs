//! A tour of the irreps crate: the pieces the HIP Hessian head is built from.
//!
//! `cargo run --release -p irreps --example tour`

use irreps::rotation::{SplitMix64, angles_to_matrix, matvec3};
use irreps::{Irreps, Normalization, Rank2, SphericalHarmonics, TensorProduct, wigner_3j};

fn main() {
    let features: Irreps = "32x0e + 16x1o + 8x2e".parse().expect("valid irreps");
    println!("node features      {features}  (dim {})", features.dim());

    let sh = SphericalHarmonics::up_to(2, true, Normalization::Component);
    let edge = [0.3, -0.9, 0.4];
    println!("edge harmonics     {}  Y({edge:?}) = {:.4?}", sh.irreps(), sh.compute(&[edge]));

    let tp = TensorProduct::fully_connected(&features, &sh.irreps(), &"8x0e+8x1e+8x2e".parse().unwrap()).unwrap();
    print!("{tp}");

    println!("w3j(1,1,1)[0,1,2]  {:.6} (= 1/√6)", wigner_3j(1, 1, 1).unwrap()[5]);

    // The HIP map: 9 coefficients (0e + 1e + 2e) <-> one 3x3 block, exactly equivariant.
    let mut rng = SplitMix64(7);
    let coeffs: Vec<f64> = (0..9).map(|_| rng.normal()).collect();
    let block = Rank2::General.to_cartesian(&coeffs);
    println!("3x3 block from 0e+1e+2e coefficients:");
    for row in block.chunks(3) {
        println!("  {:>9.5} {:>9.5} {:>9.5}", row[0], row[1], row[2]);
    }
    let [a, b, c] = rng.angles();
    let r = angles_to_matrix(a, b, c);
    let d = Rank2::General.irreps().d_from_angles(a, b, c, false);
    let rotated_coeffs: Vec<f64> = d.chunks(9).map(|row| row.iter().zip(&coeffs).map(|(x, y)| x * y).sum()).collect();
    let rotated_block = Rank2::General.to_cartesian(&rotated_coeffs);
    let mut err: f64 = 0.0;
    for i in 0..3 {
        for j in 0..3 {
            let rbr: f64 = (0..3)
                .flat_map(|k| (0..3).map(move |l| (k, l)))
                .map(|(k, l)| r[i][k] * block[k * 3 + l] * r[j][l])
                .sum();
            err = err.max((rbr - rotated_block[i * 3 + j]).abs());
        }
    }
    println!("max |R M Rᵀ − M(D c)| = {err:.2e}  (equivariance of the change of basis)");
    let v = matvec3(&r, edge);
    println!("Y(R v) = D Y(v):     {:.2e}", {
        let y = sh.compute(&[edge]);
        let dy = sh.irreps().d_from_angles(a, b, c, false);
        let expected: Vec<f64> = dy.chunks(9).map(|row| row.iter().zip(&y).map(|(x, z)| x * z).sum()).collect();
        sh.compute(&[v]).iter().zip(&expected).map(|(p, q)| (p - q).abs()).fold(0.0, f64::max)
    });
}
