#!/usr/bin/env bash
# Builds and runs MetaFolio's libFuzzer targets (see Fuzz/README.md).
#
#   Fuzz/fuzz.sh build                 build the four targets (ASan + libFuzzer, release)
#   Fuzz/fuzz.sh run TARGET SECONDS    fuzz one target, growing a working corpus seeded from Fuzz/corpus
#   Fuzz/fuzz.sh all SECONDS           fuzz every target in turn, one at a time
#   Fuzz/fuzz.sh smoke SECONDS         a short run of every target on the committed corpus only
#
# Targets: csv, safetensors, config, report-format. The build lives in FUZZ_SCRATCH
# (default .build-fuzz), apart from .build, so it does not invalidate the normal build.
# Crashes, hangs (> 10 s on one input) and leaks are written to FUZZ_SCRATCH/artifacts/TARGET/,
# the log of each run to FUZZ_SCRATCH/logs/TARGET.log; the exit status is non-zero on a finding.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
scratch=${FUZZ_SCRATCH:-$root/.build-fuzz}
swift=${SWIFT:-swift}
targets=(csv safetensors config report-format)

product() {
    case $1 in
        csv) echo FuzzCSV ;;
        safetensors) echo FuzzSafeTensors ;;
        config) echo FuzzConfig ;;
        report-format) echo FuzzReportFormat ;;
        *) echo "unknown fuzz target: $1 (targets: ${targets[*]})" >&2; exit 2 ;;
    esac
}

build() {
    cd "$root"
    for target in "${targets[@]}"; do
        # SwiftPM passes each --sanitize as its own -sanitize= flag in no fixed order, and the compiler keeps
        # only the last, so a module would get coverage or ASan but not both; the combined flag comes last.
        METAFOLIO_FUZZ=1 "$swift" build -c release --sanitize=fuzzer --sanitize=address -Xswiftc -sanitize=fuzzer,address \
            --scratch-path "$scratch" --product "$(product "$target")" 2>&1 \
            | grep -v -e "ld.gold: warning: Cannot export local symbol '__asan" -e '^\[[0-9]*/[0-9]*\]' || true
        local binary="$scratch/release/$(product "$target")"
        test -x "$binary" || { echo "fuzz build of $target failed" >&2; exit 1; }
        # A binary linked from objects built without coverage runs blind (libFuzzer then finds nothing new):
        # refuse it rather than report a clean run.
        local counters
        counters=$(SWIFT_BACKTRACE=enable=no "$binary" -runs=0 2>&1 | sed -n 's/.*Loaded 1 modules *(\([0-9]*\) inline.*/\1/p' | head -n 1)
        if [ "${counters:-0}" -lt 10000 ]; then
            echo "fuzz target $target has ${counters:-no} coverage counters: its objects were built without coverage;" \
                 "remove $scratch and build again" >&2
            exit 1
        fi
    done
}

# run TARGET SECONDS [corpus-only]
run() {
    local target=$1 seconds=$2 mode=${3:-grow}
    local binary="$scratch/release/$(product "$target")"
    test -x "$binary" || { echo "$binary is missing: run Fuzz/fuzz.sh build" >&2; exit 1; }
    local work="$scratch/corpus/$target" artifacts="$scratch/artifacts/$target" log="$scratch/logs/$target.log"
    mkdir -p "$work" "$artifacts" "$(dirname "$log")"
    local corpora=("$work" "$root/Fuzz/corpus/$target")
    if [ "$mode" = smoke ]; then
        # A fresh working folder: only the committed corpus and what a few seconds add to it.
        rm -rf "$work"; mkdir -p "$work"
    fi
    local max_len=4096
    [ "$target" = csv ] && max_len=12288
    echo "fuzzing $target for $seconds s (log: $log)"
    # The Swift runtime's backtracer would hang on libFuzzer's deadly-signal path; ASan reports instead.
    SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
        "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=$max_len \
        -print_final_stats=1 -artifact_prefix="$artifacts/" "${corpora[@]}" >"$log" 2>&1 || {
        tail -n 60 "$log" >&2
        echo "fuzz target $target found a failure: see $log and $artifacts" >&2
        return 1
    }
    grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" || true
}

command=${1:-}
case $command in
    build) build ;;
    run) [ $# -eq 3 ] || { echo "usage: $0 run TARGET SECONDS" >&2; exit 2; }; product "$2" >/dev/null; run "$2" "$3" ;;
    all) [ $# -eq 2 ] || { echo "usage: $0 all SECONDS" >&2; exit 2; }
         status=0; for target in "${targets[@]}"; do run "$target" "$2" || status=1; done; exit $status ;;
    smoke) [ $# -eq 2 ] || { echo "usage: $0 smoke SECONDS" >&2; exit 2; }
           status=0; for target in "${targets[@]}"; do run "$target" "$2" smoke || status=1; done; exit $status ;;
    *) echo "usage: $0 build | run TARGET SECONDS | all SECONDS | smoke SECONDS" >&2; exit 2 ;;
esac
