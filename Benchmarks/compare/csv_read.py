#!/usr/bin/env python3
"""Same-run comparison of CSV reading: MetaFolio's PanelCSVReader vs pandas.read_csv,
plus the two Swift CSV packages of the local mirror (SwiftCSV, CSV.swift).

The script
  1. writes two wide price files of about --megabytes MB each into compare/bin/ (git-ignored):
     "short" prices with 6 significant digits (like real quotes) and "full" 17-digit floats
     (Python repr, the worst case for number parsing); a Date column (ISO, consecutive days)
     plus --assets price columns, positive seeded random walks;
  2. builds the CSVTimings executable of the Benchmarks package (-c release);
  3. per file, for --rounds rounds, times pandas.read_csv(path, index_col=0, parse_dates=True)
     and each Swift parser back to back in a rotating order (each in its own process, --reps
     parses per process, median taken), and checks every parser read the same numbers;
  4. prints medians, MB/s and ratios to pandas; --write-readme records them in Benchmarks/README.md.

Run: python3 Benchmarks/compare/csv_read.py [--megabytes 100] [--rounds 3] [--reps 3] [--write-readme]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import replace_marked_section  # noqa: E402

COMPARE_DIR = Path(__file__).resolve().parent
BENCH_DIR = COMPARE_DIR.parent
BIN_DIR = COMPARE_DIR / "bin"
README = BENCH_DIR / "README.md"
BEGIN_MARK = "<!-- BEGIN csv-compare (written by compare/csv_read.py --write-readme) -->"
END_MARK = "<!-- END csv-compare -->"
SWIFT_PARSERS = ["metafolio", "csvswift", "swiftcsv"]
LABELS = {"pandas": "pandas.read_csv", "metafolio": "MetaFolio PanelCSVReader",
          "csvswift": "CSV.swift 2.5.2", "swiftcsv": "SwiftCSV 0.10.0"}


def write_file(path: Path, megabytes: float, assets: int, digits: str, seed: int) -> None:
    """Writes a wide CSV of about `megabytes` MB; skips the work if it already exists."""
    if path.exists() and abs(path.stat().st_size / 1e6 - megabytes) < 0.1 * megabytes:
        return
    rng = np.random.default_rng(seed)
    bytes_per_cell = 9 if digits == "short" else 19
    rows = int(megabytes * 1e6 / ((assets + 1) * bytes_per_cell))
    steps = rng.normal(0.0003, 0.01, size=(rows, assets))
    prices = 100.0 * np.exp(np.cumsum(steps, axis=0))
    dates = pd.date_range("1900-01-01", periods=rows, freq="D").strftime("%Y-%m-%d")
    with open(path, "w") as handle:
        handle.write("Date," + ",".join(f"A{j:03d}" for j in range(assets)) + "\n")
        for t in range(rows):
            if digits == "short":
                cells = [f"{v:.6g}" for v in prices[t]]
            else:
                cells = [repr(float(v)) for v in prices[t]]
            handle.write(dates[t] + "," + ",".join(cells) + "\n")


def time_pandas(path: Path, reps: int) -> tuple[float, int, float]:
    seconds = []
    frame = None
    for _ in range(reps):
        start = time.perf_counter()
        frame = pd.read_csv(path, index_col=0, parse_dates=True)
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds), len(frame), float(frame.iloc[-1].sum())


def time_swift(executable: Path, parser: str, path: Path, reps: int) -> tuple[float, int, float]:
    output = subprocess.run([str(executable), "--file", str(path), "--parser", parser, "--reps", str(reps)],
                            check=True, capture_output=True, text=True).stdout
    result = json.loads(output)
    return result["median_seconds"], result["rows"], result["last_row_sum"]


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    options.add_argument("--megabytes", type=float, default=100)
    options.add_argument("--assets", type=int, default=50)
    options.add_argument("--rounds", type=int, default=3)
    options.add_argument("--reps", type=int, default=3)
    options.add_argument("--skip-slow", action="store_true", help="time only pandas and MetaFolio")
    options.add_argument("--write-readme", action="store_true")
    args = options.parse_args()

    BIN_DIR.mkdir(exist_ok=True)
    files = {kind: BIN_DIR / f"prices-{kind}-{int(args.megabytes)}MB.csv" for kind in ("short", "full")}
    for seed, (kind, path) in enumerate(files.items()):
        write_file(path, args.megabytes, args.assets, kind, seed)
    subprocess.run(["swift", "build", "-c", "release", "--product", "CSVTimings"], cwd=BENCH_DIR, check=True,
                   stdout=subprocess.DEVNULL)
    executable = Path(subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=BENCH_DIR,
                                     check=True, capture_output=True, text=True).stdout.strip()) / "CSVTimings"

    parsers = ["pandas"] + (["metafolio"] if args.skip_slow else SWIFT_PARSERS)
    results: dict[tuple[str, str], list[float]] = {}
    for kind, path in files.items():
        reference = None
        for round_index in range(args.rounds):
            order = parsers[round_index % len(parsers):] + parsers[:round_index % len(parsers)]
            for parser in order:
                if parser == "pandas":
                    seconds, rows, checksum = time_pandas(path, args.reps)
                else:
                    seconds, rows, checksum = time_swift(executable, parser, path, args.reps)
                if reference is None:
                    reference = (rows, checksum)
                elif rows != reference[0] or abs(checksum - reference[1]) > 1e-9 * abs(reference[1]):
                    sys.exit(f"{parser} read {rows} rows, last-row sum {checksum!r}; expected {reference}")
                results.setdefault((kind, parser), []).append(seconds)

    load = os.getloadavg()
    lines = [f"Files: {args.megabytes:g} MB each, {args.assets} assets, written by compare/csv_read.py "
             f"(short = 6 significant digits, full = 17-digit repr floats). Median over {args.rounds} rounds "
             f"of the per-process median of {args.reps} parses. Load average at the end: "
             f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}. {datetime.date.today().isoformat()}.", "",
             "| file | reader | median | MB/s | time / pandas |", "|---|---|---:|---:|---:|"]
    for kind, path in files.items():
        size_mb = path.stat().st_size / 1e6
        pandas_time = statistics.median(results[(kind, "pandas")])
        for parser in parsers:
            median = statistics.median(results[(kind, parser)])
            lines.append(f"| {kind} ({size_mb:.0f} MB) | {LABELS[parser]} | {median:.3f} s | "
                         f"{size_mb / median:.0f} | {median / pandas_time:.2f} |")
    table = "\n".join(lines)
    print(table)
    if args.write_readme:
        command = "python3 Benchmarks/compare/csv_read.py " + " ".join(sys.argv[1:])
        section = f"{BEGIN_MARK}\nCommand: `{command}`\n\n{table}\n{END_MARK}"
        replace_marked_section(README, BEGIN_MARK, END_MARK, section.split("\n", 1)[1].rsplit("\n", 1)[0],
                               heading="## CSV reading (Market)")


if __name__ == "__main__":
    main()
