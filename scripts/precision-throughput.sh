#!/usr/bin/env bash
# f32 against f64 training throughput (issue 12 step 3, issue 17): one epoch over the same
# N training samples (spread over the v2 train split) from the same initial weights, E+F
# (w_H = 0) and end-to-end HIP (w_H = 10), one thread, runs interleaved f64/f32 so machine
# load hits both alike; prints samples per process-CPU second of each run (the budget clock of
# `hip train`, validation of 8 samples included) and the final loss/val F MAE of each.
# Usage: scripts/precision-throughput.sh [HIP_BINARY] [N] [REPS] [MODEL_CONFIG]
set -euo pipefail
hip=${1:-target/release/hip}; n=${2:-1600}; reps=${3:-3}; model=${4:-models/v2/model.toml}
data=${DATA:-datasets/gfn2-train.h5}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for p in f64 f32; do
  for w in 0 10; do
    printf 'epochs = 1\nbatch_size = 8\nlr = 5e-3\nw_energy = 1.0\nw_forces = 25.0\nw_hessian = %s\nw_subspace = 0.0\nmax_train = %s\nmax_val = 8\ndtype = "%s"\n' \
      "$w" "$n" "$p" > "$dir/$p-h$w.toml"
  done
done
echo "dtype w_H rep cpu_s samples_per_cpu_s train_loss val_F_MAE"
for rep in $(seq 1 "$reps"); do
  for w in 0 10; do
    for p in f64 f32; do
      RAYON_NUM_THREADS=1 "$hip" train --data "$data" --config "$dir/$p-h$w.toml" --model-config "$model" \
        --out "$dir/$p-h$w-$rep.safetensors" >/dev/null 2>&1
      python3 - "$dir/$p-h$w-$rep.safetensors" "$p" "$w" "$rep" <<'PY'
import json, struct, sys
f, p, w, rep = sys.argv[1:]
b = open(f, "rb").read()
h = json.loads(b[8:8 + struct.unpack("<Q", b[:8])[0]])
t = json.loads(h["__metadata__"]["hip.training"])
r = t["history"][-1]
print(p, w, rep, f"{r['cpu_s']:.1f}", f"{t['n_train'] / r['cpu_s']:.1f}", f"{r['train_loss']:.5f}", f"{r['val_forces_mae']:.5f}")
PY
    done
  done
done
