#!/usr/bin/env bash
# Head ablation (issue 12): every variant in $D/*.toml (a model config; the backbone fields equal
# the frozen backbone's), head-only on that frozen E+F backbone, the same CPU-time budget
# ($D/train-head.toml: time_budget_s), seeds 0 and 1; then each is evaluated with the direct
# Hessian on 300 validation samples. Resumable: finished runs are kept.
# D: the study (default models/ablation-v1; models/head-v2 is the v2 study); $D/study.env names
# its DATA and BACKBONE (either can be overridden from the environment).
# ORDER="cfg1.toml cfg2.toml ..." runs those variants first (in that order).
set -euo pipefail
cd "$(dirname "$0")/.."
D=${D:-models/ablation-v1}
# shellcheck source=/dev/null
DATA_ENV=${DATA:-}; BACKBONE_ENV=${BACKBONE:-}; . "$D/study.env"
DATA=${DATA_ENV:-$DATA}; BACKBONE=${BACKBONE_ENV:-$BACKBONE}
for f in "$DATA" "$BACKBONE"; do
  [ -f "$f" ] || { echo "$0: $f is missing (how to make it: $D/study.env)" >&2; exit 2; }
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
