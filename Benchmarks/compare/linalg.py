#!/usr/bin/env python3
"""Same-run comparison of MetaFolio's Linalg kernels with direct OpenBLAS (C) and NumPy.

The script
  1. compiles linalg_direct.c with gcc -O2 against Debian's OpenBLAS/LAPACKE into compare/bin/,
  2. builds the Swift `LinalgTimings` executable of the Benchmarks package with `-c release`,
  3. runs the three implementations (C, NumPy, Swift) in separate processes, `--rounds` times:
     in each round kernel by kernel, the three back to back in a rotating order, all with
     OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = --threads,
  4. prints a table of medians (per kernel: the median over rounds of each round's median over
     many timed calls) with the ratios Swift/C and Swift/NumPy, checks that every implementation
     computed the same result, and reports the two performance targets,
  5. with --write-readme, replaces the marked section of Benchmarks/README.md with the table.

Every implementation uses the same inputs (SplitMix64 streams, reproduced here with NumPy) and
the same timing rule: warm up for at least 3 calls and 0.05 s (the first call is not counted in
the warm-up mean), then time reps = clamp(budget / warm-up mean, min-reps, max-reps) calls one by
one and take the median. A checksum of the last call's output, computed after the timing, shows
that all three computed the same result.

Run from anywhere: python3 Benchmarks/compare/linalg.py [--threads 1] [--rounds 3] [--write-readme]
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
from bench_common import median_of_rounds, replace_marked_section, splitmix_uniform, time_calls  # noqa: E402

COMPARE_DIR = Path(__file__).resolve().parent
BENCH_DIR = COMPARE_DIR.parent
ROOT_DIR = BENCH_DIR.parent
README = BENCH_DIR / "README.md"
BEGIN_MARK = "<!-- BEGIN linalg-compare (written by compare/linalg.py --write-readme) -->"
END_MARK = "<!-- END linalg-compare -->"

KERNELS = [
    ("gemm 64", 2 * 64**3),
    ("gemm 256", 2 * 256**3),
    ("gemm 1024", 2 * 1024**3),
    ("cholesky 100", None),
    ("eigh 100", None),
    ("cholesky 500", None),
    ("eigh 500", None),
    ("cov 8000x20", None),
    ("cov 2000x500", None),
]
KERNEL_NAMES = [name for name, _ in KERNELS]
IMPLEMENTATIONS = ["c", "numpy", "swift"]
LABELS = {"c": "direct C", "numpy": "NumPy", "swift": "MetaFolio"}
GEMM_THROUGHPUT_TARGET = 0.95  # gemm through Matrix >= 95% of direct cblas_dgemm for n >= 256


# --------------------------------------------------------------------------------------------
# NumPy worker: runs in its own process (so the thread variables are set before NumPy loads).
# --------------------------------------------------------------------------------------------

def spd(n: int):
    """X^T X / n + I with X the n x n uniform matrix of seed 3 (Matrix.benchmarkSPD(order:))."""
    import numpy as np

    x = splitmix_uniform(n * n, 3).reshape(n, n)
    return x.T @ x / n + np.eye(n)


def numpy_openblas_info() -> tuple[int, str]:
    """Thread count and build string of the OpenBLAS that NumPy loaded (scipy-openblas)."""
    import ctypes
    import glob

    import numpy as np

    libs = glob.glob(os.path.join(os.path.dirname(np.__file__), os.pardir, "numpy.libs", "*openblas*"))
    for path in libs:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for suffix in ("64_", "", "_64_"):
            threads = getattr(lib, f"scipy_openblas_get_num_threads{suffix}", None)
            config = getattr(lib, f"scipy_openblas_get_config{suffix}", None)
            if threads and config:
                config.restype = ctypes.c_char_p
                return int(threads()), config().decode().strip()
    return -1, "unknown (NumPy's OpenBLAS not found)"


def numpy_worker(args: argparse.Namespace) -> None:
    import numpy as np

    def timed(kernel: str, body, checksum) -> dict:
        median, reps, output = time_calls(body, args.budget, args.min_reps, args.max_reps, max_warm_calls=200)
        return {"kernel": kernel, "median_s": median, "reps": reps, "checksum": float(checksum(output))}

    wanted = set(args.only.split(",")) if args.only else set(KERNEL_NAMES)
    results = []
    for n in (64, 256, 1024):
        if f"gemm {n}" not in wanted:
            continue
        a = splitmix_uniform(n * n, 1).reshape(n, n)
        b = splitmix_uniform(n * n, 2).reshape(n, n)
        c = np.zeros((n, n))

        results.append(timed(f"gemm {n}", lambda a=a, b=b, c=c: np.matmul(a, b, out=c), np.sum))
    for n in (100, 500):
        s = spd(n)
        if f"cholesky {n}" in wanted:
            results.append(timed(f"cholesky {n}", lambda s=s: np.linalg.cholesky(s), np.trace))
        if f"eigh {n}" in wanted:
            results.append(timed(f"eigh {n}", lambda s=s: np.linalg.eigh(s),
                                 lambda result: result.eigenvalues.sum()))
    for rows, columns in ((8000, 20), (2000, 500)):
        if f"cov {rows}x{columns}" not in wanted:
            continue
        x = splitmix_uniform(rows * columns, 4).reshape(rows, columns)
        results.append(timed(f"cov {rows}x{columns}", lambda x=x: np.cov(x, rowvar=False), np.trace))

    threads, config = numpy_openblas_info()
    print(json.dumps({"implementation": "numpy", "numpy_version": np.__version__,
                      "openblas_threads": threads, "openblas_config": config, "results": results},
                     indent=2))


# --------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------

def run(command: list[str], env: dict | None = None, cwd: Path | None = None) -> str:
    completed = subprocess.run(command, env=env, cwd=cwd, stdout=subprocess.PIPE, text=True)
    if completed.returncode != 0:
        sys.exit(f"linalg.py: `{shlex.join(command)}` failed with exit code {completed.returncode}")
    return completed.stdout


def build(args: argparse.Namespace) -> dict[str, list[str]]:
    """Compiles the C program and the Swift timings; returns the command of each implementation."""
    bin_dir = COMPARE_DIR / "bin"
    bin_dir.mkdir(exist_ok=True)
    c_binary = bin_dir / "linalg_direct"
    flags = run(["pkg-config", "--cflags", "--libs", "openblas", "lapacke"]).split()
    if not args.skip_build or not c_binary.exists():
        print(f"Compiling {c_binary.relative_to(ROOT_DIR)} (gcc -O2, {' '.join(flags)})", file=sys.stderr)
        run(["gcc", "-O2", "-Wall", "-Wextra", str(COMPARE_DIR / "linalg_direct.c"), *flags, "-o", str(c_binary)])
    swift = os.environ.get("SWIFT", "swift")
    swift_build = [swift, "build", "-c", "release", "--package-path", str(BENCH_DIR), "--product", "LinalgTimings"]
    if not args.skip_build:
        print(f"Building LinalgTimings: {shlex.join(swift_build)}", file=sys.stderr)
        subprocess.run(swift_build, check=True, stdout=sys.stderr)
    bin_path = run([*swift_build, "--show-bin-path"]).strip()
    timing_args = ["--budget", str(args.budget), "--min-reps", str(args.min_reps), "--max-reps", str(args.max_reps)]
    return {
        "c": [str(c_binary), *timing_args],
        "numpy": [sys.executable, str(Path(__file__).resolve()), "--numpy-worker", *timing_args],
        "swift": [str(Path(bin_path) / "LinalgTimings"), *timing_args],
    }


def machine_description() -> dict:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    family = ""
    try:
        info = Path("/proc/cpuinfo").read_text()
        fam = re.search(r"^cpu family\s*:\s*(\d+)", info, re.M)
        mod = re.search(r"^model\s*:\s*(\d+)", info, re.M)
        if fam and mod:
            family = f"family {fam.group(1)}, model {mod.group(1)}"
    except OSError:
        pass
    debian_openblas = "unknown"
    try:
        debian_openblas = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", "libopenblas0-pthread"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout.strip() or "unknown"
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu_model": model, "cpu_family": family,
            "kernel": platform.release(), "debian_openblas": debian_openblas}


def format_time(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.3f} s"


def format_ratio(numerator: float | None, denominator: float | None) -> str:
    if numerator is None or denominator is None:
        return "—"
    return f"{numerator / denominator:.2f}"


def aggregate(runs: dict[str, list[dict]]) -> dict[str, dict[str, dict]]:
    """Per implementation and kernel: median over rounds of the per-round medians, and the spread."""
    return median_of_rounds(runs, KERNEL_NAMES)


def check_agreement(table: dict) -> list[str]:
    problems = []
    for kernel in KERNEL_NAMES:
        sums = {impl: table[impl][kernel]["checksum"] for impl in table if kernel in table[impl]}
        if "swift" not in sums:
            continue
        reference = sums["swift"]
        for impl, value in sums.items():
            if abs(value - reference) > 1e-8 * max(1.0, abs(reference)):
                problems.append(f"{kernel}: checksum {LABELS[impl]} {value!r} != MetaFolio {reference!r}")
    return problems


def render_table(table: dict) -> list[str]:
    has_numpy = "numpy" in table
    header = ["kernel", "direct C", "NumPy", "MetaFolio", "Swift/C", "Swift/NumPy", "MetaFolio GFLOP/s"]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    flops = dict(KERNELS)
    for kernel in KERNEL_NAMES:
        get = lambda impl: table.get(impl, {}).get(kernel, {}).get("median_s")  # noqa: E731
        c, numpy, swift = get("c"), get("numpy"), get("swift")
        if c is None and numpy is None and swift is None:
            continue
        gflops = f"{flops[kernel] / swift / 1e9:.1f}" if flops[kernel] and swift else ""
        lines.append("| " + " | ".join([
            kernel, format_time(c), format_time(numpy) if has_numpy else "—", format_time(swift),
            format_ratio(swift, c), format_ratio(swift, numpy), gflops]) + " |")
    return lines


def targets(table: dict) -> list[str]:
    out = []
    swift, c, numpy = table.get("swift", {}), table.get("c", {}), table.get("numpy", {})
    for n in (256, 1024):
        kernel = f"gemm {n}"
        if kernel in swift and kernel in c:
            throughput = c[kernel]["median_s"] / swift[kernel]["median_s"]
            verdict = "met" if throughput >= GEMM_THROUGHPUT_TARGET else "MISSED"
            out.append(f"- {kernel}: MetaFolio runs at {throughput:.1%} of direct cblas_dgemm's throughput "
                       f"(target ≥ {GEMM_THROUGHPUT_TARGET:.0%}): {verdict}")
    kernel = "cov 8000x20"
    if kernel in swift and kernel in numpy:
        ratio = swift[kernel]["median_s"] / numpy[kernel]["median_s"]
        verdict = "met" if ratio < 1 else "MISSED"
        out.append(f"- {kernel}: MetaFolio takes {ratio:.2f}× numpy.cov's time (target < 1): {verdict}")
    return out


def write_readme(section: str) -> None:
    replace_marked_section(README, BEGIN_MARK, END_MARK, section)
    print(f"Updated {README.relative_to(ROOT_DIR)}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1,
                        help="OPENBLAS_NUM_THREADS and OMP_NUM_THREADS for all three (default 1)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds; each times every kernel with the three implementations back to back "
                             "in a rotating order (default 3)")
    parser.add_argument("--budget", type=float, default=1.0,
                        help="target seconds of timed calls per kernel per round (default 1.0)")
    parser.add_argument("--min-reps", type=int, default=15, help="fewest timed calls per kernel (default 15)")
    parser.add_argument("--max-reps", type=int, default=5000, help="most timed calls per kernel (default 5000)")
    parser.add_argument("--only", help="comma-separated kernels, e.g. 'gemm 256,cov 8000x20'")
    parser.add_argument("--no-numpy", action="store_true", help="skip NumPy (also skipped if not importable)")
    parser.add_argument("--skip-build", action="store_true", help="reuse the existing binaries")
    parser.add_argument("--json", type=Path, help="also write every raw report to this file")
    parser.add_argument("--write-readme", action="store_true",
                        help="replace the marked results section of Benchmarks/README.md")
    parser.add_argument("--numpy-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.numpy_worker:
        numpy_worker(args)
        return
    if args.only:
        unknown = set(args.only.split(",")) - set(KERNEL_NAMES)
        if unknown:
            parser.error(f"unknown kernels {sorted(unknown)}; choose from {KERNEL_NAMES}")
    if args.threads < 1 or args.rounds < 1:
        parser.error("--threads and --rounds must be at least 1")

    commands = build(args)
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(args.threads), OMP_NUM_THREADS=str(args.threads))
    implementations = list(IMPLEMENTATIONS)
    if args.no_numpy:
        implementations.remove("numpy")
    else:
        probe = subprocess.run([sys.executable, "-c", "import numpy"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if probe.returncode != 0:
            print("NumPy is not importable by this Python; skipping it (pip install numpy)", file=sys.stderr)
            implementations.remove("numpy")

    runs: dict[str, list[dict]] = {impl: [] for impl in implementations}
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    kernels = [k for k in KERNEL_NAMES if not args.only or k in args.only.split(",")]
    # Kernel by kernel, the three implementations back to back (order rotated), so a change in
    # the machine's load between kernels hits all three measurements of a kernel alike.
    for round_index in range(args.rounds):
        for kernel_index, kernel in enumerate(kernels):
            shift = (round_index + kernel_index) % len(implementations)
            order = implementations[shift:] + implementations[:shift]
            print(f"round {round_index + 1}/{args.rounds}: {kernel} ({', '.join(LABELS[i] for i in order)})",
                  file=sys.stderr, flush=True)
            for impl in order:
                report = json.loads(run([*commands[impl], "--only", kernel], env=env))
                if report.get("openblas_threads") != args.threads:
                    print(f"warning: {LABELS[impl]} reports {report.get('openblas_threads')} OpenBLAS threads, "
                          f"asked for {args.threads}", file=sys.stderr)
                runs[impl].append(report)
    elapsed = time.monotonic() - started
    load_after = os.getloadavg()[0]

    table = aggregate(runs)
    machine = machine_description()
    numpy_report = runs.get("numpy", [{}])[0] if runs.get("numpy") else {}
    threads = {impl: runs[impl][0].get("openblas_threads") for impl in implementations}
    invocation = "python3 Benchmarks/compare/linalg.py " + shlex.join(sys.argv[1:])

    lines = [
        f"Threads: OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = {args.threads} "
        f"(reported by each library: " + ", ".join(f"{LABELS[i]} {threads[i]}" for i in implementations) + ").",
        f"Machine: {machine['nproc']} cores, {machine['cpu_model']} ({machine['cpu_family']}), "
        f"Linux {machine['kernel']}; 1-minute load average {load_before:.2f} before and "
        f"{load_after:.2f} after the timing (other work on the machine inflates every column).",
        f"Direct C and MetaFolio: Debian OpenBLAS {machine['debian_openblas']} "
        f"(`{runs['c'][0].get('openblas_config', '?').strip()}`)",
    ]
    if numpy_report:
        lines.append(f"NumPy {numpy_report.get('numpy_version')} with its bundled scipy-openblas "
                     f"(`{numpy_report.get('openblas_config')}`) — a different, newer OpenBLAS build.")
    lines += [
        f"Medians over {args.rounds} rounds of per-round medians (each kernel timed by the three "
        f"implementations back to back, order rotated); "
        f"each round times ≈{args.budget:g} s of calls per kernel (≥{args.min_reps}, ≤{args.max_reps} calls) "
        f"after warm-up. Ratios are time ratios: below 1 means MetaFolio is faster.",
        "",
        *render_table(table),
        "",
        "Targets:",
        *targets(table),
    ]
    problems = check_agreement(table)
    lines += ["", "Results agree across implementations (checksums within 1e-8 relative)." if not problems
              else "Checksum MISMATCH: " + "; ".join(problems)]
    lines += ["", f"Produced by `{invocation}` on {datetime.date.today().isoformat()} "
              f"({elapsed:.0f} s of timing)."]
    section = "\n".join(lines)
    print(section)

    if args.json:
        args.json.write_text(json.dumps({"machine": machine, "runs": runs, "table": table}, indent=2))
    if args.write_readme:
        write_readme(section)
    if problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
