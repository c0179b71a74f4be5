#!/bin/bash
# interleaved A/B: row-wise sums only (/tmp/hip-merged, /tmp/roofline-merged) vs + short rows (/tmp/hip-short, /tmp/roofline-short)
export RAYON_NUM_THREADS=1 OMP_NUM_THREADS=1 CANDLE_GRAD_DO_NOT_DETACH=1
cd /work/main
for i in 1 2 3 4 5 6; do
  for v in merged short; do
    bin=/tmp/hip-$v
    $bin bench train --reps 2 --out /tmp/ab2/train-$v-$i.json > /dev/null 2>&1
    rl=/tmp/roofline-$v
    $rl --atoms 30 --samples 16 --dtype f64 --json /tmp/ab2/roof64-$v-$i.json > /dev/null 2>&1
    $rl --atoms 30 --samples 16 --dtype f32 --json /tmp/ab2/roof32-$v-$i.json > /dev/null 2>&1
  done
done
echo done
