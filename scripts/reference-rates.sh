#!/usr/bin/env bash
# The local-convergence analysis at the reference TSs of the v2 validation split
# (reports/v2/TS-DIAGNOSIS.md §4; SPLIT=train: at the training TSs) for one checkpoint, saved for scripts/rates_table.py:
#   scripts/reference-rates.sh CHECKPOINT OUT.md
# Env: SPLIT (default val), TSV (the ts_variants example binary, default target/release/examples/ts_variants; build it
# with `cargo build --release -p hip-bench --example ts_variants`). One thread, ~40 CPU s.
set -euo pipefail
cd "$(dirname "$0")/.."
TSV=${TSV:-target/release/examples/ts_variants}
mkdir -p "$(dirname "$2")"
{
  echo "checkpoint: $1"
  echo
  CANDLE_GRAD_DO_NOT_DETACH=1 RAYON_NUM_THREADS=1 "$TSV" --model "$1" --split "${SPLIT:-val}" --reference-rates ts 2>/dev/null
} > "$2.tmp"
mv "$2.tmp" "$2"
