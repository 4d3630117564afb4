#!/usr/bin/env bash
# The runs behind Docs/EIIE.md: `metafolio eiie` on the crypto daily set (F = 3), on sp500-stocks and
# the six OLPS datasets (F = 1, test = the last 25 % of the bars). Writes one JSON summary per run
# to OUT (default .build/eiie-experiments) and the crypto HTML report beside it.
#   Scripts/eiie_experiments.sh [OUT] [METAFOLIO]
set -euo pipefail
OUT=${1:-.build/eiie-experiments}
BIN=${2:-.build/release/metafolio}
mkdir -p "$OUT"
run() { local name=$1; shift; echo "== $name: $*" >&2; /usr/bin/time -f "$name %e s wall" "$BIN" eiie --json --quiet "$@" > "$OUT/$name.json"; }

# The paper's protocol on daily crypto: 2000 pre-training steps, 30 rolling steps per test period.
run crypto-daily --dataset crypto-daily --seeds 3 --report "$OUT/crypto-daily-report"
# The same at the paper's learning rate (3e-5), one seed per topology.
run crypto-daily-lr3e-5 --dataset crypto-daily --learning-rate 3e-5 --topologies cnn,rnn,lstm --no-olps --no-report
# Long and wide sets: 5 rolling steps per period; three CNN seeds, one RNN and one LSTM seed.
for set in olps-djia olps-msci olps-sp500 olps-tse olps-nyse-o olps-nyse-n sp500-stocks; do
  run "$set-cnn" --dataset "$set" --features close --rolling-steps 5 --topologies cnn --seeds 3 --no-report
  run "$set-recurrent" --dataset "$set" --features close --rolling-steps 5 --topologies rnn,lstm --no-olps --no-report
done
