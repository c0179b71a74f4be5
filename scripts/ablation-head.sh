#!/usr/bin/env bash
# Head ablation (issue 12): every variant in models/ablation-v1/*.toml (a model config; the
# backbone fields equal the E+F baseline's), head-only on the frozen E+F baseline backbone,
# the same CPU-time budget (train-head.toml: time_budget_s), seeds 0 and 1; then each is
# evaluated with the direct Hessian on 300 validation samples. Resumable: finished runs are kept.
# D=models/head-v2: the v2 head study (data v2, the frozen v2-prod E+F backbone).
# ORDER="cfg1.toml cfg2.toml ..." runs those variants first (in that order).
set -euo pipefail
cd "$(dirname "$0")/.."
D=${D:-models/ablation-v1}   # the study: variant configs, train-head.toml, runs/
case "$D" in
  *head-v2) DATA=${DATA:-datasets/gfn2-train.h5}; BACKBONE=${BACKBONE:-models/v2/ef-prod.safetensors} ;;
  *) # the v1 study: the v1 file without its unphysical samples
     # (python datasets/filter_v1.py datasets/gfn2-train.h5 datasets/work/gfn2-v1-filtered.h5) and the
     # v1 E+F baseline, shipped until 2026-12-02 (git show 6aa8aa0:models/ef-baseline.safetensors)
     DATA=${DATA:-datasets/work/gfn2-v1-filtered.h5}; BACKBONE=${BACKBONE:-datasets/work/ef-baseline-v1.safetensors} ;;
esac
for f in "$DATA" "$BACKBONE"; do
  [ -f "$f" ] || { echo "$0: $f is missing (see the comments at the top of this script)" >&2; exit 2; }
done
export RAYON_NUM_THREADS=1
ORDER=${ORDER:-$(ls "$D"/[A-Z]_*.toml)}
# RUNS="F:1 J:0 ..." runs exactly those variant:seed pairs, in that order
if [ -z "${RUNS:-}" ]; then
  RUNS=""
  for seed in 0 1; do
    for cfg in $ORDER; do RUNS="$RUNS $(basename "$cfg" .toml | cut -d_ -f1):$seed"; done
  done
fi
for run in $RUNS; do
  letter=${run%%:*}; seed=${run##*:}
  cfg=$(ls "$D"/"$letter"_*.toml)
  v=$(basename "$cfg" .toml)
  out="$D/runs/$v-s$seed"
  mkdir -p "$D/runs"
  [ -f "$out.eval.json" ] && continue
  sed "s/^seed = 0$/seed = $seed/" "$D/train-head.toml" > "$out.train.toml"
  sed "s/^seed = 0$/seed = $seed/" "$cfg" > "$out.model.toml"
  ${HIP:-target/ablation-bin/hip} train --data "$DATA" --config "$out.train.toml" --model-config "$out.model.toml" \
    --backbone-from "$BACKBONE" --out "$out.safetensors" > "$out.log" 2>&1
  ${HIP:-target/ablation-bin/hip} eval --data "$DATA" --split val --max 300 --model "$out.safetensors" --method direct --json \
    > "$out.eval.json.tmp" && mv "$out.eval.json.tmp" "$out.eval.json"
done
