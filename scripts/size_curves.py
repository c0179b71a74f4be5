#!/usr/bin/env python3
"""Validation force error against training CPU time for the backbone size study (issue 12, step 3).

Reads the per-epoch history that `hip train` stores in each checkpoint (`hip.training`: CPU
seconds and validation MAEs after every epoch) and the MACE reference's `curve.tsv`
(`scripts/mace_budget.py`), prints one table row per run (epochs, final point, best point) and draws val F MAE against CPU seconds, one line per run.

    python3 scripts/size_curves.py OUT.svg LABEL=CHECKPOINT.safetensors ... [LABEL=curve.tsv ...]

A run's line ends at its budget; runs with different budgets use different schedules (the
learning rate anneals over each run's own budget), so compare the end points of equal budgets.
"""
import sys

from training_log import training_metadata


def checkpoint_curve(path):
    history = training_metadata(path)["history"]
    return [(h["cpu_s"], h["val_energy_mae"], h["val_forces_mae"]) for h in history]


def tsv_curve(path):
    rows = []
    with open(path) as f:
        next(f)
        for line in f:
            _, cpu, e, fm = line.split("\t")
            rows.append((float(cpu), float(e), float(fm)))
    return rows


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out = sys.argv[1]
    runs = []
    for arg in sys.argv[2:]:
        label, _, path = arg.partition("=")
        if not path:
            sys.exit(f"{arg}: expected LABEL=PATH")
        try:
            rows = tsv_curve(path) if path.endswith(".tsv") else checkpoint_curve(path)
        except (OSError, KeyError, ValueError, StopIteration) as e:
            sys.exit(f"{path}: cannot read a training curve ({e})")
        if not rows:
            sys.exit(f"{path}: the curve has no epochs")
        runs.append((label, rows))

    print("| run | epochs | CPU s | val E MAE (eV) | val F MAE (eV/Å) | best F MAE (at CPU s) |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    for label, rows in runs:
        cpu, e, fm = rows[-1]
        best = min(rows, key=lambda r: r[2])
        print(f"| {label} | {len(rows)} | {cpu:.0f} | {e:.4f} | {fm:.4f} | {best[2]:.4f} ({best[0]:.0f}) |")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, rows in runs:
        ax.plot([r[0] for r in rows], [r[2] for r in rows], marker="o", ms=3, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training CPU seconds (one thread)")
    ax.set_ylabel("validation F MAE (eV/Å)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out)
    print(f"\nplot: {out}")


if __name__ == "__main__":
    main()
