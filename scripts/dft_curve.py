#!/usr/bin/env python3
"""Issue 36, item 4: the learning curve of a DFT fine-tune against the number of wB97X Hessians.

    python3 scripts/dft_curve.py --sizes 8,16,24 [--config models/v7-dft/dft.toml] [--out reports/dft/curve]

For each size N (a prefix of `datasets/shards-dft/selection.json`'s order, all of whose samples
must be labelled or failed): `datasets/dft_rb.py assemble --limit N`, then `hip train --init-from
models/hip-default.safetensors` with the config (the checkpoint `models/v7-dft/dft-N.safetensors`;
an existing one is kept, so a rerun only adds sizes), then `hip eval` of the result against
wB97X/6-31G(d) on the HORM sample (direct and autodiff; all samples and the TSs) — the sample shares
no composition with the fine-tuning geometries (`dft_rb.py select` checks it). N = 0 is the shipped
model. GFN2-xTB itself is the floor to beat (`reports/dft/`). Writes OUT/curve.json and OUT/README.md.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dft_table  # noqa: E402

HIP = dft_table.HIP
SHIPPED = os.path.join(ROOT, "models", "hip-default.safetensors")
KEYS = [("hessian_mae", "H MAE", 3), ("lambda1_mae", "λ₁ MAE", 3), ("cos_v1", "\\|cos v₁\\|", 3),
        ("frequency_mae_cm", "freq. MAE (cm⁻¹)", 1)]


def ready(n):
    """Whether the first n selected samples are all labelled (or failed)."""
    work = os.path.join(ROOT, "datasets", "shards-dft")
    order = json.load(open(os.path.join(work, "selection.json")))["order"][:n]
    done = lambda i, ext: os.path.exists(os.path.join(work, "wb97x", f"s{i:05d}.{ext}"))  # noqa: E731
    return len(order) == n and all(done(i, "npz") or done(i, "failed") for i in order)


def fine_tune(n, config):
    data = os.path.join(ROOT, "target", f"wb97x-rb-{n}.h5")
    subprocess.run([sys.executable, os.path.join(ROOT, "datasets", "dft_rb.py"), "assemble", "--limit", str(n),
                    "--out", data], check=True)
    ckpt = os.path.join(ROOT, "models", "v7-dft", f"dft-{n}.safetensors")
    if not os.path.exists(ckpt):
        env = dict(os.environ, CANDLE_GRAD_DO_NOT_DETACH="1", RAYON_NUM_THREADS="1", OMP_NUM_THREADS="1")
        log = open(ckpt.replace(".safetensors", ".log"), "w")
        subprocess.run([HIP, "train", "--data", data, "--config", config, "--init-from", SHIPPED, "--out", ckpt],
                       check=True, env=env, cwd=ROOT, stderr=log, stdout=log)
        log.close()
        thin_log(ckpt.replace(".safetensors", ".log"))
    return ckpt


def thin_log(path, every=250):
    """Keeps a training log small: every line but the epoch lines, and every `every`-th epoch (and the
    last). The checkpoint holds the full history."""
    lines = [ln for ln in open(path, encoding="utf8", errors="replace").read().replace("\r", "\n").split("\n")
             if ln.strip()]
    epochs = [ln for ln in lines if re.match(r"^epoch \d+/\d+: train loss", ln)]
    keep = {ln for k, ln in enumerate(epochs) if k % every == 0 or k == len(epochs) - 1}
    with open(path, "w") as f:
        for ln in lines:
            if (ln.startswith("epoch ") and ln in keep) or not ln.startswith("epoch "):
                f.write(ln + "\n")


def horm_rows(model):
    horm = os.path.join(ROOT, "target", "horm_sample_100.h5")
    if not os.path.exists(horm):
        subprocess.run([sys.executable, os.path.join(ROOT, "datasets", "horm.py"), "import",
                        os.path.join(ROOT, "datasets", "horm", "sample_100.lmdb"), horm], check=True)
    out = {}
    for method in ("direct", "autodiff"):
        rep = dft_table.evaluate(horm, "test", ["--model", model, "--method", method])
        out[method] = {"all": dft_table.combine([rep]), "ts": dft_table.combine([rep], "ts")}
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", required=True, help="comma-separated numbers of selected samples")
    p.add_argument("--config", default=os.path.join(ROOT, "models", "v7-dft", "dft.toml"))
    p.add_argument("--out", default=os.path.join(ROOT, "reports", "dft", "curve"))
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    t0 = time.time()
    points = [{"n": 0, "model": os.path.relpath(SHIPPED, ROOT), "horm": horm_rows(SHIPPED)}]
    for n in [int(s) for s in a.sizes.split(",")]:
        if not ready(n):
            print(f"size {n}: not all of the first {n} selected samples are labelled yet; skipped")
            continue
        ckpt = fine_tune(n, a.config)
        import h5py
        with h5py.File(os.path.join(ROOT, "target", f"wb97x-rb-{n}.h5"), "r") as f:
            splits = list(f["split"][:])
        points.append({"n": n, "train": splits.count(0), "val": splits.count(1),
                       "model": os.path.relpath(ckpt, ROOT), "horm": horm_rows(ckpt)})
    floor = json.load(open(os.path.join(ROOT, "reports", "dft", "dft.json")))["reports"]
    gfn2 = floor["HORM sample (T1x geometries) | GFN2-xTB itself"]
    gfn2 = {"all": dft_table.combine(gfn2), "ts": dft_table.combine(gfn2, "ts")}
    json.dump({"points": points, "gfn2": gfn2, "config": os.path.relpath(a.config, ROOT),
               "command": " ".join(sys.argv), "wall_s": time.time() - t0},
              open(os.path.join(a.out, "curve.json"), "w"), indent=1)
    md = ["# DFT fine-tune: HORM sample against wB97X/6-31G(d), by number of DFT Hessians", "",
          f"`python3 scripts/dft_curve.py --sizes {a.sizes}` (config `{os.path.relpath(a.config, ROOT)}`; "
          "N = selected samples labelled, split into the fine-tune's train and val parts by the source's "
          "molecule groups; 0 = the shipped model). Graded like the paper (`hip eval`; mass-weighted, "
          "Eckart-projected).", "",
          "| N (train / val) | method | subset | n | " + " | ".join(k[1] for k in KEYS) + " |",
          "| --- | --- | --- | ---: | " + " | ".join("---:" for _ in KEYS) + " |"]
    fmt = lambda c: " | ".join(f"{c[k]:.{d}f}" if c.get(k) is not None else "–" for k, _, d in KEYS)  # noqa: E731
    for pt in points:
        size = "0 (shipped)" if pt["n"] == 0 else f"{pt['n']} ({pt['train']} / {pt['val']})"
        for method in ("direct", "autodiff"):
            for subset in ("all", "ts"):
                c = pt["horm"][method][subset]
                md.append(f"| {size} | {method} | {subset} | {c['n']} | {fmt(c)} |")
    for subset in ("all", "ts"):
        md.append(f"| GFN2-xTB itself (the floor) | – | {subset} | {gfn2[subset]['n']} | {fmt(gfn2[subset])} |")
    with open(os.path.join(a.out, "README.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
