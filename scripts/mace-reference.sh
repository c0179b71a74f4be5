#!/usr/bin/env bash
# The MACE reference of issue 12 (a user's alternative): mace-torch 0.3.16, 32 channels, max_L 1,
# 2 interactions, f32, one thread, on exactly our train/val samples, for a CPU budget in seconds
# (default 1800). Reports throughput (samples per CPU second) and the validation F MAE after each
# epoch in $OUT/. Usage: scripts/mace-reference.sh DATA.h5 OUT_DIR [CPU_SECONDS] [MAX_TRAIN]
set -euo pipefail
DATA=$1; OUT=$2; BUDGET=${3:-1800}; MAX=${4:-0}
mkdir -p "$OUT"
python3 datasets/to_extxyz.py "$DATA" train "$OUT/train.xyz" --max "$MAX"
python3 datasets/to_extxyz.py "$DATA" val "$OUT/val.xyz" --max 300
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 TORCH_NUM_THREADS=1
# the CPU budget is enforced with ulimit -t (CPU seconds): MACE stops when it is used up; the
# last checkpoint's validation numbers are in the log
( ulimit -t "$BUDGET"; mace_run_train --name mace-ref --train_file "$OUT/train.xyz" --valid_file "$OUT/val.xyz" \
    --energy_key REF_energy --forces_key REF_forces --model MACE --num_channels 32 --max_L 1 \
    --num_interactions 2 --r_max 5.0 --batch_size 8 --max_num_epochs 1000 --default_dtype float32 \
    --device cpu --E0s average --loss weighted --energy_weight 1 --forces_weight 25 --seed 0 \
    --work_dir "$OUT" --eval_interval 1 --error_table TotalMAE > "$OUT/mace.log" 2>&1 ) || true
grep -E "Epoch|MAE" "$OUT"/logs/*.log | tail -20 || true
