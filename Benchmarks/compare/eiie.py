#!/usr/bin/env python3
"""Same-run comparison of one EIIE online-stochastic-batch-learning (OSBL) training step:
MetaFolio's `EIIETrainer.step(times:)` (Strategies) against the same step written in PyTorch (CPU).

The script
  1. builds the Swift `StrategiesTimings` executable of the Benchmarks package with `-c release`,
  2. runs a PyTorch worker (this script with --torch-worker, a separate process) and
     `StrategiesTimings`, `--rounds` times: in each round kernel by kernel, the two back to back in
     alternating order, both with OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = MKL_NUM_THREADS = --threads
     (PyTorch also calls torch.set_num_threads(--threads) and torch.set_num_interop_threads(1)),
  3. prints a table of medians (per kernel: the median over rounds of each round's median) with the
     ratio MetaFolio/PyTorch and the targets, and checks that both computed the same first reward,
  4. with --write-readme, replaces (or appends) the marked section of Benchmarks/README.md.

Workload (Sources/StrategiesTimings/main.swift; inputs from the same SplitMix64 streams):
  2000 bars x 11 assets of synthetic close/high/low; the paper's CNN (window 50, 1x3 conv to 2 maps,
  ReLU, 1x48 conv to 20 maps, ReLU, previous weights as a 21st map, 1x1 score conv, learnable cash
  bias, softmax) with parameters from streams 71.. ; batch 50; Adam lr 3e-5, weight decay 1e-8;
  commission 0.0025 with the exact mu (Theorem 1's fixed point) or the first-order one.
One timed call is one OSBL step on the decision bars s..s+49, s = 49 + (50k mod 1900) for the k-th
call: gather the windows (divided by each asset's latest close) and the price relatives, read the
previous weights from the portfolio-vector memory, forward, reward, backward, optimizer step, write
the outputs back to the memory.

PyTorch side, written as one would in PyTorch: price history as float64 tensors [F, T, m]; windows
by unfold + index (cast to the run's dtype after the division, as MetaFolio's market does); memory a
float64 tensor [T, 1 + m]; nn.Conv2d layers over [batch, features, assets, window]; the exact mu by
the fixed-point iteration with autograd through every iteration, stopping when the largest change is
<= max(1e-13, 4 eps(dtype)) (MetaFolio's rule) or after 50 iterations; torch.optim.Adam.

Timing rule (both sides): warm up for at least 3 calls and 0.05 s, then time
reps = clamp(budget / warm-up mean, min-reps, max-reps) calls one by one and take the median.

Run from anywhere: python3 Benchmarks/compare/eiie.py [--threads 1] [--rounds 3] [--write-readme]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import (add_same_run_arguments, median_of_rounds, replace_marked_section, run_alternating_rounds,  # noqa: E402
                          run_checked, splitmix_uniform, time_calls)

COMPARE_DIR = Path(__file__).resolve().parent
BENCH_DIR = COMPARE_DIR.parent
ROOT_DIR = BENCH_DIR.parent
README = BENCH_DIR / "README.md"
SCRATCH = BENCH_DIR / ".build-strategies"
HEADING = "## Strategies: one EIIE OSBL training step"
BEGIN_MARK = "<!-- BEGIN eiie-compare (written by compare/eiie.py --write-readme) -->"
END_MARK = "<!-- END eiie-compare -->"

KERNEL_NAMES = ["osbl step exact f32", "osbl step exact f64", "osbl step first-order f32", "osbl step first-order f64"]
LABELS = {"torch": "PyTorch", "swift": "MetaFolio"}
# The targets: MetaFolio's step within half PyTorch float32's time, and 0.3x of float64's.
TARGETS = {"osbl step exact f32": 0.5, "osbl step exact f64": 0.3}

BARS, ASSETS, BATCH, WINDOW, FIRST_START, START_CYCLE = 2000, 11, 50, 50, 49, 1900
COMMISSION, LEARNING_RATE, WEIGHT_DECAY, MAX_ITERATIONS = 0.0025, 3e-5, 1e-8, 50
CLOSE_SEED, HIGH_SEED, LOW_SEED, FIRST_PARAMETER_SEED = 61, 62, 63, 71
SCALES = [("cash_bias", 0.1), ("conv1.weight", 0.3), ("conv1.bias", 0.1), ("conv2.weight", 0.1),
          ("conv2.bias", 0.1), ("score.weight", 0.2), ("score.bias", 0.1)]


def synthetic_market():
    """close, high, low as float64 arrays [T, m], exactly as StrategiesTimings builds them."""
    import numpy as np

    steps = 1 + 0.02 * splitmix_uniform(BARS * ASSETS, CLOSE_SEED).reshape(BARS, ASSETS)
    close = np.empty((BARS, ASSETS))
    previous = np.ones(ASSETS)
    for t in range(BARS):  # sequential products, the Swift loop's rounding
        previous = previous * steps[t]
        close[t] = previous
    high = close * (1 + 0.005 * (splitmix_uniform(BARS * ASSETS, HIGH_SEED).reshape(BARS, ASSETS) + 1))
    low = close * (1 - 0.005 * (splitmix_uniform(BARS * ASSETS, LOW_SEED).reshape(BARS, ASSETS) + 1))
    return close, high, low


def batch_times(k: int) -> range:
    start = FIRST_START + (BATCH * k) % START_CYCLE
    return range(start, start + BATCH)


# --------------------------------------------------------------------------------------------
# PyTorch worker: runs in its own process (so the thread variables are set before torch loads).
# --------------------------------------------------------------------------------------------

def torch_worker(args: argparse.Namespace) -> None:
    import torch

    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass

    class EIIE(torch.nn.Module):
        """The paper's CNN over [batch, features, assets, window]."""

        def __init__(self, dtype):
            super().__init__()
            self.cash_bias = torch.nn.Parameter(torch.zeros(1, dtype=dtype))
            self.conv1 = torch.nn.Conv2d(3, 2, (1, 3), dtype=dtype)
            self.conv2 = torch.nn.Conv2d(2, 20, (1, WINDOW - 2), dtype=dtype)
            self.score = torch.nn.Conv2d(21, 1, (1, 1), dtype=dtype)

        def forward(self, x, previous):
            batch, assets = previous.shape
            h = torch.relu(self.conv2(torch.relu(self.conv1(x))))  # [B, 20, m, 1]
            h = torch.cat([h, previous.reshape(batch, 1, assets, 1)], dim=1)
            scores = self.score(h).reshape(batch, assets)
            return torch.softmax(torch.cat([self.cash_bias.expand(batch, 1), scores], dim=1), dim=1)

    def exact_mu(held, weights, tolerance):
        """Theorem 1's fixed point, purchase and sale rates both COMMISSION, autograd through the iterations."""
        cp, combined = COMMISSION, 2 * COMMISSION - COMMISSION * COMMISSION
        held_assets, new_assets = held[:, 1:], weights[:, 1:]
        numerator_base = 1 - cp * held[:, 0]
        denominator = 1 - cp * weights[:, 0]
        mu = 1 - COMMISSION * (held_assets - new_assets).abs().sum(dim=1)
        for _ in range(MAX_ITERATIONS):
            sold = torch.relu(held_assets - mu.unsqueeze(1) * new_assets).sum(dim=1)
            following = (numerator_base - combined * sold) / denominator
            change = (following - mu).abs().max().item()
            mu = following
            if change <= tolerance:
                break
        return mu

    def first_order_mu(held, weights):
        return 1 - COMMISSION * (held[:, 1:] - weights[:, 1:]).abs().sum(dim=1)

    close, high, low = synthetic_market()
    history = torch.from_numpy(__import__("numpy").stack([close, high, low]))  # [F, T, m] float64
    closes = torch.from_numpy(close)                                            # [T, m]
    windows = history.unfold(1, WINDOW, 1)                                      # [F, T - W + 1, m, W], a view
    ones = torch.ones(BATCH, 1, dtype=torch.float64)

    def osbl(dtype, exact: bool):
        net = EIIE(dtype)
        with torch.no_grad():
            named = dict(net.named_parameters())
            for index, (key, scale) in enumerate(SCALES):
                p = named[key]
                values = scale * splitmix_uniform(p.numel(), FIRST_PARAMETER_SEED + index)
                p.copy_(torch.from_numpy(values).reshape(p.shape).to(dtype))
        optimizer = torch.optim.Adam(net.parameters(), lr=LEARNING_RATE, weight_decay=WEIGHT_DECAY)
        memory = torch.full((BARS, ASSETS + 1), 1 / (ASSETS + 1), dtype=torch.float64)
        tolerance = max(1e-13, 4 * torch.finfo(dtype).eps)

        def step(times: torch.Tensor) -> float:
            # Batch: windows ending at each t over the close at t; relatives of periods t and t + 1.
            x = (windows[:, times - WINDOW + 1] / closes[times].unsqueeze(-1)).permute(1, 0, 2, 3).to(dtype)
            y = torch.cat([ones, closes[times] / closes[times - 1]], dim=1).to(dtype)
            y_next = torch.cat([ones, closes[times + 1] / closes[times]], dim=1).to(dtype)
            previous = memory[times - 1].to(dtype)
            grown = previous * y
            held = grown / grown.sum(dim=1, keepdim=True)
            weights = net(x, previous[:, 1:])
            mu = exact_mu(held, weights, tolerance) if exact else first_order_mu(held, weights)
            reward = torch.log(mu * (weights * y_next).sum(dim=1)).mean()
            optimizer.zero_grad()
            (-reward).backward()
            optimizer.step()
            with torch.no_grad():
                w = weights.detach().to(torch.float64)
                memory[times] = w / w.sum(dim=1, keepdim=True)
            return reward.item()

        return step

    wanted = set(args.only.split(",")) if args.only else set(KERNEL_NAMES)
    results = []
    for kernel in KERNEL_NAMES:
        if kernel not in wanted:
            continue
        dtype = torch.float32 if kernel.endswith("f32") else torch.float64
        step = osbl(dtype, exact=" exact " in kernel)
        batches = [torch.tensor(list(batch_times(k))) for k in range(START_CYCLE // BATCH)]
        first_reward = step(batches[0])
        counter = [1]

        def body():
            k = counter[0]
            counter[0] += 1
            return step(batches[k % len(batches)])

        median, reps, _ = time_calls(body, args.budget, args.min_reps, args.max_reps, max_warm_calls=500)
        results.append({"kernel": kernel, "median_s": median, "reps": reps, "checksum": first_reward})

    print(json.dumps({"implementation": "torch", "torch_version": torch.__version__,
                      "openblas_threads": torch.get_num_threads(), "results": results}, indent=2))


# --------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------

def build(args: argparse.Namespace) -> dict[str, list[str]]:
    swift = os.environ.get("SWIFT", "swift")
    swift_build = [swift, "build", "-c", "release", "--package-path", str(BENCH_DIR), "--product", "StrategiesTimings",
                   "--scratch-path", str(SCRATCH)]
    if not args.skip_build:
        print(f"Building StrategiesTimings: {shlex.join(swift_build)}", file=sys.stderr)
        subprocess.run(swift_build, check=True, stdout=sys.stderr)
    bin_path = run_checked([*swift_build, "--show-bin-path"], "eiie.py").strip()
    timing_args = ["--budget", str(args.budget), "--min-reps", str(args.min_reps), "--max-reps", str(args.max_reps)]
    return {
        "torch": [sys.executable, str(Path(__file__).resolve()), "--torch-worker", "--threads", str(args.threads),
                  *timing_args],
        "swift": [str(Path(bin_path) / "StrategiesTimings"), *timing_args],
    }


def cpu_model() -> str:
    try:
        match = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        return match.group(1).strip() if match else "unknown"
    except OSError:
        return "unknown"


def format_time(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds * 1e6:.1f} µs" if seconds < 1e-3 else f"{seconds * 1e3:.3f} ms"


def check_agreement(table: dict) -> list[str]:
    # The first step's reward R (≈1e-4 here): float64 sides agree to rounding; float32 sides differ in
    # the last bits of every operation, so they are held to an absolute 1e-7 (about 1e-3 of R).
    problems = []
    for kernel in KERNEL_NAMES:
        rewards = {impl: table[impl][kernel]["checksum"] for impl in table if kernel in table[impl]}
        if len(rewards) == 2:
            difference = abs(rewards["swift"] - rewards["torch"])
            bound = 1e-9 * abs(rewards["torch"]) if kernel.endswith("f64") else 1e-7
            if difference > bound:
                problems.append(f"{kernel}: first reward PyTorch {rewards['torch']!r} != MetaFolio {rewards['swift']!r}")
    return problems


def render(table: dict) -> list[str]:
    lines = ["| kernel | PyTorch | MetaFolio | MetaFolio / PyTorch (time) | target | MetaFolio spread over rounds "
             "| first reward (MetaFolio − PyTorch) |",
             "|---|---:|---:|---:|---|---:|---:|"]
    for kernel in KERNEL_NAMES:
        t, s = table.get("torch", {}).get(kernel), table.get("swift", {}).get(kernel)
        if t is None and s is None:
            continue
        ratio = s["median_s"] / t["median_s"] if t and s else None
        bound = TARGETS.get(kernel)
        target = "—" if bound is None or ratio is None else f"≤ {bound}×: {'met' if ratio <= bound else 'not met'}"
        spread = f"{format_time(s['min_s'])} – {format_time(s['max_s'])}" if s else "—"
        difference = f"{s['checksum'] - t['checksum']:.1e}" if t and s else "—"
        lines.append(f"| {kernel} | {format_time(t and t['median_s'])} | {format_time(s and s['median_s'])} "
                     f"| {f'{ratio:.2f}×' if ratio else '—'} | {target} | {spread} | {difference} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_same_run_arguments(parser, max_reps=5000, example_kernel="osbl step exact f64")
    parser.add_argument("--torch-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.torch_worker:
        torch_worker(args)
        return
    kernels = args.only.split(",") if args.only else KERNEL_NAMES
    if set(kernels) - set(KERNEL_NAMES):
        parser.error(f"unknown kernels {sorted(set(kernels) - set(KERNEL_NAMES))}; choose from {KERNEL_NAMES}")
    if args.threads < 1 or args.rounds < 1:
        parser.error("--threads and --rounds must be at least 1")

    commands = build(args)
    load_before = os.getloadavg()
    started = time.monotonic()
    runs = run_alternating_rounds(commands, LABELS, kernels, args.rounds, args.threads, "eiie.py")
    elapsed = time.monotonic() - started
    load_after = os.getloadavg()

    table = median_of_rounds(runs, KERNEL_NAMES)
    torch_version = runs["torch"][0].get("torch_version") if runs["torch"] else "?"
    swift_config = runs["swift"][0].get("openblas_config", "?") if runs["swift"] else "?"
    invocation = "python3 Benchmarks/compare/eiie.py " + shlex.join(sys.argv[1:])
    problems = check_agreement(table)
    lines = [
        f"Threads: {args.threads} (OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = MKL_NUM_THREADS, torch.set_num_threads). "
        f"Machine: {os.cpu_count()} cores, {cpu_model()}, Linux {platform.release()}; load average (1, 5, 15 min) "
        f"{load_before[0]:.2f}, {load_before[1]:.2f}, {load_before[2]:.2f} before and "
        f"{load_after[0]:.2f}, {load_after[1]:.2f}, {load_after[2]:.2f} after the timing "
        "(other jobs shared the machine; the benchmark itself accounts for about 1).",
        f"MetaFolio: Swift release build, Debian OpenBLAS (`{swift_config.strip()}`). PyTorch {torch_version} (CPU tensors).",
        f"Medians over {args.rounds} rounds of per-round medians (each kernel timed by both back to back, order "
        f"alternating; ≈{args.budget:g} s of calls per kernel per round, ≥{args.min_reps} calls). The ratio is "
        "MetaFolio's time over PyTorch's: below 1 means MetaFolio is faster.",
        "",
        *render(table),
        "",
        "Both sides compute the same first reward (float64 within 1e-9 relative, float32 within 1e-7 absolute)."
        if not problems else "Reward MISMATCH: " + "; ".join(problems),
        "",
        f"Produced by `{invocation}` on {datetime.date.today().isoformat()} ({elapsed:.0f} s of timing).",
    ]
    section = "\n".join(lines)
    print(section)
    if args.json:
        args.json.write_text(json.dumps({"runs": runs, "table": table}, indent=2))
    if args.write_readme:
        replace_marked_section(README, BEGIN_MARK, END_MARK, section, heading=HEADING)
        print(f"Updated {README.relative_to(ROOT_DIR)}", file=sys.stderr)
    if problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
