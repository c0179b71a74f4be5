#!/usr/bin/env python3
"""One row per checkpoint from the local-convergence analysis of `ts_variants --reference-rates ts`
(reports/v2/TS-DIAGNOSIS.md §4): does the direct Hessian get the reaction mode at the reference
TSs right as training proceeds?

    python3 scripts/rates_table.py reports/v3/reference-rates/*.md

Each input is written by `scripts/reference-rates.sh CHECKPOINT OUT.md` (its first line names the
checkpoint, whose training CPU seconds the table shows). Columns: TSs where the Hessian has one negative mode and the
Newton map contracts (ρ < 1), and along the reference reaction mode (λ < 0) the share whose
curvature is below half the reference or of the other sign, and the median ratio.
"""
import os
import re
import sys


def parse(path):
    text = open(path).read()
    row = {}
    for method in ("direct", "autodiff"):
        m = re.search(rf"^\| {method} \| (\d+) \| (\d+) \| (\d+) \| ([\d.]+) \|", text, re.M)
        row[method + "_both"] = int(m.group(3)) if m else None
    m = re.search(r"^\| \[-inf, 0\) \| (\d+) \| [-\d.]+ \| ([\d.]+) \| ([\d.]+) \| ([-\d.]+) \| ([-\d.]+) \|", text, re.M)
    if m:
        row.update(n=int(m.group(1)), direct_bad=m.group(2), autodiff_bad=m.group(3), direct_med=m.group(4), autodiff_med=m.group(5))
    return row


def main():
    args = sys.argv[1:]
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from training_log import training_metadata
    print("| checkpoint | training CPU s | direct: ρ < 1, 1 neg. | direct: reaction mode ratio < ½ / median | autodiff: ρ < 1, 1 neg. | autodiff: reaction mode ratio < ½ / median |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for path in args:
        label = os.path.splitext(os.path.basename(path))[0]
        first = open(path).readline()
        ckpt = first.removeprefix("checkpoint:").strip() if first.startswith("checkpoint:") else ""
        cpu = f"{training_metadata(ckpt)['history'][-1]['cpu_s']:,.0f}" if ckpt and os.path.exists(ckpt) else ""
        r = parse(path)
        print(f"| {label} | {cpu} | {r.get('direct_both')} | {r.get('direct_bad')} / {r.get('direct_med')} | "
              f"{r.get('autodiff_both')} | {r.get('autodiff_bad')} / {r.get('autodiff_med')} |")


if __name__ == "__main__":
    main()
