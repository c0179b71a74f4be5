#!/usr/bin/env bash
# Data v2 generation in the background (resumable: finished shards are skipped).
# Shards: datasets/shards-v2/gfn2/*.pkl.gz; log: datasets/shards-v2/generate.log.
# WORKERS=1 (default): one process; WORKERS=2: two single-threaded processes, one through the task
# list forward and one from its end (--reverse), so they meet in the middle.
# Needs: pip install -r datasets/requirements.txt
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 PYTHONWARNINGS=ignore
OUT=${OUT:-datasets/gfn2-v2.h5}
if [ "${WORKERS:-1}" -ge 2 ]; then
  python3 datasets/generate.py --level gfn2 --workers 1 --reverse --out "$OUT" "$@" &
fi
exec python3 datasets/generate.py --level gfn2 --workers 1 --out "$OUT" "$@"
