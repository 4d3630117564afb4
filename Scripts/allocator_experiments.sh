#!/usr/bin/env bash
# The meta-allocator experiments of Docs/ALLOCATOR.md: `metafolio run` over 5 seeds for each
# meta-learner, each profile and each regime model; one JSON summary per run in $OUT.
#
#     Scripts/allocator_experiments.sh [OUT]   (default .build/allocator-experiments)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-.build/allocator-experiments}
mkdir -p "$OUT"
swift build -c release --product metafolio
BIN=.build/release/metafolio
run() {
  local name=$1; shift
  local start=$(date +%s.%N)
  "$BIN" run --seeds 5 --report "$OUT/$name-report" --json "$@" > "$OUT/$name.json" 2> "$OUT/$name.log"
  echo "$name: $(echo "$(date +%s.%N) - $start" | bc) s" | tee -a "$OUT/timings.txt"
}
: > "$OUT/timings.txt"
run maml
run first-order-maml --meta-learner first-order-maml
run reptile --meta-learner reptile
run gmm --regime-model gmm
run conservative --profile conservative
run aggressive --profile aggressive
python3 Scripts/allocator_tables.py "$OUT"
