//! Every case of every file in the e3nn reference directory, to 1e-12 absolute near zero and
//! 1e-12 relative for large values: `|Δ| ≤ 1e-12 · max(1, |expected|)`.
//!
//! The directory comes from `E3NN_REFERENCE_DIR` (default `../shared/reference/e3nn` relative to
//! the workspace root). Every irreps string, vector, angle and weight is read from the files, so
//! the same test runs unchanged on another set of the same layout.
//!
//! Tolerance: the files were written with `repr`, so inputs are exact; e3nn's own consistency
//! checks in the files are ≤ 1e-13, and our independent arithmetic (different summation order,
//! matrix exponential) adds round-off of the same order *relative to the values*: unnormalized
//! spherical harmonics of raw vectors of norm ~8 reach ~6·10³ at l = 4, where f64 round-off
//! alone is ~1e-12 absolute (4e-16 relative). The bound leaves room for that and nothing else:
//! a sign, axis or normalization slip changes values by O(0.1–1) relative.

use std::path::PathBuf;

use irreps::cartesian::Rank2;
use irreps::rotation::{self, Mat3};
use irreps::{
    ConnectionMode, IrrepNormalization, Irreps, Linear, Normalization, PathNormalization, SphericalHarmonics,
    TensorProduct, so3_generators, wigner_3j, wigner_d,
};
use serde_json::Value;

const TOL: f64 = 1e-12;

fn reference_dir() -> PathBuf {
    match std::env::var_os("E3NN_REFERENCE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/reference/e3nn"),
    }
}

fn load(name: &str) -> Value {
    let path = reference_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {} (set E3NN_REFERENCE_DIR): {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not valid JSON: {e}", path.display()))
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("expected a number, got {v}"))
}

fn int(v: &Value) -> usize {
    v.as_u64().unwrap_or_else(|| panic!("expected an unsigned integer, got {v}")) as usize
}

fn string(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("expected a string, got {v}"))
}

fn arr(v: &Value) -> &Vec<Value> {
    v.as_array().unwrap_or_else(|| panic!("expected an array, got {v}"))
}

/// Flattens nested arrays of numbers in row-major order.
fn flat(v: &Value) -> Vec<f64> {
    let mut out = Vec::new();
    fn rec(v: &Value, out: &mut Vec<f64>) {
        match v {
            Value::Array(a) => a.iter().for_each(|x| rec(x, out)),
            x => out.push(num(x)),
        }
    }
    rec(v, &mut out);
    out
}

fn rows(v: &Value) -> Vec<Vec<f64>> {
    arr(v).iter().map(flat).collect()
}

fn vec3s(v: &Value) -> Vec<[f64; 3]> {
    arr(v).iter().map(|r| flat(r).try_into().expect("a 3-vector")).collect()
}

fn mat3(v: &Value) -> Mat3 {
    let f = flat(v);
    assert_eq!(f.len(), 9, "expected a 3x3 matrix");
    [[f[0], f[1], f[2]], [f[3], f[4], f[5]], [f[6], f[7], f[8]]]
}

fn angles(v: &Value) -> [f64; 3] {
    flat(v).try_into().expect("three angles")
}

fn irreps(v: &Value) -> Irreps {
    string(v).parse().unwrap_or_else(|e| panic!("{e}"))
}

#[track_caller]
fn assert_close(got: &[f64], expected: &[f64], what: &str) {
    assert_eq!(got.len(), expected.len(), "{what}: length {} vs expected {}", got.len(), expected.len());
    let (idx, err) = got
        .iter()
        .zip(expected)
        .map(|(a, b)| (a - b).abs() / b.abs().max(1.0))
        .enumerate()
        .fold((0, 0.0), |acc, (i, e)| if e > acc.1 || e.is_nan() { (i, e) } else { acc });
    assert!(
        err <= TOL,
        "{what}: max |error| / max(1, |expected|) = {err:e} at index {idx} (got {}, expected {})",
        got[idx],
        expected[idx]
    );
}

fn matvec(m: &[f64], x: &[f64]) -> Vec<f64> {
    let n = x.len();
    m.chunks_exact(n).map(|row| row.iter().zip(x).map(|(a, b)| a * b).sum()).collect()
}

// ---------------------------------------------------------------------------------------------

#[test]
fn irreps_cases() {
    let d = load("irreps.json");
    let cases = arr(&d["cases"]);
    assert!(!cases.is_empty());
    for c in cases {
        let input = string(&c["input"]);
        let ir: Irreps = input.parse().unwrap_or_else(|e| panic!("{input:?}: {e}"));
        let ctx = |f: &str| format!("irreps {input:?}: {f}");
        assert_eq!(ir.to_string(), string(&c["repr"]), "{}", ctx("repr"));
        assert_eq!(ir.dim(), int(&c["dim"]), "{}", ctx("dim"));
        assert_eq!(ir.num_irreps(), int(&c["num_irreps"]), "{}", ctx("num_irreps"));
        assert_eq!(ir.len(), int(&c["len"]), "{}", ctx("len"));
        assert_eq!(ir.ls(), arr(&c["ls"]).iter().map(int).collect::<Vec<_>>(), "{}", ctx("ls"));
        assert_eq!(ir.lmax(), c["lmax"].as_u64().map(|x| x as usize), "{}", ctx("lmax"));
        let list: Vec<(usize, usize, i64)> = ir.iter().map(|m| (m.mul, m.ir.l, m.ir.p as i64)).collect();
        let expected: Vec<(usize, usize, i64)> =
            arr(&c["list"]).iter().map(|t| (int(&t[0]), int(&t[1]), t[2].as_i64().expect("parity"))).collect();
        assert_eq!(list, expected, "{}", ctx("list"));
        let slices: Vec<(usize, usize)> = ir.slices().into_iter().map(|r| (r.start, r.end)).collect();
        let expected: Vec<(usize, usize)> = arr(&c["slices"]).iter().map(|s| (int(&s[0]), int(&s[1]))).collect();
        assert_eq!(slices, expected, "{}", ctx("slices"));
        assert_eq!(ir.simplify().to_string(), string(&c["simplify"]), "{}", ctx("simplify"));
        assert_eq!(
            ir.remove_zero_multiplicities().to_string(),
            string(&c["remove_zero_multiplicities"]),
            "{}",
            ctx("remove_zero_multiplicities")
        );
        assert_eq!(ir.regroup().to_string(), string(&c["regroup"]), "{}", ctx("regroup"));
        let sorted = ir.sort();
        assert_eq!(sorted.irreps.to_string(), string(&c["sort"]["irreps"]), "{}", ctx("sort.irreps"));
        assert_eq!(sorted.p, arr(&c["sort"]["p"]).iter().map(int).collect::<Vec<_>>(), "{}", ctx("sort.p"));
        assert_eq!(sorted.inv, arr(&c["sort"]["inv"]).iter().map(int).collect::<Vec<_>>(), "{}", ctx("sort.inv"));
        // Printing and parsing round-trips.
        assert_eq!(ir.to_string().parse::<Irreps>().unwrap(), ir, "{}", ctx("round trip"));
    }
}

#[test]
fn irrep_products_and_iterator() {
    let d = load("irreps.json");
    for p in arr(&d["irrep_products"]) {
        let a: irreps::Irrep = string(&p["a"]).parse().unwrap();
        let b: irreps::Irrep = string(&p["b"]).parse().unwrap();
        let got: Vec<String> = a.tensor(&b).map(|ir| ir.to_string()).collect();
        let expected: Vec<String> = arr(&p["product"]).iter().map(|s| string(s).to_string()).collect();
        assert_eq!(got, expected, "{a} x {b}");
    }
    let expected: Vec<String> = arr(&d["irrep_iterator_first_8"]).iter().map(|s| string(s).to_string()).collect();
    let got: Vec<String> = irreps::Irrep::iter_all().take(expected.len()).map(|ir| ir.to_string()).collect();
    assert_eq!(got, expected);
}

#[test]
fn irreps_edge_case_strings() {
    let d = load("irreps.json");
    for c in arr(&d["edge_case_strings"]) {
        let input = string(&c["input"]);
        let parsed = input.parse::<Irreps>();
        if c["error"].as_bool().expect("error flag") {
            let e = parsed.expect_err(&format!("{input:?} should be rejected, as e3nn does"));
            assert!(e.to_string().contains(input), "error message should quote the input: {e}");
        } else {
            let ir = parsed.unwrap_or_else(|e| panic!("{input:?} should parse, as in e3nn: {e}"));
            assert_eq!(ir.to_string(), string(&c["repr"]), "{input:?}");
            assert_eq!(ir.dim(), int(&c["dim"]), "{input:?}");
        }
    }
}

// ---------------------------------------------------------------------------------------------

fn parse_ls(key: &str) -> Vec<usize> {
    key.split(',').map(|s| s.trim().parse().expect("an l")).collect()
}

#[test]
fn spherical_harmonics_values() {
    let d = load("spherical_harmonics.json");
    let vectors = vec3s(&d["vectors"]);
    let sh = d["sh"].as_object().expect("sh");
    assert!(!sh.is_empty());
    for (norm_name, by_key) in sh {
        let norm: Normalization = norm_name.parse().unwrap();
        for (key, expected) in by_key.as_object().expect("keys") {
            let s = SphericalHarmonics::new(&parse_ls(key), true, norm);
            assert_close(&s.compute(&vectors), &flat(expected), &format!("sh {norm_name} ls={key}"));
        }
    }
    // normalize = False, component, on the non-unit rows.
    let num_unit = int(&d["num_unit"]);
    let raw = &vectors[num_unit..];
    for (l, expected) in d["sh_normalize_false_component_on_raw"].as_object().unwrap() {
        let s = SphericalHarmonics::new(&parse_ls(l), false, Normalization::Component);
        assert_close(&s.compute(raw), &flat(expected), &format!("sh normalize=False l={l}"));
    }
    let basis = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    for (l, key) in [(1, "basis_vectors_component_l1"), (2, "basis_vectors_component_l2")] {
        let s = SphericalHarmonics::new(&[l], true, Normalization::Component);
        assert_close(&s.compute(&basis), &flat(&d[key]), key);
    }
    for (l, expected) in d["zero_vector_normalize_true_component"].as_object().unwrap() {
        let s = SphericalHarmonics::new(&parse_ls(l), true, Normalization::Component);
        assert_close(&s.compute(&[[0.0; 3]]), &flat(expected), &format!("sh of zero vector l={l}"));
    }
}

#[test]
fn spherical_harmonics_equivariance_cases() {
    let d = load("spherical_harmonics.json");
    for (k, rot) in arr(&d["equivariance"]["rotations"]).iter().enumerate() {
        let [a, b, c] = angles(&rot["angles"]);
        let r = rotation::angles_to_matrix(a, b, c);
        assert_close(r.as_flattened(), &flat(&rot["R"]), &format!("rotation {k}: R"));
        for (l, dm) in rot["D"].as_object().unwrap() {
            let l: usize = l.parse().unwrap();
            assert_close(&wigner_d(l, a, b, c), &flat(dm), &format!("rotation {k}: D{l}"));
        }
        let rotated = vec3s(&rot["rotated_vectors"]);
        for (l, expected) in rot["sh_component_of_rotated"].as_object().unwrap() {
            let s = SphericalHarmonics::new(&parse_ls(l), true, Normalization::Component);
            assert_close(&s.compute(&rotated), &flat(expected), &format!("rotation {k}: Y{l}(Rv)"));
        }
    }
}

// ---------------------------------------------------------------------------------------------

#[test]
fn wigner_3j_triples() {
    let d = load("wigner_3j.json");
    let triples = arr(&d["triples"]);
    assert!(!triples.is_empty());
    for t in triples {
        let (l1, l2, l3) = (int(&t["l1"]), int(&t["l2"]), int(&t["l3"]));
        let shape: Vec<usize> = arr(&t["shape"]).iter().map(int).collect();
        assert_eq!(shape, vec![2 * l1 + 1, 2 * l2 + 1, 2 * l3 + 1]);
        let c = wigner_3j(l1, l2, l3).unwrap_or_else(|| panic!("({l1},{l2},{l3}) should be allowed"));
        assert_close(&c, &flat(&t["C"]), &format!("w3j({l1},{l2},{l3})"));
    }
    // All triangle triples up to lmax are in the file, and no others.
    let lmax = int(&d["lmax"]);
    let count = (0..=lmax)
        .flat_map(|a| (0..=lmax).flat_map(move |b| (0..=lmax).map(move |c| (a, b, c))))
        .filter(|&(a, b, c)| wigner_3j(a, b, c).is_some())
        .count();
    assert_eq!(count, triples.len());
}

#[test]
fn wigner_d_cases() {
    let d = load("wigner_d.json");
    let cases: Vec<&Value> = arr(&d["cases"]).iter().chain(arr(&d["special"])).collect();
    assert!(!cases.is_empty());
    for (k, case) in cases.iter().enumerate() {
        let [a, b, c] = angles(&case["angles"]);
        let r = rotation::angles_to_matrix(a, b, c);
        assert_close(r.as_flattened(), &flat(&case["R"]), &format!("case {k}: angles_to_matrix"));
        for (l, dm) in case["D"].as_object().unwrap() {
            let l: usize = l.parse().unwrap();
            assert_close(&wigner_d(l, a, b, c), &flat(dm), &format!("case {k}: D{l}"));
        }
        if let Some(expected) = case.get("matrix_to_angles_of_R") {
            let got = rotation::matrix_to_angles(&mat3(&case["R"]));
            let expected = angles(expected);
            // Compare modulo 2π (atan2's branch may differ by a full turn at ±π).
            let wrapped: Vec<f64> = got
                .iter()
                .zip(&expected)
                .map(|(g, e)| {
                    let d = (g - e).rem_euclid(std::f64::consts::TAU);
                    d.min(std::f64::consts::TAU - d)
                })
                .collect();
            assert_close(&wrapped, &[0.0; 3], &format!("case {k}: matrix_to_angles"));
        }
    }
    let e = &d["elementary"];
    let t = num(&e["angle"]);
    assert_close(rotation::matrix_x(t).as_flattened(), &flat(&e["matrix_x"]), "matrix_x");
    assert_close(rotation::matrix_y(t).as_flattened(), &flat(&e["matrix_y"]), "matrix_y");
    assert_close(rotation::matrix_z(t).as_flattened(), &flat(&e["matrix_z"]), "matrix_z");
    for (l, gens) in d["so3_generators"].as_object().unwrap() {
        let l: usize = l.parse().unwrap();
        let got: Vec<f64> = so3_generators(l).concat();
        assert_close(&got, &flat(gens), &format!("so3_generators({l})"));
    }
    let p = &d["parity"];
    let ir = irreps(&p["irreps"]);
    assert_close(&ir.d_from_matrix(&mat3(&p["R_proper"])), &flat(&p["D_from_matrix_proper"]), "D_from_matrix proper");
    assert_close(
        &ir.d_from_matrix(&mat3(&p["R_improper"])),
        &flat(&p["D_from_matrix_improper"]),
        "D_from_matrix improper",
    );
    let perm: Vec<usize> = arr(&d["l1_permutation"]).iter().map(int).collect();
    assert_eq!(perm, vec![0, 1, 2], "e3nn 0.6 has no l=1 permutation");
}

// ---------------------------------------------------------------------------------------------

fn rank2(formula: &str) -> Rank2 {
    match formula {
        "ij" => Rank2::General,
        "ij=ji" => Rank2::Symmetric,
        other => panic!("unsupported formula {other:?}"),
    }
}

#[test]
fn cartesian_change_of_basis() {
    let d = load("cartesian.json");
    for key in ["rtp_ij", "rtp_ij_eq_ji"] {
        let r = &d[key];
        let kind = rank2(string(&r["formula"]));
        for (_, ir) in r["irreps_in"].as_object().unwrap() {
            assert_eq!(string(ir), "1o", "{key}: only 1o ⊗ 1o is supported");
        }
        assert_eq!(kind.irreps().to_string(), string(&r["irreps_out"]), "{key}: irreps_out");
        let shape: Vec<usize> = arr(&r["change_of_basis_shape"]).iter().map(int).collect();
        assert_eq!(shape, vec![kind.dim(), 3, 3]);
        let q = kind.change_of_basis();
        assert_close(&q, &flat(&r["change_of_basis"]), &format!("{key}: change_of_basis"));
        let (xs, ys, outs) = (rows(&r["forward_x"]), rows(&r["forward_y"]), rows(&r["forward_out"]));
        for ((x, y), out) in xs.iter().zip(&ys).zip(&outs) {
            let t: [f64; 9] = std::array::from_fn(|k| x[k / 3] * y[k % 3]);
            assert_close(&kind.from_cartesian(&t), out, &format!("{key}: forward"));
        }
    }
    let to9 = |m: &Vec<f64>| -> [f64; 9] { m.clone().try_into().expect("3x3") };
    let c = &d["cartesian_ij"];
    let kind = rank2(string(&c["formula"]));
    assert_eq!(kind.irreps().to_string(), string(&c["irreps"]));
    for ((m, coeffs), back) in
        rows(&c["matrices"]).iter().zip(rows(&c["from_cartesian"])).zip(rows(&c["to_cartesian_of_coeffs"]))
    {
        assert_close(&kind.from_cartesian(&to9(m)), &coeffs, "cartesian_ij: from_cartesian");
        assert_close(&kind.to_cartesian(&coeffs), &back, "cartesian_ij: to_cartesian");
    }
    let c = &d["cartesian_ij_eq_ji"];
    let kind = rank2(string(&c["formula"]));
    assert_eq!(kind.irreps().to_string(), string(&c["irreps"]));
    for ((m, coeffs), back) in
        rows(&c["matrices"]).iter().zip(rows(&c["from_cartesian"])).zip(rows(&c["to_cartesian_of_coeffs"]))
    {
        assert_close(&kind.from_cartesian(&to9(m)), &coeffs, "cartesian_ij_eq_ji: from_cartesian");
        assert_close(&kind.to_cartesian(&coeffs), &back, "cartesian_ij_eq_ji: to_cartesian");
    }
    for ((m, coeffs), back) in rows(&c["general_matrices"])
        .iter()
        .zip(rows(&c["from_cartesian_of_general"]))
        .zip(rows(&c["to_cartesian_of_general_coeffs"]))
    {
        assert_close(&kind.from_cartesian(&to9(m)), &coeffs, "cartesian_ij_eq_ji: from_cartesian of general");
        assert_close(&kind.to_cartesian(&coeffs), &back, "cartesian_ij_eq_ji: symmetric part");
    }
    let e = &d["equivariance"];
    let r = mat3(&e["R"]);
    let [a, b, g] = angles(&e["angles"]);
    assert_close(rotation::angles_to_matrix(a, b, g).as_flattened(), r.as_flattened(), "equivariance: R");
    for (kind, d_key, mats, coeffs) in [
        (Rank2::General, "D_ij", "matrices_rotated", "from_cartesian_ij_rotated"),
        (Rank2::Symmetric, "D_ij_eq_ji", "sym_matrices_rotated", "from_cartesian_ij_eq_ji_rotated"),
    ] {
        assert_close(&kind.irreps().d_from_matrix(&r), &flat(&e[d_key]), d_key);
        for (m, expected) in rows(&e[mats]).iter().zip(rows(&e[coeffs])) {
            assert_close(&kind.from_cartesian(&to9(m)), &expected, coeffs);
        }
    }
}

// ---------------------------------------------------------------------------------------------

fn check_instructions(tp: &TensorProduct, expected: &Value, what: &str) {
    let expected = arr(expected);
    assert_eq!(tp.instructions().len(), expected.len(), "{what}: number of paths");
    for (k, (ins, e)) in tp.instructions().iter().zip(expected).enumerate() {
        let ctx = format!("{what}: path {k}");
        assert_eq!((ins.i_in1, ins.i_in2, ins.i_out), (int(&e["i_in1"]), int(&e["i_in2"]), int(&e["i_out"])), "{ctx}");
        assert_eq!(ins.mode, string(&e["connection_mode"]).parse::<ConnectionMode>().unwrap(), "{ctx}");
        assert_eq!(ins.has_weight, e["has_weight"].as_bool().unwrap(), "{ctx}");
        assert_close(&[ins.path_weight], &[num(&e["path_weight"])], &format!("{ctx}: path_weight"));
        assert_eq!(ins.path_shape, arr(&e["path_shape"]).iter().map(int).collect::<Vec<_>>(), "{ctx}: path_shape");
    }
}

fn check_outputs(tp: &TensorProduct, case: &Value, weight: &[f64], outputs: &Value, what: &str) {
    let (x1, x2, out) = (rows(&case["x1"]), rows(&case["x2"]), rows(outputs));
    assert!(!out.is_empty());
    for (s, ((a, b), o)) in x1.iter().zip(&x2).zip(&out).enumerate() {
        assert_close(&tp.forward(a, b, weight).unwrap(), o, &format!("{what}: sample {s}"));
    }
}

/// `equivariance[]` entries: our D matrices equal e3nn's, and f(D x) = D_out f(x).
fn check_equivariance(case: &Value, ins: &[&Irreps], out: &Irreps, f: &dyn Fn(&[Vec<f64>]) -> Vec<f64>, what: &str) {
    for e in arr(&case["equivariance"]) {
        let kind = string(&e["kind"]);
        let r = mat3(&e["R"]);
        let ctx = format!("{what}: {kind} rotation");
        for (irr, dm) in ins.iter().zip(arr(&e["D_inputs"])) {
            assert_close(&irr.d_from_matrix(&r), &flat(dm), &format!("{ctx}: D_in"));
        }
        let d_out = irr_d(out, &r);
        assert_close(&d_out, &flat(&e["D_out"]), &format!("{ctx}: D_out"));
        let rotated: Vec<Vec<Vec<f64>>> = arr(&e["rotated_inputs"]).iter().map(rows).collect();
        let n = rotated[0].len();
        let expected = rows(&e["output_of_rotated"]);
        for s in 0..n {
            let xs: Vec<Vec<f64>> = rotated.iter().map(|x| x[s].clone()).collect();
            assert_close(&f(&xs), &expected[s], &format!("{ctx}: output of rotated input {s}"));
        }
        // and the rotated inputs are D x of the original inputs
        let originals: Vec<Vec<Vec<f64>>> = match ins.len() {
            1 => vec![rows(&case["x"])],
            _ => vec![rows(&case["x1"]), rows(&case["x2"])],
        };
        for ((irr, orig), rot) in ins.iter().zip(&originals).zip(&rotated) {
            let dm = irr.d_from_matrix(&r);
            for (x, rx) in orig.iter().zip(rot) {
                assert_close(&matvec(&dm, x), rx, &format!("{ctx}: D x"));
            }
        }
    }
}

fn irr_d(irr: &Irreps, r: &Mat3) -> Vec<f64> {
    irr.d_from_matrix(r)
}

#[test]
fn tensor_product_fully_connected() {
    let d = load("tensor_product.json");
    let c = &d["fully_connected"];
    let (i1, i2, o) = (irreps(&c["irreps_in1"]), irreps(&c["irreps_in2"]), irreps(&c["irreps_out"]));
    let inorm: IrrepNormalization = string(&c["irrep_normalization"]).parse().unwrap();
    let pnorm: PathNormalization = string(&c["path_normalization"]).parse().unwrap();
    let tp = TensorProduct::fully_connected_with(&i1, &i2, &o, inorm, pnorm).unwrap();
    assert_eq!(tp.weight_numel(), int(&c["weight_numel"]));
    check_instructions(&tp, &c["instructions"], "fully_connected");
    let w = flat(&c["weight"]);
    check_outputs(&tp, c, &w, &c["outputs"], "fully_connected");
    // Each path on its own.
    let (x1, x2) = (rows(&c["x1"]), rows(&c["x2"]));
    for (k, per_path) in arr(&c["per_path_outputs"]).iter().enumerate() {
        for (s, expected) in rows(per_path).iter().enumerate() {
            assert_close(&tp.forward_path(k, &x1[s], &x2[s], &w).unwrap(), expected, &format!("path {k} sample {s}"));
        }
    }
    for v in arr(&c["normalization_variants"]) {
        let (inn, pn) = (string(&v["irrep_normalization"]), string(&v["path_normalization"]));
        let tpv = TensorProduct::fully_connected_with(&i1, &i2, &o, inn.parse().unwrap(), pn.parse().unwrap()).unwrap();
        let pw: Vec<f64> = tpv.instructions().iter().map(|i| i.path_weight).collect();
        assert_close(&pw, &flat(&v["path_weights"]), &format!("{inn}/{pn}: path weights"));
        check_outputs(&tpv, c, &w, &v["outputs"], &format!("{inn}/{pn}"));
    }
    check_equivariance(c, &[&i1, &i2], &o, &|xs| tp.forward(&xs[0], &xs[1], &w).unwrap(), "fully_connected");
}

#[test]
fn tensor_product_elementwise() {
    let d = load("tensor_product.json");
    let c = &d["elementwise"];
    let tp = TensorProduct::elementwise(&irreps(&c["irreps_in1_given"]), &irreps(&c["irreps_in2_given"])).unwrap();
    assert_eq!(tp.irreps_in1().to_string(), string(&c["irreps_in1"]));
    assert_eq!(tp.irreps_in2().to_string(), string(&c["irreps_in2"]));
    assert_eq!(tp.irreps_out().to_string(), string(&c["irreps_out"]));
    assert_eq!(tp.weight_numel(), int(&c["weight_numel"]));
    check_instructions(&tp, &c["instructions"], "elementwise");
    check_outputs(&tp, c, &[], &c["outputs"], "elementwise");
    let (i1, i2, o) = (tp.irreps_in1().clone(), tp.irreps_in2().clone(), tp.irreps_out().clone());
    check_equivariance(c, &[&i1, &i2], &o, &|xs| tp.forward(&xs[0], &xs[1], &[]).unwrap(), "elementwise");
}

#[test]
fn tensor_product_full() {
    let d = load("tensor_product.json");
    let c = &d["full"];
    let tp = TensorProduct::full(&irreps(&c["irreps_in1"]), &irreps(&c["irreps_in2"])).unwrap();
    assert_eq!(tp.irreps_out().to_string(), string(&c["irreps_out"]));
    assert_eq!(tp.weight_numel(), int(&c["weight_numel"]));
    check_instructions(&tp, &c["instructions"], "full");
    check_outputs(&tp, c, &[], &c["outputs"], "full");
}

#[test]
fn linear() {
    let d = load("tensor_product.json");
    let c = &d["linear"];
    let (i, o) = (irreps(&c["irreps_in"]), irreps(&c["irreps_out"]));
    let pnorm: PathNormalization = string(&c["path_normalization"]).parse().unwrap();
    let lin = Linear::with_normalization(&i, &o, false, pnorm).unwrap();
    assert_eq!(lin.weight_numel(), int(&c["weight_numel"]));
    let expected = arr(&c["instructions"]);
    assert_eq!(lin.instructions().len(), expected.len());
    for (ins, e) in lin.instructions().iter().zip(expected) {
        assert_eq!((ins.i_in, ins.i_out), (int(&e["i_in"]), int(&e["i_out"])));
        assert_eq!(ins.path_shape.to_vec(), arr(&e["path_shape"]).iter().map(int).collect::<Vec<_>>());
        assert_close(&[ins.path_weight], &[num(&e["path_weight"])], "linear path_weight");
    }
    let w = flat(&c["weight"]);
    let xs = rows(&c["x"]);
    for (x, out) in xs.iter().zip(rows(&c["outputs"])) {
        assert_close(&lin.forward(x, &w, &[]).unwrap(), &out, "linear outputs");
    }
    let b = &c["with_biases"];
    let lin_b = Linear::with_normalization(&i, &o, true, pnorm).unwrap();
    assert_eq!(lin_b.bias_numel(), int(&b["bias_numel"]));
    let bias_outs: Vec<usize> = arr(&b["bias_instructions"]).iter().map(|e| int(&e["i_out"])).collect();
    assert_eq!(lin_b.bias_blocks().iter().map(|b| b.0).collect::<Vec<_>>(), bias_outs);
    let bias = flat(&b["bias"]);
    for (x, out) in xs.iter().zip(rows(&b["outputs"])) {
        assert_close(&lin_b.forward(x, &w, &bias).unwrap(), &out, "linear with biases");
    }
    check_equivariance(c, &[&i], &o, &|xs| lin.forward(&xs[0], &w, &[]).unwrap(), "linear");
}
