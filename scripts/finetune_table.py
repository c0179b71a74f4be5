#!/usr/bin/env python3
"""Issue 12's fine-tune arms side by side on the validation split (written by the commands in
`reports/v2/finetune/README.md`): per arm, direct and autodiff Hessian metrics (overall and at
TSs), F MAE, and TS searches from displaced validation TSs graded by each model's autodiff Hessian.

    python3 scripts/finetune_table.py reports/v2/finetune control taylor curvature

VARIANTS (env, comma-separated) names the TS-search variants to show; default
hip,hip_secant,autodiff.
"""
import json
import os
import sys
from pathlib import Path

out, arms = Path(sys.argv[1]), sys.argv[2:]
variants = os.environ.get("VARIANTS", "hip,hip_secant,autodiff").split(",")


def load(name):
    p = out / name
    return json.loads(p.read_text()) if p.exists() else None


def h(block, key):
    v = block["hessian"].get(key) if block else None
    return "–" if v is None else f"{v:.3f}"


print("Direct metrics on all validation samples, autodiff (AD) on 300 spread over them; each column\n"
      "compares the arms on the same samples.\n")
print("| arm | F MAE (eV/Å) | direct H MAE | direct λ₁ MAE | direct \\|cos v₁\\| | direct freq (cm⁻¹) "
      "| AD H MAE | AD λ₁ MAE | AD freq (cm⁻¹) | TS λ₁ MAE direct / AD | TS \\|cos v₁\\| direct / AD "
      f"| TS search 1-imag. graded: {' / '.join(variants)} |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
for a in arms:
    d, ad, ts = load(f"val-{a}-direct.json"), load(f"val-{a}-autodiff.json"), load(f"val-ts-{a}.json")
    if d is None:
        print(f"| {a} | not evaluated |")
        continue
    tsd = d["by_kind"].get("ts")
    tsa = ad["by_kind"].get("ts") if ad else None
    searches = " / ".join(f"{ts['summary'][v]['success']}/{ts['summary'][v]['runs']}" if ts and v in ts["summary"] else "–"
                          for v in variants)
    print(f"| {a} | {d['forces_mae_ev_a']:.4f} | {h(d, 'hessian_mae')} | {h(d, 'lambda1_mae')} | {h(d, 'cos_v1')} "
          f"| {h(d, 'frequency_mae_cm')} | {h(ad, 'hessian_mae')} | {h(ad, 'lambda1_mae')} | {h(ad, 'frequency_mae_cm')} "
          f"| {h(tsd, 'lambda1_mae')} / {h(tsa, 'lambda1_mae')} | {h(tsd, 'cos_v1')} / {h(tsa, 'cos_v1')} | {searches} |")
