#!/usr/bin/env python3
"""Table of the reaction-mode experiment (issue 12): per arm, the validation direct-Hessian
metrics (`hip eval --json`), the TS searches (`ts_variants --variants hip`) and the local theory
on the reference surface (`ts_variants --reference-rates ts`, its printed tables).

    python3 scripts/modes_table.py reports/v2/finetune-modes control modes relmodes
"""
import json
import re
import sys
from pathlib import Path


def rates(path):
    """(TSs with ρ < 1 and one negative mode, median ρ, {bin: (bad share, median ratio)}) of the direct Hessian."""
    text = Path(path).read_text()
    m = re.search(r"^\| direct \| (\d+) \| (\d+) \| (\d+) \| ([\d.inf]+) \|", text, re.M)
    bins = {}
    for row in re.finditer(r"^\| \[(\S+), (\S+)\) \| (\d+) \| (\S+) \| (\S+) \| (\S+) \| (\S+) \| (\S+) \|", text, re.M):
        lo, hi, _, _, bad_d, _, med_d, _ = row.groups()
        bins[(lo, hi)] = (float(bad_d), float(med_d))
    return int(m.group(3)), m.group(4), bins


def main():
    out, arms = Path(sys.argv[1]), sys.argv[2:]
    print("| arm | H MAE | λ₁ MAE | \\|cos v₁\\| | freq MAE (cm⁻¹) | TS λ₁ MAE | TS \\|cos v₁\\| "
          "| TS search `hip` (1 imag., of 48) | ρ < 1, 1 neg. (of 105 TSs) | median ρ "
          "| reaction mode: ratio < ½ / median ratio | modes 0 ≤ λ < 0.5: ratio < ½ |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for arm in arms:
        ev = json.loads((out / f"val-{arm}-direct.json").read_text())
        h, ts = ev["hessian"], ev["by_kind"]["ts"]["hessian"]
        search = json.loads((out / f"val-ts-{arm}.json").read_text())["summary"]["hip"]
        ok, med, bins = rates(out / f"val-rates-{arm}.txt")
        neg, soft = bins[("-inf", "0")], bins[("0", "0.5")]
        print(f"| {arm} | {h['hessian_mae']:.4f} | {h['lambda1_mae']:.4f} | {h['cos_v1']:.4f} | "
              f"{h['frequency_mae_cm']:.2f} | {ts['lambda1_mae']:.3f} | {ts['cos_v1']:.3f} | "
              f"{search['success']} | {ok} | {med} | {neg[0]:.2f} / {neg[1]:.2f} | {soft[0]:.2f} |")


if __name__ == "__main__":
    main()
