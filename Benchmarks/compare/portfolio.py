#!/usr/bin/env python3
"""Same-run comparison of MetaFolio's HRP and minimum variance with PyPortfolioOpt and Riskfolio-Lib.

Workloads, on daily returns r[t, j] = 0.01 * (u[t, j] + m[t]) where u is the T x n
SplitMix64 stream of seed 11 (row-major) and m the T draws of seed 12, all on [-1, 1) (the same
bits as Benchmarks/Sources/PortfolioTimings, via bench_common.splitmix_uniform):
  hrp 20x8312      returns -> covariance/correlation -> single-linkage HRP weights:
                   MetaFolio HierarchicalRiskParity vs PyPortfolioOpt HRPOpt(returns).optimize("single")
                   and Riskfolio-Lib HCPortfolio.optimization(model="HRP", codependence="pearson",
                   rm="MV", linkage="single", leaf_order=False)
  hrp 500x2000     the same at 500 assets x 2000 days (MetaFolio vs PyPortfolioOpt; Riskfolio-Lib
                   only with --riskfolio-500, it takes tens of seconds per call)
  minvar 500 cap5  long-only minimum variance with 5% caps on the annualized sample covariance of
                   the 2000 x 500 returns (not timed): MeanVarianceOptimizer vs PyPortfolioOpt
                   EfficientFrontier(None, S, weight_bounds=(0, 0.05)).min_volatility() (cvxpy's
                   default solver for the QP)

Both sides follow the rule of BenchmarkSupport/Timing.swift: warm up for at least 3 calls and
0.05 s, time reps = clamp(budget / warm-up mean, min-reps, max-reps) calls one by one, take the
median; the script repeats this --rounds times, alternating MetaFolio and the peers, and reports
the median of the round medians. Checksums sum_j (j + 1) w_j show that the weights agree.
OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = --threads on both sides.

Run from anywhere: python3 Benchmarks/compare/portfolio.py [--rounds 3] [--threads 1] [--write-readme]
(pip install numpy "pandas<3" PyPortfolioOpt riskfolio-lib cvxpy clarabel)
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import replace_marked_section, splitmix_uniform  # noqa: E402

COMPARE_DIR = Path(__file__).resolve().parent
BENCH_DIR = COMPARE_DIR.parent
README = BENCH_DIR / "README.md"
BEGIN_MARK = "<!-- BEGIN portfolio-compare (written by compare/portfolio.py --write-readme) -->"
END_MARK = "<!-- END portfolio-compare -->"
KERNELS = ["hrp 20x8312", "hrp 500x2000", "minvar 500 cap5"]
TARGETS = {"hrp 20x8312": 20.0, "hrp 500x2000": 20.0, "minvar 500 cap5": 5.0}


def returns_frame(periods: int, assets: int):
    import pandas as pd

    u = splitmix_uniform(periods * assets, 11).reshape(periods, assets)
    m = splitmix_uniform(periods, 12)
    return pd.DataFrame(0.01 * (u + m[:, None]), columns=[f"A{j}" for j in range(assets)])


def checksum(weights) -> float:
    return float(sum((j + 1) * float(w) for j, w in enumerate(weights)))


def time_kernel(body, budget: float, min_reps: int, max_reps: int, max_warm_up: int = 100):
    """The warm-up / repetition rule of BenchmarkSupport/Timing.swift; returns (median s, reps, output)."""
    output = body()
    calls = 1
    start = time.perf_counter()
    while calls < 3 or (time.perf_counter() - start < 0.05 and calls < max_warm_up):
        output = body()
        calls += 1
    per_call = (time.perf_counter() - start) / (calls - 1)
    reps = min(max_reps, max(min_reps, int(budget / per_call)))
    samples = []
    for _ in range(reps):
        t0 = time.perf_counter()
        output = body()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples), reps, output


def peer_kernels(riskfolio_500: bool):
    """(kernel, peer label, body returning the weights in asset order) for every peer timing."""
    import riskfolio as rf
    from pypfopt import EfficientFrontier, HRPOpt

    def pypfopt_hrp(frame):
        def body():
            w = HRPOpt(frame).optimize(linkage_method="single")
            return [w[a] for a in frame.columns]
        return body

    def riskfolio_hrp(frame):
        def body():
            port = rf.HCPortfolio(returns=frame)
            w = port.optimization(model="HRP", codependence="pearson", rm="MV", rf=0, linkage="single",
                                  leaf_order=False)
            return list(w.loc[list(frame.columns), "weights"])
        return body

    small, large = returns_frame(8312, 20), returns_frame(2000, 500)
    sigma = large.cov() * 252

    def pypfopt_minvar():
        ef = EfficientFrontier(None, sigma, weight_bounds=(0, 0.05))
        w = ef.min_volatility()
        return [w[a] for a in large.columns]

    kernels = [("hrp 20x8312", "PyPortfolioOpt", pypfopt_hrp(small)),
               ("hrp 20x8312", "Riskfolio-Lib", riskfolio_hrp(small)),
               ("hrp 500x2000", "PyPortfolioOpt", pypfopt_hrp(large))]
    if riskfolio_500:
        kernels.append(("hrp 500x2000", "Riskfolio-Lib", riskfolio_hrp(large)))
    kernels.append(("minvar 500 cap5", "PyPortfolioOpt", pypfopt_minvar))
    return kernels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--budget", type=float, default=1.0)
    parser.add_argument("--min-reps", type=int, default=5)
    parser.add_argument("--max-reps", type=int, default=2000)
    parser.add_argument("--scratch-path", default=".build-portfolio", help="SwiftPM scratch path inside Benchmarks/")
    parser.add_argument("--riskfolio-500", action="store_true", help="also time Riskfolio-Lib HRP at 500 assets")
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args()
    os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = str(args.threads)
    warnings.filterwarnings("ignore")

    subprocess.run(["swift", "build", "-c", "release", "--product", "PortfolioTimings", "--scratch-path", args.scratch_path],
                   cwd=BENCH_DIR, check=True)
    exe = BENCH_DIR / args.scratch_path / "release" / "PortfolioTimings"
    swift_command = [str(exe), "--budget", str(args.budget), "--min-reps", str(args.min_reps),
                     "--max-reps", str(args.max_reps)]

    import cvxpy
    import pypfopt
    import riskfolio

    kernels = peer_kernels(args.riskfolio_500)
    load_before = os.getloadavg()
    swift_rounds: dict[str, list[dict]] = {k: [] for k in KERNELS}
    peer_rounds: dict[tuple[str, str], list[tuple[float, float]]] = {(k, p): [] for k, p, _ in kernels}
    threads = None
    for _ in range(args.rounds):
        report = json.loads(subprocess.run(swift_command, check=True, capture_output=True, text=True).stdout)
        threads = report["openblas_threads"]
        for entry in report["results"]:
            swift_rounds[entry["kernel"]].append(entry)
        for kernel, peer, body in kernels:
            seconds, _, weights = time_kernel(body, args.budget, args.min_reps, args.max_reps)
            peer_rounds[(kernel, peer)].append((seconds, checksum(weights)))
    load_after = os.getloadavg()

    lines = [
        f"Run {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC on {platform.machine()} "
        f"({os.cpu_count()} cores), load average {load_before[0]:.2f} before / {load_after[0]:.2f} after; "
        f"OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = {args.threads} (MetaFolio's OpenBLAS reports {threads}).",
        f"Command: `python3 Benchmarks/compare/portfolio.py --rounds {args.rounds} --threads {args.threads} "
        f"--min-reps {args.min_reps}"
        f"{' --riskfolio-500' if args.riskfolio_500 else ''}` "
        f"(PyPortfolioOpt {pypfopt.__version__}, Riskfolio-Lib {riskfolio.__version__}, cvxpy {cvxpy.__version__} "
        f"with its default solver; medians of {args.rounds} round medians, at least {args.min_reps} timed calls each).",
        "",
        "| workload | MetaFolio | peer | peer time | speed-up | target | checksum difference |",
        "|---|---|---|---|---|---|---|",
    ]
    for kernel, peer, _ in kernels:
        ours = statistics.median(e["median_s"] for e in swift_rounds[kernel])
        ours_checksum = swift_rounds[kernel][-1]["checksum"]
        theirs = statistics.median(s for s, _ in peer_rounds[(kernel, peer)])
        difference = abs(ours_checksum - peer_rounds[(kernel, peer)][-1][1])
        ratio = theirs / ours
        verdict = "met" if ratio >= TARGETS[kernel] else "NOT met"
        lines.append(f"| {kernel} | {ours * 1e3:.2f} ms | {peer} | {theirs * 1e3:.1f} ms | {ratio:.1f}x | "
                     f"≥{TARGETS[kernel]:.0f}x {verdict} | {difference:.1e} |")
    section = "\n".join(lines)
    print(section)
    if args.write_readme:
        replace_marked_section(README, BEGIN_MARK, END_MARK, section, heading="## Portfolio: HRP and minimum variance")


if __name__ == "__main__":
    main()
