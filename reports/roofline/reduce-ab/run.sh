#!/bin/bash
# interleaved A/B: main (pre-merge, /tmp/hip-x, /tmp/roofline-main) vs merged (/tmp/hip-merged, /tmp/roofline-merged)
export RAYON_NUM_THREADS=1 OMP_NUM_THREADS=1 CANDLE_GRAD_DO_NOT_DETACH=1
cd /work/main
for i in 1 2 3 4 5 6; do
  for v in main merged; do
    bin=/tmp/hip-x; [ $v = merged ] && bin=/tmp/hip-merged
    $bin bench train --reps 2 --out /tmp/ab/train-$v-$i.json > /dev/null 2>&1
    rl=/tmp/roofline-$v
    $rl --atoms 30 --samples 16 --dtype f64 --json /tmp/ab/roof64-$v-$i.json > /dev/null 2>&1
    $rl --atoms 30 --samples 16 --dtype f32 --json /tmp/ab/roof32-$v-$i.json > /dev/null 2>&1
  done
done
echo done
