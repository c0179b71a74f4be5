#!/usr/bin/env python3
"""|cos v₁| against the reference's eigenvalue gap λ₂ − λ₁, per kind, from `hip eval --per-sample`
tables: v₁ is determined only up to about ‖ΔH‖ / (λ₂ − λ₁) (first-order perturbation theory), so a
model with a given Hessian error can reach |cos v₁| ≈ 1 only where the gap is large.

    python3 scripts/cos_v1_gap.py LABEL=direct.tsv LABEL=autodiff.tsv ...
"""
import csv
import sys

EDGES = [0.0, 0.005, 0.02, 0.05, 0.1, 0.2, 0.5, float("inf")]  # eV/(Å² amu); √λ × 521.5 cm⁻¹


def rows(path):
    with open(path) as f:
        return list(csv.DictReader(f, delimiter="\t"))


tables = [(a.split("=", 1)[0], rows(a.split("=", 1)[1])) for a in sys.argv[1:]]
labels = [l for l, _ in tables]
if len({tuple(r["index"] for r in t) for _, t in tables}) > 1:
    sys.exit("the tables are not of the same samples (compare like with like)")
kinds = sorted({r["kind"] for _, t in tables for r in t}) + ["all"]
print("| kind | λ₂ − λ₁ (eV/(Å² amu)) | n | " + " | ".join(f"\\|cos v₁\\| {l}" for l in labels) + " |")
print("| --- | --- | ---: | " + " | ".join("---:" for _ in labels) + " |")
for kind in kinds:
    for lo, hi in zip(EDGES, EDGES[1:]):
        cells, n = [], 0
        for _, t in tables:
            sel = [float(r["cos_v1"]) for r in t
                   if (kind == "all" or r["kind"] == kind)
                   and lo <= float(r["lambda2_ref"]) - float(r["lambda1_ref"]) < hi]
            n = len(sel)
            cells.append(f"{sum(sel) / n:.3f}" if n else "–")
        if n:
            print(f"| {kind} | {lo:g}–{hi:g} | {n} | " + " | ".join(cells) + " |")
