#!/usr/bin/env bash
# The runs behind Docs/EIIE.md: `metafolio eiie` on the crypto daily set (F = 3), on sp500-stocks and
# the six OLPS datasets (F = 1, test = the last 25 % of the bars). Writes one JSON summary per run
# to OUT (default .build/eiie-experiments) and the crypto HTML report beside it; then
# `python3 Scripts/eiie_tables.py OUT` prints the tables.
#   Scripts/eiie_experiments.sh [OUT] [METAFOLIO] [DATASET …]
# RECURRENT=no skips the RNN and LSTM runs on the OLPS sets and sp500-stocks (their cost grows with
# assets × test bars: about 3 to 4 minutes each on the small sets, far more on the long ones).
set -euo pipefail
OUT=${1:-.build/eiie-experiments}
BIN=${2:-.build/release/metafolio}
shift $(( $# > 2 ? 2 : $# ))
SETS=${*:-crypto-daily olps-djia olps-msci olps-sp500 olps-tse olps-nyse-o olps-nyse-n sp500-stocks}
mkdir -p "$OUT"
run() { local name=$1; shift; echo "== $name: $*" >&2; /usr/bin/time -f "$name %e s wall" "$BIN" eiie --json --quiet "$@" > "$OUT/$name.json"; }

for set in $SETS; do
  if [ "$set" = crypto-daily ]; then
    # The paper's protocol on daily crypto: 2000 pre-training steps, 30 rolling steps per test period, 3 seeds.
    run crypto-daily --dataset crypto-daily --seeds 3 --no-olps --report "$OUT/crypto-daily-report"
    run crypto-daily-baselines --dataset crypto-daily --topologies none --no-report
    # The same at the paper's learning rate (3e-5), one seed per topology.
    run crypto-daily-lr3e-5 --dataset crypto-daily --learning-rate 3e-5 --no-olps --no-report
  else
    # Long and wide sets: 5 rolling steps per period; three CNN seeds, one RNN and one LSTM seed.
    run "$set-cnn" --dataset "$set" --features close --rolling-steps 5 --topologies cnn --seeds 3 --no-olps --no-report
    if [ "${RECURRENT:-yes}" != no ]; then
      run "$set-recurrent" --dataset "$set" --features close --rolling-steps 5 --topologies rnn,lstm --no-olps --no-report
    fi
    run "$set-baselines" --dataset "$set" --features close --topologies none --no-report
  fi
done
