#!/usr/bin/env python3
"""The model issue's done-criteria from `hip eval --json` outputs on the same split: per kind and
overall, HIP direct against HIP autodiff and the E+F baseline's autodiff, and each target checked.

    python3 scripts/v2_claims.py direct.json hip-autodiff.json ef-autodiff.json
"""
import json
import sys

names = ["HIP direct", "HIP autodiff", "E+F autodiff"]
runs = [json.load(open(p)) for p in sys.argv[1:4]]
if len({tuple(s["index"] for s in r["samples"]) for r in runs}) > 1:
    sys.exit("the three evaluations are not of the same samples (compare like with like)")
METRICS = [("energy_mae_ev", "E MAE (eV)", None), ("forces_mae_ev_a", "F MAE (eV/Å)", None),
           ("hessian_mae", "H MAE (eV/Å²)", "h"), ("eigenvalue_mae", "eigenvalue MAE", "h"),
           ("lambda1_mae", "λ₁ MAE", "h"), ("cos_v1", "\\|cos v₁\\|", "h"),
           ("neg_count_agreement", "neg. count agreement", "h"), ("frequency_mae_cm", "freq. MAE (cm⁻¹)", "h"),
           ("zpe_error_ev", "ZPE error (eV)", "h")]


def value(block, key, where):
    v = block["hessian"].get(key) if where == "h" else block.get(key)
    return float("nan") if v is None else v


def table(title, blocks):
    print(f"\n**{title}** (n = {blocks[0]['n_samples']})\n")
    print("| metric | " + " | ".join(names) + " |")
    print("| --- | " + " | ".join("---:" for _ in names) + " |")
    for key, label, where in METRICS:
        print(f"| {label} | " + " | ".join(f"{value(b, key, where):.4f}" for b in blocks) + " |")


table("all test samples", runs)
for kind in sorted(runs[0]["by_kind"]):
    table(kind, [r["by_kind"][kind] for r in runs])

d, a, e = (r["hessian"] for r in runs)
f_hip, f_ef = runs[0]["forces_mae_ev_a"], runs[2]["forces_mae_ev_a"]
checks = [
    ("direct H MAE ≤ 0.5 × E+F autodiff H MAE", d["hessian_mae"] / e["hessian_mae"], d["hessian_mae"] <= 0.5 * e["hessian_mae"]),
    ("direct λ₁ MAE ≤ 0.5 × E+F autodiff λ₁ MAE", d["lambda1_mae"] / e["lambda1_mae"], d["lambda1_mae"] <= 0.5 * e["lambda1_mae"]),
    ("direct λ₁ MAE ≤ 0.5 × HIP autodiff λ₁ MAE", d["lambda1_mae"] / a["lambda1_mae"], d["lambda1_mae"] <= 0.5 * a["lambda1_mae"]),
    ("direct \\|cos v₁\\| ≥ 0.95", d["cos_v1"], d["cos_v1"] >= 0.95),
    ("direct \\|cos v₁\\| ≥ both autodiffs'", d["cos_v1"] - max(a["cos_v1"], e["cos_v1"]), d["cos_v1"] >= max(a["cos_v1"], e["cos_v1"])),
    ("direct frequency MAE < both autodiffs'", d["frequency_mae_cm"] / min(a["frequency_mae_cm"], e["frequency_mae_cm"]),
     d["frequency_mae_cm"] < min(a["frequency_mae_cm"], e["frequency_mae_cm"])),
    ("HIP F MAE ≤ 1.1 × E+F F MAE", f_hip / f_ef, f_hip <= 1.1 * f_ef),
]
print("\n| target | value (ratio or difference) | met |\n| --- | ---: | --- |")
for label, v, ok in checks:
    print(f"| {label} | {v:.3f} | {'yes' if ok else '**no**'} |")
