#!/usr/bin/env python3
"""Tabulates the head ablation (scripts/ablation-head.sh): mean (and min–max over seeds) of the
direct-Hessian validation metrics of every variant, beside the frozen backbone's autodiff
Hessian, into DIR/ABLATION.md (DIR: the first argument, default models/ablation-v1)."""
import glob
import json
import os
import re
import sys

D = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "models", "ablation-v1")
KEYS = [("hessian_mae", "H MAE"), ("eigenvalue_mae", "eig MAE"), ("lambda1_mae", "λ₁ MAE"), ("cos_v1", "|cos v₁|"),
        ("neg_count_agreement", "neg-count agr."), ("frequency_mae_cm", "freq MAE (cm⁻¹)"), ("zpe_error_ev", "ZPE err (eV)")]


def cell(vals):
    vals = [v for v in vals if v is not None]
    if not vals:
        return "–"
    m = sum(vals) / len(vals)
    return f"{m:.3f}" if len(vals) == 1 else f"{m:.3f} ({min(vals):.3f}–{max(vals):.3f})"


def main():
    runs = {}
    for f in sorted(glob.glob(os.path.join(D, "runs", "*.eval.json"))):
        v, seed = re.match(r"(.+)-s(\d+)\.eval\.json", os.path.basename(f)).groups()
        log = open(f.replace(".eval.json", ".log")).read()
        ep = re.findall(r"done: (\d+) epochs", log)
        runs.setdefault(v, []).append((json.load(open(f)), int(ep[0]) if ep else None, seed))
    ad = json.load(open(os.path.join(D, "ef-baseline-autodiff.eval.json")))
    lines = ["| variant | seeds | epochs | " + " | ".join(k[1] for k in KEYS) + " |",
             "| --- | --- | --- | " + " | ".join("---" for _ in KEYS) + " |",
             "| **autodiff of the frozen E+F backbone** (reference) | – | – | " +
             " | ".join(cell([ad["hessian"][k]]) for k, _ in KEYS) + " |"]
    for v, rs in sorted(runs.items()):
        eps = [e for _, e, _ in rs if e]
        epochs = round(sum(eps) / len(eps)) if eps else "–"
        lines.append(f"| {v} | {len(rs)} | {epochs} | " +
                     " | ".join(cell([r["hessian"][k] for r, _, _ in rs]) for k, _ in KEYS) + " |")
    out = os.path.join(D, "ABLATION.md")
    body = open(out).read().split("<!-- table -->")[0] if os.path.exists(out) else ""
    with open(out, "w") as f:
        f.write(body + "<!-- table -->\n" + "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
