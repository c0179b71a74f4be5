//! Model invariants on small random-weight f64 models: the HIP Hessian is exactly symmetric and
//! equivariant; autodiff and finite-difference Hessians agree; forces are −∇E; the layers execute
//! the irreps descriptors exactly.

use candle_core::{Device, Tensor};
use hip_core::Molecule;
use hip_model::graph::Batch;
use hip_model::layers::{conv::EdgeTp, linear::EquiLinear};
use hip_model::{HessianMethod, HipModel, ModelConfig, Params};
use irreps::rotation::{SplitMix64, angles_to_matrix, matvec3};
use irreps::{Irreps, Normalization, SphericalHarmonics};

fn model(sum_rule: bool) -> HipModel {
    let cfg = ModelConfig { sum_rule, seed: 3, ..Default::default() };
    HipModel::new(cfg, &Device::Cpu).unwrap()
}

/// The backbone options: the default two-body layers and the MACE-style product.
fn backbones() -> Vec<HipModel> {
    let product = ModelConfig { node_product: true, seed: 3, ..Default::default() };
    vec![model(false), HipModel::new(product, &Device::Cpu).unwrap()]
}

/// Head configurations that exercise every head option: the v1 head, odd inputs, the pair
/// product, pair-specific radial weights, the envelope, and the three diagonals.
fn head_configs() -> Vec<ModelConfig> {
    let v2 = ModelConfig {
        head_irreps: "4x0e+3x1o+2x1e+2x2e".into(),
        head_pair_tp: true,
        head_radial_scalars: true,
        head_num_bessel: 12,
        head_envelope: true,
        hessian_scale: 2.5,
        seed: 3,
        ..Default::default()
    };
    vec![
        ModelConfig { seed: 3, ..Default::default() },
        ModelConfig { head_irreps: "4x0e+3x1o+2x1e+2x2e".into(), seed: 3, ..Default::default() },
        v2.clone(),
        ModelConfig { sum_rule: true, ..v2.clone() },
        ModelConfig { sum_rule: true, diag_correction: true, ..v2.clone() },
        ModelConfig { head_layers: 2, head_radial_hidden: 24, ..v2.clone() },
        ModelConfig { sum_rule: true, diag_correction: true, head_pair_potential: true, ..v2.clone() },
        ModelConfig { head_pair_potential: true, head_envelope: false, ..v2 },
    ]
}

fn molecule(seed: u64, n: usize) -> Molecule {
    let mut rng = SplitMix64(seed);
    let z = [8u8, 6, 1, 1, 7, 1, 1, 6, 1, 1];
    let mut pos: Vec<[f64; 3]> = Vec::new();
    while pos.len() < n {
        let p = [2.0 * rng.normal(), 1.5 * rng.normal(), 1.0 * rng.normal()];
        if pos.iter().all(|q| (0..3).map(|k| (p[k] - q[k]).powi(2)).sum::<f64>() > 0.8) {
            pos.push(p);
        }
    }
    Molecule::new(z[..n].to_vec(), pos).unwrap()
}

fn max_abs(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

#[test]
fn spherical_harmonics_match_the_irreps_crate() {
    let mut rng = SplitMix64(1);
    let v: Vec<[f64; 3]> = (0..20).map(|_| [rng.normal(), rng.normal(), rng.normal()]).collect();
    for lmax in 0..=4 {
        let t = Tensor::from_vec(v.iter().flatten().copied().collect::<Vec<_>>(), (20, 3), &Device::Cpu).unwrap();
        let got =
            hip_model::sh::spherical_harmonics(&t, lmax).unwrap().flatten_all().unwrap().to_vec1::<f64>().unwrap();
        let want = SphericalHarmonics::up_to(lmax, true, Normalization::Component).compute(&v);
        assert!(max_abs(&got, &want) < 1e-13, "lmax {lmax}");
    }
}

#[test]
fn layers_execute_their_descriptors_exactly() {
    let dev = Device::Cpu;
    let mut params = Params::new(7, &dev);
    let xi: Irreps = "4x0e+3x1o+2x1e+2x2e".parse().unwrap();
    let sh = Irreps::spherical_harmonics(&[0, 1, 2]);
    let targets: Irreps = "1x0e+1x1o+1x1e+1x2e".parse().unwrap();
    let tp = EdgeTp::new(&mut params, "tp", &xi, &sh, &targets, 8, 8).unwrap();
    let mut rng = SplitMix64(2);
    let e = 5;
    let x: Vec<f64> = (0..e * xi.dim()).map(|_| rng.normal()).collect();
    let y: Vec<f64> = (0..e * sh.dim()).map(|_| rng.normal()).collect();
    let w: Vec<f64> = (0..e * tp.descriptor().weight_numel()).map(|_| rng.normal()).collect();
    let tx = Tensor::from_vec(x.clone(), (e, xi.dim()), &dev).unwrap();
    let ty = Tensor::from_vec(y.clone(), (e, sh.dim()), &dev).unwrap();
    let tw = Tensor::from_vec(w.clone(), (e, tp.descriptor().weight_numel()), &dev).unwrap();
    let got = tp.forward(&tx, &ty, &tw).unwrap().to_vec2::<f64>().unwrap();
    let (d1, d2, nw) = (xi.dim(), sh.dim(), tp.descriptor().weight_numel());
    for k in 0..e {
        let want = tp
            .descriptor()
            .forward(&x[k * d1..(k + 1) * d1], &y[k * d2..(k + 1) * d2], &w[k * nw..(k + 1) * nw])
            .unwrap();
        assert!(max_abs(&got[k], &want) < 1e-12, "edge {k}");
    }
    let out: Irreps = "3x0e+2x1o+1x2e+2x1e".parse().unwrap();
    let lin = EquiLinear::new(&mut params, "lin", &xi, &out, true).unwrap();
    // give the biases non-zero values so they are tested too
    for (name, v) in params.vars() {
        if name.ends_with("bias") {
            v.set(&v.as_tensor().ones_like().unwrap()).unwrap();
        }
    }
    let (lw, lb) = lin.flat_weights().unwrap();
    let got = lin.forward(&tx).unwrap().to_vec2::<f64>().unwrap();
    for k in 0..e {
        let want = lin.descriptor().forward(&x[k * d1..(k + 1) * d1], &lw, &lb).unwrap();
        assert!(max_abs(&got[k], &want) < 1e-12, "linear sample {k}");
    }
    // The model's fused route: per-block products in fused column order, weights from the
    // radial MLP's gathered columns, and a linear layer with permuted rows, must equal the
    // descriptor-order route (same arithmetic up to summation order: 1e-12).
    let tp_out = tp.irreps_out().clone();
    let lin2 = EquiLinear::new(&mut params, "lin2", &tp_out, &out, true).unwrap();
    let radial = Tensor::from_vec((0..e * 8).map(|_| rng.normal()).collect::<Vec<_>>(), (e, 8), &dev).unwrap();
    let plain = lin2.forward(&tp.forward(&tx, &ty, &tp.weights(&radial).unwrap()).unwrap()).unwrap();
    let rows = tp.fused_to_descriptor().to_vec();
    let rows = Tensor::from_vec(rows.clone(), rows.len(), &dev).unwrap();
    let pieces = tp.forward_fused(&tx, &ty, &tp.weights_fused(&radial).unwrap()).unwrap();
    let fused = lin2.forward_permuted(&pieces, &rows).unwrap();
    let (a, b) = (plain.flatten_all().unwrap().to_vec1::<f64>().unwrap(), fused.flatten_all().unwrap().to_vec1());
    assert!(max_abs(&a, &b.unwrap()) < 1e-12, "fused route");
}

#[test]
fn every_head_is_bitwise_symmetric_equivariant_and_block_sparse() {
    for cfg in head_configs() {
        let m = HipModel::new(cfg.clone(), &Device::Cpu).unwrap();
        let mol = molecule(6, 7);
        let h = m.hessian(&mol, HessianMethod::Direct).unwrap();
        assert_eq!(h.max_asymmetry(), 0.0, "{cfg:?}");
        assert_eq!(m.hessian_blocks(&mol).unwrap().to_dense(), h, "{cfg:?}");
        let scale = h.as_slice().iter().fold(1.0f64, |a, x| a.max(x.abs()));
        let mut rng = SplitMix64(11);
        let [a, b, c] = rng.angles();
        let r = angles_to_matrix(a, b, c);
        let h1 = m.hessian(&rotate(&mol, &r, [0.3, -1.0, 2.0]), HessianMethod::Direct).unwrap();
        // tolerance 1e-10 relative to the largest entry: the identity is exact, f64 round-off
        for i in 0..mol.len() {
            for j in 0..mol.len() {
                let (b0, b1) = (h.block(i, j), h1.block(i, j));
                for x in 0..3 {
                    for y in 0..3 {
                        let v: f64 = (0..9).map(|kl| r[x][kl / 3] * b0[kl] * r[y][kl % 3]).sum();
                        assert!((v - b1[x * 3 + y]).abs() < 1e-10 * scale, "{cfg:?}: block ({i},{j})");
                    }
                }
            }
        }
        if cfg.sum_rule && !cfg.diag_correction {
            // the translational sum rule is exact for the symmetric part of the block-row sums
            for i in 0..mol.len() {
                let mut sum = [0.0; 9];
                for j in 0..mol.len() {
                    for (acc, v) in sum.iter_mut().zip(h.block(i, j)) {
                        *acc += v;
                    }
                }
                for x in 0..3 {
                    for y in 0..3 {
                        assert!((sum[x * 3 + y] + sum[y * 3 + x]).abs() < 1e-10 * scale, "{cfg:?}: row {i}");
                    }
                }
            }
        }
    }
}

#[test]
fn pair_product_executes_its_descriptor_exactly() {
    let dev = Device::Cpu;
    let mut params = Params::new(5, &dev);
    let xi: Irreps = "3x0e+2x1o+2x1e+2x2e".parse().unwrap();
    let targets: Irreps = "1x0e+1x1e+1x2e".parse().unwrap();
    let tp = hip_model::layers::pair_tp::PairTp::new(&mut params, "pair", &xi, &targets, 6, 8).unwrap();
    // every path is even and of degree <= 2: 1o x 1o and 2e x 2e reach all three degrees
    assert!(tp.irreps_out().iter().all(|m| m.ir.p == 1 && m.ir.l <= 2));
    let mut rng = SplitMix64(3);
    let e = 4;
    let (d, nw) = (xi.dim(), tp.descriptor().weight_numel());
    let x1: Vec<f64> = (0..e * d).map(|_| rng.normal()).collect();
    let x2: Vec<f64> = (0..e * d).map(|_| rng.normal()).collect();
    let w: Vec<f64> = (0..e * nw).map(|_| rng.normal()).collect();
    let t = |v: &Vec<f64>, c: usize| Tensor::from_vec(v.clone(), (e, c), &dev).unwrap();
    let got = tp.forward(&t(&x1, d), &t(&x2, d), &t(&w, nw)).unwrap().to_vec2::<f64>().unwrap();
    for k in 0..e {
        let want = tp
            .descriptor()
            .forward(&x1[k * d..(k + 1) * d], &x2[k * d..(k + 1) * d], &w[k * nw..(k + 1) * nw])
            .unwrap();
        assert!(max_abs(&got[k], &want) < 1e-12, "edge {k}");
    }
}

#[test]
fn direct_hessian_is_bitwise_symmetric() {
    for sum_rule in [false, true] {
        let m = model(sum_rule);
        let p = m.predict(&molecule(4, 6), HessianMethod::Direct).unwrap();
        assert_eq!(p.hessian.max_asymmetry(), 0.0, "sum_rule={sum_rule}");
        if sum_rule {
            // the sum rule holds for the symmetric part of the row sums
            assert!(p.hessian.acoustic_sum_rule_residual().is_finite());
        }
    }
}

#[test]
fn hessian_only_calls_match_full_predictions() {
    // The Hessian-only route skips the force backward pass (direct) or the centre call (FD); the
    // Hessian must be the same numbers: bitwise for direct (same forward ops), and for FD too
    // (same displaced force calls in the same order).
    let m = model(false);
    let mol = molecule(4, 6);
    for method in [HessianMethod::Direct, HessianMethod::FiniteDifference { delta: 0.01 }] {
        let full = m.predict(&mol, method).unwrap().hessian;
        let only = m.hessian(&mol, method).unwrap();
        assert_eq!(full, only, "{}", method.name());
    }
}

#[test]
fn block_sparse_hessian_is_the_dense_one() {
    // Same forward pass, same additions: the dense form of the blocks must equal the dense
    // Hessian bitwise, with and without the sum rule, and with a Hessian cutoff that leaves
    // pairs out (their blocks are zero in both).
    for (sum_rule, hessian_cutoff) in [(false, 10.0), (true, 10.0), (false, 2.5), (true, 2.5)] {
        let cfg = ModelConfig { sum_rule, hessian_cutoff, seed: 3, ..Default::default() };
        let m = HipModel::new(cfg, &Device::Cpu).unwrap();
        let mol = molecule(6, 8);
        let blocks = m.hessian_blocks(&mol).unwrap();
        let dense = m.hessian(&mol, HessianMethod::Direct).unwrap();
        assert_eq!(blocks.to_dense(), dense, "sum_rule={sum_rule} cutoff={hessian_cutoff}");
        let all_pairs = mol.len() * (mol.len() - 1) / 2;
        if hessian_cutoff < 3.0 {
            assert!(blocks.pairs().len() < all_pairs, "the short cutoff must drop pairs");
        } else {
            assert_eq!(blocks.pairs().len(), all_pairs);
        }
    }
}

fn rotate(mol: &Molecule, r: &[[f64; 3]; 3], shift: [f64; 3]) -> Molecule {
    let pos = mol.positions.iter().map(|p| {
        let q = matvec3(r, *p);
        [q[0] + shift[0], q[1] + shift[1], q[2] + shift[2]]
    });
    Molecule::new(mol.numbers.clone(), pos.collect()).unwrap()
}

#[test]
fn energy_forces_hessian_are_equivariant() {
    // Tolerance 1e-10 (f64): the identities are exact; round-off of O(1e3) operations on O(1-10)
    // values stays below ~1e-12.
    for m in backbones() {
        equivariant(&m);
    }
}

fn equivariant(m: &HipModel) {
    let mol = molecule(5, 6);
    let n = mol.len();
    let p0 = m.predict(&mol, HessianMethod::Direct).unwrap();
    let mut rng = SplitMix64(9);
    for _ in 0..3 {
        let [a, b, c] = rng.angles();
        let r = angles_to_matrix(a, b, c);
        let shift = [rng.normal(), rng.normal(), rng.normal()];
        let p1 = m.predict(&rotate(&mol, &r, shift), HessianMethod::Direct).unwrap();
        assert!((p1.energy - p0.energy).abs() < 1e-10, "energy invariant");
        for i in 0..n {
            let rf = matvec3(&r, p0.forces[i]);
            assert!(max_abs(&rf, &p1.forces[i]) < 1e-10, "F(Rx) = R F(x)");
        }
        // H(Rx) = (I⊗R) H (I⊗R)ᵀ
        for i in 0..n {
            for j in 0..n {
                let b0 = p0.hessian.block(i, j);
                let b1 = p1.hessian.block(i, j);
                for a in 0..3 {
                    for bb in 0..3 {
                        let mut v = 0.0;
                        for k in 0..3 {
                            for l in 0..3 {
                                v += r[a][k] * b0[k * 3 + l] * r[bb][l];
                            }
                        }
                        assert!(
                            (v - b1[a * 3 + bb]).abs() < 1e-10,
                            "H block ({i},{j}) not equivariant: {v} vs {}",
                            b1[a * 3 + bb]
                        );
                    }
                }
            }
        }
    }
    // permutation: swap atoms 2 and 3 (both H)
    let perm = [0usize, 1, 3, 2, 4, 5];
    let pm =
        Molecule::new(perm.iter().map(|&k| mol.numbers[k]).collect(), perm.iter().map(|&k| mol.positions[k]).collect())
            .unwrap();
    let pp = m.predict(&pm, HessianMethod::Direct).unwrap();
    assert!((pp.energy - p0.energy).abs() < 1e-10);
    for i in 0..n {
        for j in 0..n {
            assert!(max_abs(&pp.hessian.block(i, j), &p0.hessian.block(perm[i], perm[j])) < 1e-10, "permutation");
        }
    }
}

#[test]
fn forces_are_minus_the_energy_gradient() {
    // central differences, δ = 1e-4 Å: truncation ~δ²·|E'''| ≈ 1e-8, round-off ~1e-16/δ.
    for m in backbones() {
        forces_match_energy_differences(&m);
    }
}

fn forces_match_energy_differences(m: &HipModel) {
    let mol = molecule(6, 5);
    let (_, f) = m.predict_energy_forces(&mol).unwrap();
    let x = mol.flat_positions();
    for k in 0..x.len() {
        let mut e = [0.0; 2];
        for (s, sgn) in [1.0, -1.0].iter().enumerate() {
            let mut xp = x.clone();
            xp[k] += sgn * 1e-4;
            e[s] = m.predict_energy_forces(&mol.with_flat_positions(&xp)).unwrap().0;
        }
        let fd = -(e[0] - e[1]) / 2e-4;
        assert!((fd - f[k / 3][k % 3]).abs() < 1e-6 * (1.0 + fd.abs()), "F[{k}] {} vs FD {fd}", f[k / 3][k % 3]);
    }
}

#[test]
fn autodiff_hessian_matches_finite_differences_of_forces() {
    // FD with δ = 1e-4 Å of exact (autodiff) forces: error ~δ²|F'''| ≈ 1e-8 relative.
    for m in backbones() {
        autodiff_matches_differences(&m);
    }
}

fn autodiff_matches_differences(m: &HipModel) {
    let mol = molecule(7, 5);
    let ad = m.predict(&mol, HessianMethod::Autodiff).unwrap().hessian;
    let fd = m.predict(&mol, HessianMethod::FiniteDifference { delta: 1e-4 }).unwrap().hessian;
    let scale = ad.as_slice().iter().fold(0.0f64, |a, x| a.max(x.abs()));
    let err = max_abs(ad.as_slice(), fd.as_slice());
    assert!(err < 1e-6 * scale, "max |AD − FD| = {err:e} (scale {scale})");
    // AD of a conservative model is symmetric up to round-off
    assert!(ad.max_asymmetry() < 1e-10 * scale);
    // and a second route: FD of the energy's forces at the default 0.01 Å step is close too
    let fd2 = m.predict(&mol, HessianMethod::FiniteDifference { delta: 0.01 }).unwrap().hessian;
    assert!(max_abs(ad.as_slice(), fd2.as_slice()) < 1e-2 * scale);
}

#[test]
fn batch_rejects_unknown_elements() {
    let m = model(false);
    let mol = Molecule::new(vec![16, 1], vec![[0.0; 3], [1.3, 0.0, 0.0]]).unwrap();
    let e = m.predict(&mol, HessianMethod::Direct).unwrap_err().to_string();
    assert!(e.contains("Z=16"), "{e}");
    assert!(Batch::new(&[&mol], &m.config, &Device::Cpu).is_err());
}

/// Run by `autodiff_refuses_without_second_order` in a child process without the variable.
#[test]
#[ignore]
fn child_autodiff_without_second_order() {
    let m = model(false);
    match m.predict(&molecule(8, 3), HessianMethod::Autodiff) {
        Ok(_) => println!("CHILD-RESULT: computed"),
        Err(e) => println!("CHILD-RESULT: {e}"),
    }
}

#[test]
fn autodiff_refuses_without_second_order() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "child_autodiff_without_second_order", "--nocapture"])
        .env_remove("CANDLE_GRAD_DO_NOT_DETACH")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("CHILD-RESULT: second-order autodiff is disabled"), "{text}");
}

#[test]
fn batched_direct_hessians_are_each_molecules_own() {
    // One forward pass over a batch of molecules of different sizes: each Hessian must be the one
    // of that molecule alone. Molecules do not interact across the batch, so only the order of
    // floating-point sums can differ: 1e-12 relative to the largest entry.
    let m = model(true);
    let mols = [molecule(1, 3), molecule(2, 7), molecule(3, 5)];
    let refs: Vec<&Molecule> = mols.iter().collect();
    let batched = m.hessians_direct(&refs).unwrap();
    assert_eq!(batched.len(), mols.len());
    for (mol, h) in mols.iter().zip(&batched) {
        let alone = m.hessian(mol, HessianMethod::Direct).unwrap();
        let scale = alone.as_slice().iter().fold(1.0f64, |a, v| a.max(v.abs()));
        let err = max_abs(h.as_slice(), alone.as_slice());
        assert!(err <= 1e-12 * scale, "{} atoms: batched differs by {err:e}", mol.len());
    }
    assert!(m.hessians_direct(&[]).unwrap().is_empty());
}

#[test]
fn node_product_is_a_three_body_term_of_the_messages() {
    // The product adds W·(A ⊗ A) to each layer's mixed messages A. With its output weights set to
    // zero the model must be the two-body one exactly (the identity path), and with them it must
    // not: the energy of a random-weight model moves by far more than round-off (1e-10).
    let m = backbones().pop().unwrap();
    let product_lins: Vec<&candle_core::Var> =
        m.params.vars().iter().filter(|(k, _)| k.contains(".product.lin")).map(|(_, v)| v).collect();
    for layer in ["layer0", "layer1"] {
        let prefix = format!("{layer}.product.lin");
        assert!(m.params.vars().keys().any(|k| k.starts_with(&prefix)), "no product in {layer}");
    }
    let mol = molecule(4, 6);
    let (with_product, _) = m.predict_energy_forces(&mol).unwrap();
    for v in &product_lins {
        v.set(&v.zeros_like().unwrap()).unwrap();
    }
    let (two_body, _) = m.predict_energy_forces(&mol).unwrap();
    assert!((with_product - two_body).abs() > 1e-6, "the product does not reach the energy");
    // the same weights minus the product's parameters, in a model without the product
    let plain = HipModel::new(ModelConfig { seed: 3, ..Default::default() }, &Device::Cpu).unwrap();
    let shared: std::collections::BTreeMap<String, Tensor> =
        m.params.tensors().into_iter().filter(|(k, _)| !k.contains(".product.")).collect();
    plain.params.assign(&shared, "two-body weights").unwrap();
    let (plain_e, _) = plain.predict_energy_forces(&mol).unwrap();
    assert!((plain_e - two_body).abs() < 1e-10 * (1.0 + plain_e.abs()), "{plain_e} vs {two_body}");
}

#[test]
fn the_model_potential_refuses_coincident_nuclei() {
    // An optimizer on the model can step two atoms together (the learned surface has no
    // short-range repulsion); the potential names the pair instead of returning NaN forces.
    use hip_core::Potential;
    let pot = hip_model::ModelPotential { model: std::sync::Arc::new(model(true)), method: HessianMethod::Direct };
    let ok = Molecule::new(vec![8, 1, 1], vec![[0.0, 0.0, 0.0], [0.96, 0.0, 0.0], [-0.24, 0.93, 0.0]]).unwrap();
    assert!(pot.energy_forces(&ok).is_ok() && pot.hessian(&ok).is_ok());
    // O–H at 0.1 Å: 0.5 × (0.66 + 0.31) Å is the coincidence threshold
    let bad = Molecule::new(vec![8, 1, 1], vec![[0.0, 0.0, 0.0], [0.1, 0.0, 0.0], [-0.24, 0.93, 0.0]]).unwrap();
    for e in [pot.energy_forces(&bad).unwrap_err(), pot.hessian(&bad).unwrap_err()] {
        let e = e.to_string();
        assert!(e.contains("atoms 0 (O) and 1 (H)") && e.contains("coincident"), "{e}");
    }
}

#[test]
fn a_model_whose_head_was_never_trained_refuses_direct_hessians() {
    // the rule reads the training record: a run without a Hessian loss, and no epoch of the
    // history with a Hessian validation error
    use hip_model::checkpoint::head_never_trained;
    let ef_cfg = serde_json::json!({"w_hessian": 0.0, "w_subspace": 0.0, "w_modes": 0.0});
    let hip_cfg = serde_json::json!({"w_hessian": 10.0, "w_subspace": 0.0, "w_modes": 0.0});
    let untrained = serde_json::json!([{"epoch": 1, "val_hessian_mae": null}, {"epoch": 2}]);
    let staged = serde_json::json!([{"epoch": 1, "val_hessian_mae": 0.2}, {"epoch": 2, "val_hessian_mae": null}]);
    let rec = |cfg: &serde_json::Value, h: &serde_json::Value| serde_json::json!({"train_config": cfg, "history": h});
    assert!(head_never_trained(&rec(&ef_cfg, &untrained)));
    // a Hessian loss trains the head even when no validation sample had a Hessian (tiny sets)
    assert!(!head_never_trained(&rec(&hip_cfg, &untrained)));
    // an E+F stage after a head-training stage keeps the head it had
    assert!(!head_never_trained(&rec(&ef_cfg, &staged)));
    assert!(!head_never_trained(&serde_json::json!({})), "no record: unknown, allowed");
    assert!(!head_never_trained(&rec(&ef_cfg, &serde_json::json!([]))));
    // the shipped E+F baseline: direct refused everywhere, with what to use instead; its
    // autodiff Hessian and the shipped HIP model's direct one are unaffected
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models");
    let ef = hip_model::checkpoint::load(&root.join("ef-baseline.safetensors"), &Device::Cpu).unwrap().model;
    assert!(!ef.head_trained());
    let mol = molecule(3, 5);
    let e = ef.hessian(&mol, HessianMethod::Direct).unwrap_err().to_string();
    assert!(e.contains("never trained") && e.contains("autodiff"), "{e}");
    assert!(ef.predict(&mol, HessianMethod::Direct).is_err());
    assert!(ef.hessians_direct(&[&mol]).is_err());
    assert!(ef.hessian_blocks(&mol).is_err());
    assert!(ef.to(&Device::Cpu, candle_core::DType::F32).unwrap().hessian(&mol, HessianMethod::Direct).is_err());
    assert!(ef.hessian(&mol, HessianMethod::Autodiff).is_ok());
    let hip = hip_model::checkpoint::load(&root.join("hip-default.safetensors"), &Device::Cpu).unwrap().model;
    assert!(hip.head_trained() && hip.hessian(&mol, HessianMethod::Direct).is_ok());
}

#[test]
fn morse_pair_blocks_are_the_second_derivatives_of_the_morse_energy() {
    use hip_model::hessian_head::{MORSE_MAX_EXPONENT, morse_blocks};
    let mut rng = SplitMix64(5);
    let mut checked = 0;
    for case in 0..20 {
        let v: Vec<f64> = (0..3).map(|_| rng.normal()).collect();
        let n = (v.iter().map(|x| x * x).sum::<f64>()).sqrt();
        // separations from well inside to far outside r0 (0.7 .. 4.2 Å)
        let r = 0.7 + 3.5 * rng.uniform();
        let vec: Vec<f64> = v.iter().map(|x| x / n * r).collect();
        let (d, a, r0) = (0.1 + 9.0 * rng.uniform(), 0.5 + 2.5 * rng.uniform(), 0.6 + 2.4 * rng.uniform());
        if a * (r0 - r) > MORSE_MAX_EXPONENT - 0.1 {
            continue; // the capped region is not a Morse energy
        }
        let t = |x: Vec<f64>, dims: (usize, usize)| Tensor::from_vec(x, dims, &Device::Cpu).unwrap();
        let b = morse_blocks(&t(vec.clone(), (1, 3)), &t(vec![d], (1, 1)), &t(vec![a], (1, 1)), &t(vec![r0], (1, 1)))
            .unwrap()
            .flatten_all()
            .unwrap()
            .to_vec1::<f64>()
            .unwrap();
        // φ as a function of x_s (at 0) and x_t (at vec): ∂²φ/∂x_s,a ∂x_t,b by central differences
        let phi = |xs: [f64; 3], xt: [f64; 3]| {
            let rr = (0..3).map(|k| (xt[k] - xs[k]).powi(2)).sum::<f64>().sqrt();
            d * (1.0 - (-a * (rr - r0)).exp()).powi(2)
        };
        let h = 1e-4;
        let scale = b.iter().fold(1.0f64, |m, x| m.max(x.abs()));
        for i in 0..3 {
            for j in 0..3 {
                let mut f = 0.0;
                for (si, sj, sign) in [(1.0, 1.0, 1.0), (1.0, -1.0, -1.0), (-1.0, 1.0, -1.0), (-1.0, -1.0, 1.0)] {
                    let mut xs = [0.0; 3];
                    let mut xt = [vec[0], vec[1], vec[2]];
                    xs[i] += si * h;
                    xt[j] += sj * h;
                    f += sign * phi(xs, xt);
                }
                let fd = f / (4.0 * h * h);
                // central differences: O(h²) truncation and ~1e-16·φ/h² round-off, far below 1e-5
                assert!((fd - b[3 * i + j]).abs() < 1e-5 * scale, "case {case}: ({i},{j}) {fd} vs {}", b[3 * i + j]);
            }
        }
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} of 20 random cases outside the capped region");
}
