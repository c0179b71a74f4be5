#!/usr/bin/env bash
# Data v2 generation in the background, one worker (resumable: finished shards are skipped).
# Shards: datasets/shards-v2/gfn2/*.pkl.gz; log: datasets/shards-v2/generate.log.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 PYTHONWARNINGS=ignore
exec python3 datasets/generate.py --level gfn2 --workers "${WORKERS:-1}" --out "${OUT:-datasets/gfn2-v2.h5}" "$@"
