#!/usr/bin/env bash
# Runs each fuzz target for RUNS executions (default 10^6) from its committed corpus
# (fuzz/corpus/<target>, where libFuzzer also keeps the new inputs it finds); crashes go to
# fuzz/artifacts/<target>. The last lines of each run (executions, time, final stats) go to
# fuzz/logs/<target>.log. Needs the nightly toolchain and cargo-fuzz (cargo install cargo-fuzz).
#   RUNS=1000000 TARGETS="xyz npy" [MAX_TIME=seconds] scripts/fuzz.sh
# Build flags: -O (optimized) -a (debug assertions: integer overflow panics) -s none (no
# sanitizer: the code under test has no unsafe; speed goes to executions).
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
RUNS=${RUNS:-1000000}
mkdir -p logs
for t in ${TARGETS:-xyz npy text_matrix irreps train_config model_config checkpoint dataset}; do
  max_len=4096
  [ "$t" = checkpoint ] && max_len=16384
  start=$(date +%s)
  set +e
  cargo +nightly fuzz run -O -a -s none "$t" "corpus/$t" -- \
    -runs="$RUNS" ${MAX_TIME:+-max_total_time=$MAX_TIME} -max_len="$max_len" -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
    > "logs/$t.full.log" 2>&1
  rc=$?
  set -e
  { echo "# $t: RUNS=$RUNS max_len=$max_len exit=$rc wall=$(( $(date +%s) - start )) s $(date -u +%FT%TZ)";
    grep -E "^(Done|stat::|==|SUMMARY|.*panicked|.*Test unit written)" "logs/$t.full.log" | tail -20; } > "logs/$t.log"
  rm -f "logs/$t.full.log"
  cat "logs/$t.log"
done
