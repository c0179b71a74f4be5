#!/bin/bash
# Interleaved A/B of two builds on issue 35's measures: ROUNDS alternations of A then B, each running
# `hip bench train --reps 2` (shipped HIP configuration, 64 samples of data v2, f64 and f32) and the
# `roofline` example at 30 atoms (f64 and f32), one thread each. JSON files into OUT.
#   scripts/ab-bench.sh A B OUT [ROUNDS]     # A, B: labels; /tmp/hip-A and /tmp/roofline-A are A's binaries
set -euo pipefail
a=$1 b=$2 out=$3 rounds=${4:-6}
export RAYON_NUM_THREADS=1 OMP_NUM_THREADS=1 CANDLE_GRAD_DO_NOT_DETACH=1
cd "$(dirname "$0")/.."
mkdir -p "$out"
for i in $(seq 1 "$rounds"); do
  for v in "$a" "$b"; do
    "/tmp/hip-$v" bench train --reps 2 --out "$out/train-$v-$i.json" > /dev/null 2>&1
    "/tmp/roofline-$v" --atoms 30 --samples 16 --dtype f64 --json "$out/roof64-$v-$i.json" > /dev/null 2>&1
    "/tmp/roofline-$v" --atoms 30 --samples 16 --dtype f32 --json "$out/roof32-$v-$i.json" > /dev/null 2>&1
  done
done
