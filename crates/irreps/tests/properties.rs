//! Property tests on random rotations (proper and improper) and random inputs, seeded.
//!
//! Tolerances: every identity here is exact in real arithmetic; in f64 the computations are
//! O(100) operations on O(1) numbers, so errors are ~1e-14. We assert 1e-10 (1e-9 for l ≥ 5,
//! where the matrix exponential of larger generators accumulates more round-off), far below
//! the O(0.1) errors a broken convention produces.

use irreps::rotation::{self, Mat3, SplitMix64};
use irreps::{
    ConnectionMode, InstructionSpec, IrrepNormalization, Irreps, Linear, Normalization, PathNormalization, Rank2,
    SphericalHarmonics, TensorProduct, wigner_3j, wigner_d,
};

fn max_err(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

fn matvec(m: &[f64], x: &[f64]) -> Vec<f64> {
    m.chunks_exact(x.len()).map(|r| r.iter().zip(x).map(|(a, b)| a * b).sum()).collect()
}

fn matmul(a: &[f64], b: &[f64], d: usize) -> Vec<f64> {
    let mut out = vec![0.0; d * d];
    for i in 0..d {
        for k in 0..d {
            for j in 0..d {
                out[i * d + j] += a[i * d + k] * b[k * d + j];
            }
        }
    }
    out
}

fn random_rotation(rng: &mut SplitMix64, improper: bool) -> Mat3 {
    let [a, b, c] = rng.angles();
    let r = rotation::angles_to_matrix(a, b, c);
    if improper { rotation::scale3(&r, -1.0) } else { r }
}

fn random_vec(rng: &mut SplitMix64, n: usize) -> Vec<f64> {
    (0..n).map(|_| rng.normal()).collect()
}

#[test]
fn spherical_harmonics_are_equivariant_up_to_l6() {
    let mut rng = SplitMix64(11);
    let ls: Vec<usize> = (0..=6).collect();
    let sh = SphericalHarmonics::new(&ls, true, Normalization::Component);
    for trial in 0..20 {
        let r = random_rotation(&mut rng, trial % 2 == 1);
        let d = sh.irreps().d_from_matrix(&r);
        let v = [rng.normal(), rng.normal(), rng.normal()];
        let y = sh.compute(&[v]);
        let y_rot = sh.compute(&[rotation::matvec3(&r, v)]);
        let err = max_err(&y_rot, &matvec(&d, &y));
        assert!(err < 1e-9, "trial {trial}: |Y(Rv) - D(R)Y(v)| = {err:e}");
    }
}

#[test]
fn spherical_harmonics_norms_and_parity() {
    let mut rng = SplitMix64(12);
    for l in 0..=8 {
        for norm in [Normalization::Component, Normalization::Norm, Normalization::Integral] {
            let sh = SphericalHarmonics::new(&[l], true, norm);
            let v = [rng.normal(), rng.normal(), rng.normal()];
            let y = sh.compute(&[v]);
            let n2: f64 = y.iter().map(|x| x * x).sum();
            let expected = match norm {
                Normalization::Component => (2 * l + 1) as f64,
                Normalization::Norm => 1.0,
                Normalization::Integral => (2 * l + 1) as f64 / (4.0 * std::f64::consts::PI),
            };
            assert!((n2 - expected).abs() < 1e-10 * expected, "l={l} {norm:?}: |Y|² = {n2}");
            let y_neg = sh.compute(&[v.map(|x| -x)]);
            let sign = if l % 2 == 0 { 1.0 } else { -1.0 };
            assert!(max_err(&y_neg, &y.iter().map(|x| sign * x).collect::<Vec<_>>()) < 1e-12, "parity l={l}");
        }
        // normalize=false is homogeneous of degree l
        let sh = SphericalHarmonics::new(&[l], false, Normalization::Component);
        let v = [rng.normal(), rng.normal(), rng.normal()];
        let y = sh.compute(&[v]);
        let y2 = sh.compute(&[v.map(|x| 2.0 * x)]);
        let f = 2f64.powi(l as i32);
        assert!(max_err(&y2, &y.iter().map(|x| f * x).collect::<Vec<_>>()) < 1e-10 * f, "homogeneity l={l}");
    }
}

#[test]
fn spherical_harmonics_jacobian_matches_central_differences() {
    let mut rng = SplitMix64(13);
    let ls: Vec<usize> = (0..=6).collect();
    for normalize in [true, false] {
        for norm in [Normalization::Component, Normalization::Norm, Normalization::Integral] {
            let sh = SphericalHarmonics::new(&ls, normalize, norm);
            let dim = sh.dim();
            for _ in 0..5 {
                let v = [rng.normal(), rng.normal(), rng.normal()];
                let (_, jac) = sh.compute_with_jacobian(&[v]);
                let h = 1e-6;
                for c in 0..3 {
                    let (mut vp, mut vm) = (v, v);
                    vp[c] += h;
                    vm[c] -= h;
                    let (yp, ym) = (sh.compute(&[vp]), sh.compute(&[vm]));
                    for k in 0..dim {
                        let fd = (yp[k] - ym[k]) / (2.0 * h);
                        let an = jac[k * 3 + c];
                        // central differences: truncation O(h²·|Y'''|) plus round-off O(eps/h)
                        assert!(
                            (fd - an).abs() < 1e-6 * (1.0 + an.abs()),
                            "normalize={normalize} {norm:?} k={k} c={c}: analytic {an} vs FD {fd}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn spherical_harmonics_f32_matches_f64() {
    let mut rng = SplitMix64(14);
    let sh = SphericalHarmonics::up_to(4, true, Normalization::Component);
    let v64: Vec<[f64; 3]> = (0..50).map(|_| [rng.normal(), rng.normal(), rng.normal()]).collect();
    let v32: Vec<[f32; 3]> = v64.iter().map(|v| v.map(|x| x as f32)).collect();
    let (y64, y32) = (sh.compute(&v64), sh.compute(&v32));
    let err = y64.iter().zip(&y32).map(|(a, b)| (a - *b as f64).abs()).fold(0.0, f64::max);
    assert!(err < 1e-4, "f32 differs from f64 by {err}");
}

#[test]
fn wigner_d_is_a_representation_and_orthogonal() {
    let mut rng = SplitMix64(21);
    for l in 0..=6 {
        let d = 2 * l + 1;
        let tol = if l >= 5 { 1e-9 } else { 1e-10 };
        for _ in 0..5 {
            let (a1, a2) = (rng.angles(), rng.angles());
            let d1 = wigner_d(l, a1[0], a1[1], a1[2]);
            let d2 = wigner_d(l, a2[0], a2[1], a2[2]);
            let r12 = rotation::matmul3(
                &rotation::angles_to_matrix(a1[0], a1[1], a1[2]),
                &rotation::angles_to_matrix(a2[0], a2[1], a2[2]),
            );
            let a12 = rotation::matrix_to_angles(&r12);
            let d12 = wigner_d(l, a12[0], a12[1], a12[2]);
            assert!(max_err(&d12, &matmul(&d1, &d2, d)) < tol, "D(R1R2) != D(R1)D(R2) at l={l}");
            let mut dt = vec![0.0; d * d];
            for i in 0..d {
                for j in 0..d {
                    dt[i * d + j] = d1[j * d + i];
                }
            }
            let eye: Vec<f64> = (0..d * d).map(|k| if k / d == k % d { 1.0 } else { 0.0 }).collect();
            assert!(max_err(&matmul(&d1, &dt, d), &eye) < tol, "D not orthogonal at l={l}");
        }
    }
}

#[test]
fn wigner_3j_symmetries_and_invariance() {
    let mut rng = SplitMix64(31);
    for l1 in 0..=4 {
        for l2 in 0..=4 {
            for l3 in 0..=4 {
                let Some(c) = wigner_3j(l1, l2, l3) else { continue };
                let (d1, d2, d3) = (2 * l1 + 1, 2 * l2 + 1, 2 * l3 + 1);
                let norm: f64 = c.iter().map(|x| x * x).sum();
                assert!((norm - 1.0).abs() < 1e-12);
                let cyc = wigner_3j(l2, l3, l1).unwrap();
                let swap = wigner_3j(l2, l1, l3).unwrap();
                let sign = if (l1 + l2 + l3) % 2 == 0 { 1.0 } else { -1.0 };
                for i in 0..d1 {
                    for j in 0..d2 {
                        for k in 0..d3 {
                            let v = c[(i * d2 + j) * d3 + k];
                            assert!((cyc[(j * d3 + k) * d1 + i] - v).abs() < 1e-12, "cyclic ({l1},{l2},{l3})");
                            assert!((swap[(j * d1 + i) * d3 + k] - sign * v).abs() < 1e-12, "swap ({l1},{l2},{l3})");
                        }
                    }
                }
                // invariance: C_ijk = Σ C_lmn D1_il D2_jm D3_kn
                let a = rng.angles();
                let (da, db, dc) =
                    (wigner_d(l1, a[0], a[1], a[2]), wigner_d(l2, a[0], a[1], a[2]), wigner_d(l3, a[0], a[1], a[2]));
                for i in 0..d1 {
                    for j in 0..d2 {
                        for k in 0..d3 {
                            let mut s = 0.0;
                            for p in 0..d1 {
                                for q in 0..d2 {
                                    for r in 0..d3 {
                                        s +=
                                            c[(p * d2 + q) * d3 + r] * da[i * d1 + p] * db[j * d2 + q] * dc[k * d3 + r];
                                    }
                                }
                            }
                            assert!((s - c[(i * d2 + j) * d3 + k]).abs() < 1e-10, "invariance ({l1},{l2},{l3})");
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn change_of_basis_is_orthonormal_and_equivariant() {
    let mut rng = SplitMix64(41);
    for kind in [Rank2::General, Rank2::Symmetric] {
        let q = kind.change_of_basis();
        let n = kind.dim();
        for a in 0..n {
            for b in 0..n {
                let dot: f64 = (0..9).map(|t| q[a * 9 + t] * q[b * 9 + t]).sum();
                assert!((dot - if a == b { 1.0 } else { 0.0 }).abs() < 1e-14);
            }
        }
        for trial in 0..6 {
            let r = random_rotation(&mut rng, trial % 2 == 1);
            let t: [f64; 9] = std::array::from_fn(|_| rng.normal());
            // R T Rᵀ
            let mut rt = [0.0; 9];
            for i in 0..3 {
                for j in 0..3 {
                    rt[i * 3 + j] = (0..3)
                        .flat_map(|k| (0..3).map(move |l| (k, l)))
                        .map(|(k, l)| r[i][k] * t[k * 3 + l] * r[j][l])
                        .sum();
                }
            }
            let d = kind.irreps().d_from_matrix(&r);
            let err = max_err(&kind.from_cartesian(&rt), &matvec(&d, &kind.from_cartesian(&t)));
            assert!(err < 1e-12, "{kind:?}: coefficients of R T Rᵀ differ from D c by {err:e}");
        }
    }
    // T = v vᵀ: 2e coefficients are √(2/15) Y²(v)
    let v = [0.3, -1.1, 0.7];
    let t: [f64; 9] = std::array::from_fn(|k| v[k / 3] * v[k % 3]);
    let c = Rank2::Symmetric.from_cartesian(&t);
    let y2 = SphericalHarmonics::new(&[2], false, Normalization::Component).compute(&[v]);
    let scaled: Vec<f64> = y2.iter().map(|x| x * (2.0f64 / 15.0).sqrt()).collect();
    assert!(max_err(&c[1..], &scaled) < 1e-14);
}

fn check_tp_equivariance(tp: &TensorProduct, rng: &mut SplitMix64) {
    let (i1, i2, o) = (tp.irreps_in1(), tp.irreps_in2(), tp.irreps_out());
    let w = random_vec(rng, tp.weight_numel());
    for trial in 0..4 {
        let r = random_rotation(rng, trial % 2 == 1);
        let (x1, x2) = (random_vec(rng, i1.dim()), random_vec(rng, i2.dim()));
        let out = tp.forward(&x1, &x2, &w).unwrap();
        let (d1, d2, d_out) = (i1.d_from_matrix(&r), i2.d_from_matrix(&r), o.d_from_matrix(&r));
        let out_rot = tp.forward(&matvec(&d1, &x1), &matvec(&d2, &x2), &w).unwrap();
        let err = max_err(&out_rot, &matvec(&d_out, &out));
        assert!(err < 1e-10, "{tp}: equivariance error {err:e}");
    }
}

#[test]
fn tensor_products_are_equivariant() {
    let mut rng = SplitMix64(51);
    let p = |s: &str| s.parse::<Irreps>().unwrap();
    check_tp_equivariance(
        &TensorProduct::fully_connected(&p("3x0e+2x1o+2x2e+1x1e"), &p("0e+1o+2e"), &p("2x0e+2x1o+1x1e+2x2e+1x2o"))
            .unwrap(),
        &mut rng,
    );
    check_tp_equivariance(
        &TensorProduct::elementwise(&p("2x0e+1x1o+2x2e"), &p("1x1o+2x0e+1x2o+1x1e")).unwrap(),
        &mut rng,
    );
    check_tp_equivariance(&TensorProduct::full(&p("2x0e+1x1o"), &p("1x1o+1x2e")).unwrap(), &mut rng);
    // The convolution modes the model uses.
    let (a, b) = (p("4x0e+3x1o+2x2e"), p("1x0e+1x1o+1x2e"));
    let out = p("4x0e+3x1o+4x1o+2x2e+2x1e");
    let specs = vec![
        InstructionSpec::new(0, 0, 0, ConnectionMode::Uvu, true),
        InstructionSpec::new(1, 1, 0, ConnectionMode::Uvw, true),
        InstructionSpec::new(1, 0, 1, ConnectionMode::Uvu, true),
        InstructionSpec::new(0, 1, 2, ConnectionMode::Uvu, true),
        InstructionSpec::new(2, 2, 3, ConnectionMode::Uvu, true),
        InstructionSpec::new(1, 1, 4, ConnectionMode::Uvw, false),
    ];
    for (inorm, pnorm) in [
        (IrrepNormalization::Component, PathNormalization::Element),
        (IrrepNormalization::Norm, PathNormalization::Path),
    ] {
        check_tp_equivariance(&TensorProduct::new(&a, &b, &out, &specs, inorm, pnorm).unwrap(), &mut rng);
    }
    let uvv = vec![
        InstructionSpec::new(0, 0, 0, ConnectionMode::Uvv, true),
        InstructionSpec::new(1, 0, 1, ConnectionMode::Uuw, true),
    ];
    check_tp_equivariance(
        &TensorProduct::new(&p("2x1o+3x1o"), &p("3x1o"), &p("3x0e+4x1e"), &uvv, Default::default(), Default::default())
            .unwrap(),
        &mut rng,
    );
}

#[test]
fn invalid_tensor_products_are_errors() {
    let p = |s: &str| s.parse::<Irreps>().unwrap();
    let bad_rule = [InstructionSpec::new(0, 0, 0, ConnectionMode::Uvw, true)];
    assert!(
        TensorProduct::new(&p("1o"), &p("1o"), &p("1o"), &bad_rule, Default::default(), Default::default()).is_err()
    );
    let bad_index = [InstructionSpec::new(3, 0, 0, ConnectionMode::Uvw, true)];
    assert!(
        TensorProduct::new(&p("1o"), &p("1o"), &p("0e"), &bad_index, Default::default(), Default::default()).is_err()
    );
    let bad_mul = [InstructionSpec::new(0, 0, 0, ConnectionMode::Uvu, true)];
    assert!(
        TensorProduct::new(&p("2x1o"), &p("1o"), &p("3x0e"), &bad_mul, Default::default(), Default::default()).is_err()
    );
    let tp = TensorProduct::fully_connected(&p("1o"), &p("1o"), &p("0e")).unwrap();
    let e = tp.forward(&[1.0, 2.0], &[1.0, 2.0, 3.0], &[1.0]).unwrap_err();
    assert!(e.to_string().contains("x1"), "{e}");
}

#[test]
fn linear_is_equivariant() {
    let mut rng = SplitMix64(61);
    let (i, o) = ("3x0e+2x1o+1x2e+1x0o".parse::<Irreps>().unwrap(), "2x0e+3x1o+2x2e+1x1e".parse::<Irreps>().unwrap());
    let lin = Linear::new(&i, &o, true).unwrap();
    let (w, b) = (random_vec(&mut rng, lin.weight_numel()), random_vec(&mut rng, lin.bias_numel()));
    for trial in 0..4 {
        let r = random_rotation(&mut rng, trial % 2 == 1);
        let x = random_vec(&mut rng, i.dim());
        let (di, d_out) = (i.d_from_matrix(&r), o.d_from_matrix(&r));
        let y = lin.forward(&x, &w, &b).unwrap();
        let y_rot = lin.forward(&matvec(&di, &x), &w, &b).unwrap();
        assert!(max_err(&y_rot, &matvec(&d_out, &y)) < 1e-12);
    }
    // the 1x1e output has no matching input: it stays zero
    let y = lin.forward(&random_vec(&mut rng, i.dim()), &w, &b).unwrap();
    assert_eq!(&y[y.len() - 3..], &[0.0, 0.0, 0.0]);
}
