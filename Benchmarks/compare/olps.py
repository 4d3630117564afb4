#!/usr/bin/env python3
"""Same-run comparison of MetaFolio's online portfolio selection with universal-portfolios.

Workloads: OLMAR-1 (eps=10, window=5), RMR (eps=10, window=5, tau=0.001),
PAMR (eps=0.5) and EG (eta=0.05) on NYSE (O) (5651 days x 36 stocks), with universal-portfolios'
day-0 convention (MetaFolio's PriceRelatives(dataset:dayZero: .firstDayDropped) and
warmUp: .priceSinceStart for OLMAR/RMR), no fee. Final wealths must agree to 1e-9 relative.

The script builds the OLPSTimings executable (-c release, scratch Benchmarks/.build-olps), runs
it (median of --reps runs after one warm-up), times universal-portfolios' `Algo.run` in the same
run (median of --py-reps), and prints medians and speed-ups. With --write-readme it replaces its
marked section of Benchmarks/README.md (command, load average and table).

Run from anywhere: python3 Benchmarks/compare/olps.py [--reps 5] [--py-reps 1] [--write-readme]
(pip install universal-portfolios==0.4.17)
"""
import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

COMPARE_DIR = Path(__file__).resolve().parent
BENCH_DIR = COMPARE_DIR.parent
README = BENCH_DIR / "README.md"
sys.path.insert(0, str(COMPARE_DIR))
from bench_common import replace_marked_section  # noqa: E402

BEGIN_MARK = "<!-- BEGIN olps-compare (written by compare/olps.py --write-readme) -->"
END_MARK = "<!-- END olps-compare -->"
TARGET = 100.0


def universal_workloads():
    from universal import algos

    return {
        "olmar": lambda: algos.OLMAR(window=5, eps=10),
        "rmr": lambda: algos.RMR(window=5, eps=10, tau=0.001),
        "pamr": lambda: algos.PAMR(eps=0.5, variant=0),
        "eg": lambda: algos.EG(eta=0.05),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=5, help="timed MetaFolio runs per algorithm (default 5)")
    parser.add_argument("--py-reps", type=int, default=1, help="timed universal-portfolios runs (default 1)")
    parser.add_argument("--skip-build", action="store_true", help="reuse the existing binary")
    parser.add_argument("--write-readme", action="store_true", help="replace the marked OLPS section of README.md")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    from universal import tools

    if not args.skip_build:
        subprocess.run(["swift", "build", "-c", "release", "--product", "OLPSTimings", "--scratch-path", ".build-olps"],
                       cwd=BENCH_DIR, check=True)
    exe = BENCH_DIR / ".build-olps" / "release" / "OLPSTimings"
    swift = json.loads(subprocess.run([str(exe), str(args.reps)], check=True, capture_output=True, text=True).stdout)

    S = tools.dataset("nyse_o")
    rows, failures = [], []
    for name, make in universal_workloads().items():
        times, wealth = [], None
        for _ in range(args.py_reps):
            t0 = time.perf_counter()
            wealth = float(make().run(S, log_progress=False).total_wealth)
            times.append(time.perf_counter() - t0)
        py = statistics.median(times)
        ours = swift[name]
        diff = abs(ours["wealth"] - wealth) / abs(wealth)
        if diff > 1e-9:
            failures.append(f"{name}: wealth {ours['wealth']!r} vs {wealth!r}")
        ratio = py / ours["median_s"]
        rows.append(f"| {name.upper()} | {ours['median_s'] * 1e3:.1f} ms | {py:.2f} s | {ratio:.0f}× | "
                    f"{'met' if ratio >= TARGET else 'MISSED'} | {wealth:.6e} | {diff:.1e} |")
        print(rows[-1], flush=True)
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    command = "python3 Benchmarks/compare/olps.py " + " ".join(a for a in sys.argv[1:])
    table = "\n".join([
        f"Command: `{command.strip()}` (MetaFolio median of {args.reps} runs after a warm-up, "
        f"universal-portfolios 0.4.17 median of {args.py_reps}); load average after the run: {load} "
        f"({os.cpu_count()} cores, shared).",
        "",
        "NYSE (O), 5651 days × 36 stocks, no fee, universal-portfolios' day-0 convention (first day dropped).",
        "",
        "| algorithm | MetaFolio | universal-portfolios | speed-up | target ≥ 100× | final wealth | wealth rel. diff |",
        "|---|---:|---:|---:|---|---:|---:|",
        *rows,
    ])
    print(table)
    if failures:
        print("WEALTH MISMATCH: " + "; ".join(failures), file=sys.stderr)
        sys.exit(1)
    if args.write_readme:
        replace_marked_section(README, BEGIN_MARK, END_MARK, table, heading="## Online portfolio selection")
        print(f"Updated {README}", file=sys.stderr)


if __name__ == "__main__":
    main()
