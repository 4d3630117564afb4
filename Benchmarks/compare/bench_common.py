"""Pieces shared by the same-run comparison scripts in this folder."""

from __future__ import annotations

from pathlib import Path


def splitmix_uniform(count: int, seed: int):
    """Draws 0..count-1 of the SplitMix64 stream `seed`, mapped to [-1, 1), exactly as
    Benchmarks/Sources/BenchmarkSupport/Inputs.swift does, so every language times the same data."""
    import numpy as np

    with np.errstate(over="ignore"):
        index = np.arange(1, count + 1, dtype=np.uint64)
        z = np.uint64(seed) + index * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53 * 2.0 - 1.0


def replace_marked_section(readme: Path, begin_mark: str, end_mark: str, section: str,
                           heading: str | None = None) -> None:
    """Replaces the text between `begin_mark` and `end_mark` in `readme` with `section`,
    or appends the marked section (under `heading`, if given) when the marks are absent."""
    text = readme.read_text() if readme.exists() else ""
    block = f"{begin_mark}\n{section.rstrip()}\n{end_mark}"
    if begin_mark in text and end_mark in text:
        start = text.index(begin_mark)
        end = text.index(end_mark) + len(end_mark)
        text = text[:start] + block + text[end:]
    else:
        text = text.rstrip() + "\n\n" + (f"{heading}\n\n" if heading else "") + block + "\n"
    readme.write_text(text)


def time_calls(body, budget: float, min_reps: int, max_reps: int, max_warm_calls: int = 2000):
    """The timing rule of every worker here (and of BenchmarkSupport's Timing.swift): warm up for
    at least 3 calls and 0.05 s (the first call not counted), then time
    reps = clamp(budget / warm-up mean, min_reps, max_reps) calls one by one.
    Returns (median seconds, reps, the last call's output)."""
    import statistics
    import time

    output = body()
    warm_calls = 1
    warm_start = time.perf_counter_ns()
    while warm_calls < 3 or (time.perf_counter_ns() - warm_start < 50_000_000 and warm_calls < max_warm_calls):
        output = body()
        warm_calls += 1
    per_call = (time.perf_counter_ns() - warm_start) / 1e9 / (warm_calls - 1)
    reps = min(max_reps, max(min_reps, int(budget / per_call)))
    samples = []
    clock = time.perf_counter_ns
    for _ in range(reps):
        start = clock()
        output = body()
        samples.append((clock() - start) / 1e9)
    return statistics.median(samples), reps, output


def run_checked(command: list[str], program: str, env: dict | None = None) -> str:
    """Runs `command` and returns its standard output; exits naming `program` when it fails."""
    import shlex
    import subprocess
    import sys

    completed = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True)
    if completed.returncode != 0:
        sys.exit(f"{program}: `{shlex.join(command)}` failed with exit code {completed.returncode}")
    return completed.stdout


def median_of_rounds(runs: dict[str, list[dict]], kernels: list[str]) -> dict[str, dict[str, dict]]:
    """Per implementation and kernel: the median over rounds of the per-round medians, their range,
    the total timed calls and the last round's checksum."""
    import statistics

    table: dict[str, dict[str, dict]] = {}
    for impl, reports in runs.items():
        for kernel in kernels:
            rows = [r for report in reports for r in report["results"] if r["kernel"] == kernel]
            if rows:
                medians = [r["median_s"] for r in rows]
                table.setdefault(impl, {})[kernel] = {
                    "median_s": statistics.median(medians), "min_s": min(medians), "max_s": max(medians),
                    "reps": sum(r["reps"] for r in rows), "checksum": rows[-1]["checksum"]}
    return table


def run_alternating_rounds(commands: dict[str, list[str]], labels: dict[str, str], kernels: list[str],
                           rounds: int, threads: int, program: str) -> dict[str, list[dict]]:
    """Runs every implementation's timing command (`commands[impl] + ["--only", kernel]`, each
    printing one JSON report) `rounds` times, kernel by kernel, back to back in alternating order,
    with OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = MKL_NUM_THREADS = `threads`; warns when a report
    names another thread count. Returns each implementation's reports in run order."""
    import json
    import os
    import sys

    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    implementations = list(commands)
    runs: dict[str, list[dict]] = {impl: [] for impl in implementations}
    for round_index in range(rounds):
        for kernel_index, kernel in enumerate(kernels):
            shift = (round_index + kernel_index) % len(implementations)
            order = implementations[shift:] + implementations[:shift]
            print(f"round {round_index + 1}/{rounds}: {kernel} ({', '.join(labels[i] for i in order)})",
                  file=sys.stderr, flush=True)
            for impl in order:
                report = json.loads(run_checked([*commands[impl], "--only", kernel], program, env))
                if report.get("openblas_threads") != threads:
                    print(f"warning: {labels[impl]} reports {report.get('openblas_threads')} threads, "
                          f"asked for {threads}", file=sys.stderr)
                runs[impl].append(report)
    return runs


def add_same_run_arguments(parser, max_reps: int, example_kernel: str) -> None:
    """The options every same-run comparison script takes: --threads, --rounds, --budget,
    --min-reps, --max-reps, --only, --skip-build, --json, --write-readme."""
    from pathlib import Path

    parser.add_argument("--threads", type=int, default=1,
                        help="OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = torch.set_num_threads (default 1)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--budget", type=float, default=1.0,
                        help="target seconds of timed calls per kernel per round (default 1.0)")
    parser.add_argument("--min-reps", type=int, default=15, help="fewest timed calls per kernel (default 15)")
    parser.add_argument("--max-reps", type=int, default=max_reps, help=f"most timed calls per kernel (default {max_reps})")
    parser.add_argument("--only", help=f"comma-separated kernels, e.g. '{example_kernel}'")
    parser.add_argument("--skip-build", action="store_true", help="reuse the existing binary")
    parser.add_argument("--json", type=Path, help="also write every raw report to this file")
    parser.add_argument("--write-readme", action="store_true", help="write this comparison's section of Benchmarks/README.md")
