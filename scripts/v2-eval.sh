#!/usr/bin/env bash
# Test-split evaluation of the v2 campaign (issue 12's done-criteria): HIP direct, HIP autodiff and
# the E+F baseline's autodiff on the same samples, graded by the same reference (the dataset's
# GFN2-xTB Hessians), with per-sample tables for error analysis. One evaluation per call, so the
# three can run side by side:
#   scripts/v2-eval.sh direct | hip-autodiff | ef-autodiff | claims
# Protocol (b), the head trained on the frozen E+F backbone: its autodiff Hessian *is* the E+F
# baseline's (same backbone and energy readout, only head.* trained), so it needs one run:
#   scripts/v2-eval.sh head-direct | head-claims       (HEAD: checkpoint, default models/v2/hip-head.safetensors;
#                                                        TAG: output name, default head)
# Any checkpoint and method, e.g. to choose between candidates on the validation split:
#   SPLIT=val scripts/v2-eval.sh model TAG CHECKPOINT direct|autodiff   (writes $OUT/TAG.json, .tsv)
# Env: HIP (binary, default target/release/hip), OUT (default reports/v2), MAX (samples spread
# over the split; default: all 4,665 of the test split), SPLIT (default test), DATA (default
# datasets/gfn2-train.h5; the v3 campaign: datasets/gfn2-v3.h5).
set -euo pipefail
cd "$(dirname "$0")/.."
HIP=${HIP:-target/release/hip}; OUT=${OUT:-reports/v2}; DATA=${DATA:-datasets/gfn2-train.h5}
HEAD=${HEAD:-models/v2/hip-head.safetensors}; TAG=${TAG:-head}
mkdir -p "$OUT"
run() {  # name model method
  RAYON_NUM_THREADS=1 "$HIP" eval --data "$DATA" --split "${SPLIT:-test}" ${MAX:+--max "$MAX"} --model "$2" --method "$3" \
    --json --per-sample "$OUT/$1.tsv" > "$OUT/$1.json.tmp" && mv "$OUT/$1.json.tmp" "$OUT/$1.json"
}
case "$1" in
  direct) run direct models/v2/hip-e2e.safetensors direct ;;
  hip-autodiff) run hip-autodiff models/v2/hip-e2e.safetensors autodiff ;;
  ef-autodiff) run ef-autodiff models/v2/ef-baseline.safetensors autodiff ;;
  head-direct) run "$TAG-direct" "$HEAD" direct ;;
  model) run "$2" "$3" "$4" ;;
  head-claims) python3 scripts/v2_claims.py "$OUT/$TAG-direct.json" "$OUT/ef-autodiff.json" "$OUT/ef-autodiff.json"
          python3 scripts/cos_v1_gap.py "direct=$OUT/$TAG-direct.tsv" "E+F autodiff=$OUT/ef-autodiff.tsv" ;;
  claims) python3 scripts/v2_claims.py "$OUT/direct.json" "$OUT/hip-autodiff.json" "$OUT/ef-autodiff.json"
          python3 scripts/cos_v1_gap.py "direct=$OUT/direct.tsv" "HIP autodiff=$OUT/hip-autodiff.tsv" "E+F autodiff=$OUT/ef-autodiff.tsv" ;;
  *) echo "usage: $0 direct|hip-autodiff|ef-autodiff|claims|head-direct|head-claims|model TAG CKPT METHOD" >&2; exit 2 ;;
esac
