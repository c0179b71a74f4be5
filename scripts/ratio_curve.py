#!/usr/bin/env python3
"""Direct Hessian against the E+F baseline's autodiff Hessian as both trainings proceed (issue 12:
is the 0.5× target a matter of compute?).

    python3 scripts/ratio_curve.py OUT_DIR HIP_SNAPSHOT_DIR EF_SNAPSHOT_DIR

Evaluates every per-epoch snapshot (`scripts/snapshot_watch.py`) on the same validation samples:
the HIP model's direct Hessian and the E+F model's autodiff Hessian (`hip eval --split val --max
300 --method direct|autodiff`), each graded by the dataset's reference Hessians. Evaluations are
cached as OUT_DIR/<snapshot>-<method>.json, so the script resumes and can be rerun as snapshots
arrive. Then it pairs each HIP snapshot with the E+F curve linearly interpolated at the same
training CPU seconds and writes OUT_DIR/ratio.tsv (one row per HIP snapshot) and
OUT_DIR/ratio.svg (H MAE, λ₁ MAE and |cos v₁| against CPU seconds, and the H-MAE ratio).

Env: HIP (binary, default target/release/hip), DATA (default datasets/gfn2-v3.h5), MAX (default
300), SPLIT (default val). One thread per evaluation (RAYON_NUM_THREADS=1).
"""
import glob
import json
import os
import subprocess
import sys

from training_log import training_metadata

METRICS = ("hessian_mae", "lambda1_mae", "cos_v1", "frequency_mae_cm")


def evaluate(out_dir, snapshot, method):
    """The snapshot's `hip eval --json` result for `method`, from the cache or a fresh run."""
    stem = os.path.splitext(os.path.basename(snapshot))[0]
    path = os.path.join(out_dir, f"{stem}-{method}.json")
    if not os.path.exists(path):
        cmd = [os.environ.get("HIP", "target/release/hip"), "eval", "--data", os.environ.get("DATA", "datasets/gfn2-v3.h5"),
               "--split", os.environ.get("SPLIT", "val"), "--max", os.environ.get("MAX", "300"),
               "--model", snapshot, "--method", method, "--json"]
        env = dict(os.environ, RAYON_NUM_THREADS="1", CANDLE_GRAD_DO_NOT_DETACH="1")
        result = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
        with open(path + ".tmp", "w") as f:
            f.write(result)
        os.replace(path + ".tmp", path)
    with open(path) as f:
        return json.load(f)


def curve(out_dir, snapshot_dir, method):
    """[(cpu_s, epoch, {metric: value})] over the snapshots of one run, in training order."""
    rows = []
    for snap in sorted(glob.glob(os.path.join(snapshot_dir, "*.safetensors"))):
        meta = training_metadata(snap)
        hessian = evaluate(out_dir, snap, method)["hessian"]
        rows.append((meta["history"][-1]["cpu_s"], meta["epochs_done"], {m: hessian[m] for m in METRICS}))
    return sorted(rows, key=lambda r: r[0])


def interpolate(rows, cpu, metric):
    """The metric of a curve at `cpu` seconds (linear between snapshots; a run's last epoch may
    overrun its budget by a few seconds, so up to 1 % past the end counts as the end); None outside
    the curve."""
    for (c0, _, m0), (c1, _, m1) in zip(rows, rows[1:]):
        if c0 <= cpu <= c1:
            t = (cpu - c0) / (c1 - c0) if c1 > c0 else 0.0
            return m0[metric] + t * (m1[metric] - m0[metric])
    if rows and rows[-1][0] <= cpu <= 1.01 * rows[-1][0]:
        return rows[-1][2][metric]
    return None


def write_table(path, hip, ef):
    lines = ["cpu_s\tepoch\t" + "\t".join(f"hip_direct_{m}\tef_autodiff_{m}" for m in METRICS) + "\tratio_hessian_mae"]
    for cpu, epoch, m in hip:
        ef_at = {k: interpolate(ef, cpu, k) for k in METRICS}
        cells = []
        for k in METRICS:
            cells += [f"{m[k]:.4f}", "" if ef_at[k] is None else f"{ef_at[k]:.4f}"]
        ratio = "" if ef_at["hessian_mae"] is None else f"{m['hessian_mae'] / ef_at['hessian_mae']:.3f}"
        lines.append(f"{cpu:.0f}\t{epoch}\t" + "\t".join(cells) + f"\t{ratio}")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def plot(path, hip, ef):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 4, figsize=(16, 3.6))
    for ax, (metric, label) in zip(axes, [("hessian_mae", "H MAE (eV/Å²)"), ("lambda1_mae", "λ₁ MAE"), ("cos_v1", "|cos v₁|")]):
        for rows, name in [(hip, "HIP direct"), (ef, "E+F autodiff")]:
            ax.plot([r[0] for r in rows], [r[2][metric] for r in rows], marker="o", label=name)
        ax.set_xlabel("training CPU s")
        ax.set_title(label)
    axes[0].legend()
    pairs = [(c, m["hessian_mae"] / e) for c, _, m in hip if (e := interpolate(ef, c, "hessian_mae"))]
    axes[3].plot([p[0] for p in pairs], [p[1] for p in pairs], marker="o")
    axes[3].axhline(0.5, linestyle="--", color="gray")
    axes[3].set_title("H MAE ratio, direct / E+F autodiff (target 0.5)")
    axes[3].set_xlabel("training CPU s")
    fig.tight_layout()
    fig.savefig(path)


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    out_dir, hip_dir, ef_dir = sys.argv[1:]
    os.makedirs(out_dir, exist_ok=True)
    hip = curve(out_dir, hip_dir, "direct")
    ef = curve(out_dir, ef_dir, "autodiff")
    write_table(os.path.join(out_dir, "ratio.tsv"), hip, ef)
    plot(os.path.join(out_dir, "ratio.svg"), hip, ef)


if __name__ == "__main__":
    main()
