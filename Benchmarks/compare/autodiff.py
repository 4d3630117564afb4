#!/usr/bin/env python3
"""Same-run comparison of MetaFolio's Autodiff with PyTorch on the CPU.

The script
  1. builds the Swift `AutodiffTimings` executable of the Benchmarks package with `-c release`,
  2. runs a PyTorch worker (this script with --torch-worker, a separate process) and
     `AutodiffTimings`, `--rounds` times: in each round kernel by kernel, the two back to back in
     alternating order, both with OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = MKL_NUM_THREADS =
     --threads (PyTorch also calls torch.set_num_threads(--threads) and
     torch.set_num_interop_threads(1)),
  3. prints a table of medians (per kernel: the median over rounds of each round's median over many
     timed calls) with the ratio PyTorch/MetaFolio, checks that both computed the same result, and
     reports the Autodiff performance targets,
  4. with --write-readme, replaces the marked Autodiff section of Benchmarks/README.md.

Kernels (inputs: SplitMix64 streams, reproduced here with NumPy; see AutodiffWorkloads):
  perop 4x4 f32/f64     y = tanh(x*w + b) on 4x4 tensors, x and w requiring gradients, then the
                        gradients of y w.r.t. [x, w] for a seed of ones
                        (torch.autograd.grad(y, [x, w], grad_outputs=ones))
  matmul 256 f32/f64    C = A @ B and the gradients w.r.t. [A, B] for a seed G (A, B require grad)
  gemm3 256 f32/f64     the three GEMMs that needs (C = AB, dA = G Bᵀ, dB = Aᵀ G) into preallocated
                        outputs (MetaFolio: cblas_?gemm; PyTorch: torch.mm(..., out=))
  gemm3 alloc 256 ...   the same three GEMMs into newly allocated outputs
  matmul tuned 256 ...  MetaFolio only: matmul fwd+bwd in a process that first called
                        AllocatorTuning.retainFreedMemory() (glibc mallopt: freed result buffers are
                        reused from the heap instead of being page-faulted in again)
  matmul vs gemm3 paired 256 ...  MetaFolio only: matmul fwd+bwd and the preallocated three GEMMs
                        timed alternately, call by call; reports the median per-pair time ratio,
                        which a changing machine load disturbs much less than a ratio of medians
  add/exp/tanh/sum 1M   forward only, constants, 2^20 Float32 elements
  lstm step f32/f64     one training step of a 1-layer batch-first LSTM (batch 32, 50 steps, 8 -> 64):
                        forward, MSE of the output sequence against a target, backward, Adam
                        (lr 1e-3); parameters from SplitMix64 streams 21-24 times 1/sqrt(64); every
                        call trains further, the checksum is the first call's loss
  lstm step tuned ...   MetaFolio only: the same in a process that first called
                        AllocatorTuning.retainFreedMemory(); compared with PyTorch's "lstm step"

Timing rule (both sides): warm up for at least 3 calls and 0.05 s, then time
reps = clamp(budget / warm-up mean, min-reps, max-reps) calls one by one and take the median. Each
call's result is kept until the next call replaces it.

Run from anywhere: python3 Benchmarks/compare/autodiff.py [--threads 1] [--rounds 3] [--write-readme]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shlex
import statistics
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
BEGIN_MARK = "<!-- BEGIN autodiff-compare (written by compare/autodiff.py --write-readme) -->"
END_MARK = "<!-- END autodiff-compare -->"

KERNEL_NAMES = [
    "perop 4x4 f32", "perop 4x4 f64",
    "matmul 256 f32", "gemm3 256 f32", "gemm3 alloc 256 f32", "matmul vs gemm3 paired 256 f32", "matmul tuned 256 f32",
    "matmul 256 f64", "gemm3 256 f64", "gemm3 alloc 256 f64", "matmul vs gemm3 paired 256 f64", "matmul tuned 256 f64",
    "add 1M f32", "exp 1M f32", "tanh 1M f32", "sum 1M f32",
    "lstm step f32", "lstm step f64", "lstm step tuned f32", "lstm step tuned f64",
]
IMPLEMENTATIONS = ["torch", "swift"]
LABELS = {"torch": "PyTorch", "swift": "MetaFolio"}
PEROP_SPEEDUP_TARGET = 10.0   # per-op graph + backward >= 10x faster than PyTorch
MATMUL_OVERHEAD_TARGET = 1.10  # matmul fwd+bwd within 1.1x the three raw GEMMs
LSTM_TARGETS = {"f32": (1.5, 1.0), "f64": (0.5, None)}  # MetaFolio time / PyTorch time (target, stretch)
LSTM_SIZES = (32, 50, 8, 64)  # batch, steps, input features, hidden (AutodiffWorkloads.LSTMStepWorkload)
LSTM_PARAMETER_SEEDS = (21, 22, 23, 24)  # weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0
SEED_FIRST, SEED_SECOND, SEED_THIRD = 11, 12, 13


# --------------------------------------------------------------------------------------------
# PyTorch worker: runs in its own process (so the thread variables are set before torch loads).
# --------------------------------------------------------------------------------------------

def torch_worker(args: argparse.Namespace) -> None:
    import torch

    torch.set_num_threads(args.threads_for_worker)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass

    def tensor(shape, seed, dtype, requires_grad=False):
        count = 1
        for d in shape:
            count *= d
        values = torch.from_numpy(splitmix_uniform(count, seed).reshape(shape)).to(dtype)
        return values.requires_grad_(requires_grad)

    def checksum(output) -> float:
        if isinstance(output, (tuple, list)):
            return sum(checksum(o) for o in output)
        return float(output.detach().to(torch.float64).sum())

    def timed(kernel: str, body) -> dict:
        median, reps, output = time_calls(body, args.budget, args.min_reps, args.max_reps)
        return {"kernel": kernel, "median_s": median, "reps": reps, "checksum": checksum(output)}

    wanted = set(args.only.split(",")) if args.only else set(KERNEL_NAMES)
    results = []
    for dtype, suffix in ((torch.float32, "f32"), (torch.float64, "f64")):
        kernel = f"perop 4x4 {suffix}"
        if kernel in wanted:
            x = tensor((4, 4), SEED_FIRST, dtype, True)
            w = tensor((4, 4), SEED_SECOND, dtype, True)
            b = tensor((4, 4), SEED_THIRD, dtype)
            ones = torch.ones(4, 4, dtype=dtype)

            def perop(x=x, w=w, b=b, ones=ones):
                y = torch.tanh(x * w + b)
                return torch.autograd.grad(y, [x, w], grad_outputs=ones)
            results.append(timed(kernel, perop))
    for dtype, suffix in ((torch.float32, "f32"), (torch.float64, "f64")):
        n = 256
        a = tensor((n, n), SEED_FIRST, dtype, True)
        b = tensor((n, n), SEED_SECOND, dtype, True)
        g = tensor((n, n), SEED_THIRD, dtype)
        if f"matmul {n} {suffix}" in wanted:
            def matmul(a=a, b=b, g=g):
                c = a @ b
                da, db = torch.autograd.grad(c, [a, b], grad_outputs=g)
                return c, da, db
            results.append(timed(f"matmul {n} {suffix}", matmul))
        ad, bd = a.detach(), b.detach()
        if f"gemm3 {n} {suffix}" in wanted:
            c, da, db = (torch.empty(n, n, dtype=dtype) for _ in range(3))

            def gemm3(ad=ad, bd=bd, g=g, c=c, da=da, db=db):
                torch.mm(ad, bd, out=c)
                torch.mm(g, bd.t(), out=da)
                torch.mm(ad.t(), g, out=db)
                return c, da, db
            results.append(timed(f"gemm3 {n} {suffix}", gemm3))
        if f"gemm3 alloc {n} {suffix}" in wanted:
            def gemm3_alloc(ad=ad, bd=bd, g=g):
                return torch.mm(ad, bd), torch.mm(g, bd.t()), torch.mm(ad.t(), g)
            results.append(timed(f"gemm3 alloc {n} {suffix}", gemm3_alloc))
    if any(k.endswith("1M f32") for k in wanted):
        count = 1 << 20
        u = tensor((count,), SEED_FIRST, torch.float32)
        v = tensor((count,), SEED_SECOND, torch.float32)
        for kernel, body in (("add 1M f32", lambda: u + v), ("exp 1M f32", lambda: torch.exp(u)),
                             ("tanh 1M f32", lambda: torch.tanh(u)), ("sum 1M f32", lambda: torch.sum(u))):
            if kernel in wanted:
                with torch.no_grad():
                    results.append(timed(kernel, body))

    for dtype, suffix in ((torch.float32, "f32"), (torch.float64, "f64")):
        kernel = f"lstm step {suffix}"
        if kernel not in wanted:
            continue
        batch, steps, features, hidden = LSTM_SIZES
        lstm = torch.nn.LSTM(features, hidden, batch_first=True).to(dtype)
        with torch.no_grad():
            for name, seed in zip(("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"), LSTM_PARAMETER_SEEDS):
                parameter = getattr(lstm, name)
                parameter.copy_(tensor(tuple(parameter.shape), seed, dtype) * (1 / hidden ** 0.5))
        optimizer = torch.optim.Adam(lstm.parameters(), lr=1e-3)
        x = tensor((batch, steps, features), SEED_FIRST, dtype)
        target = tensor((batch, steps, hidden), SEED_SECOND, dtype)
        first_loss = []

        def lstm_step(lstm=lstm, optimizer=optimizer, x=x, target=target, first_loss=first_loss):
            optimizer.zero_grad(set_to_none=True)
            output, _ = lstm(x)
            loss = torch.nn.functional.mse_loss(output, target)
            loss.backward()
            optimizer.step()
            if not first_loss:
                first_loss.append(float(loss.detach()))
            return loss
        row = timed(kernel, lstm_step)
        row["checksum"] = first_loss[0]
        results.append(row)

    print(json.dumps({"implementation": "torch", "torch_version": torch.__version__,
                      "openblas_threads": torch.get_num_threads(), "results": results}, indent=2))


# --------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------

def run(command: list[str], env: dict | None = None) -> str:
    completed = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True)
    if completed.returncode != 0:
        sys.exit(f"autodiff.py: `{shlex.join(command)}` failed with exit code {completed.returncode}")
    return completed.stdout


def build(args: argparse.Namespace) -> dict[str, list[str]]:
    swift = os.environ.get("SWIFT", "swift")
    swift_build = [swift, "build", "-c", "release", "--package-path", str(BENCH_DIR), "--product", "AutodiffTimings"]
    if not args.skip_build:
        print(f"Building AutodiffTimings: {shlex.join(swift_build)}", file=sys.stderr)
        subprocess.run(swift_build, check=True, stdout=sys.stderr)
    bin_path = run([*swift_build, "--show-bin-path"]).strip()
    timing_args = ["--budget", str(args.budget), "--min-reps", str(args.min_reps), "--max-reps", str(args.max_reps)]
    return {
        "torch": [sys.executable, str(Path(__file__).resolve()), "--torch-worker",
                  "--threads", str(args.threads), *timing_args],
        "swift": [str(Path(bin_path) / "AutodiffTimings"), *timing_args],
    }


def machine_description() -> dict:
    model, family = "unknown", ""
    try:
        info = Path("/proc/cpuinfo").read_text()
        name = re.search(r"^model name\s*:\s*(.+)$", info, re.M)
        fam = re.search(r"^cpu family\s*:\s*(\d+)", info, re.M)
        mod = re.search(r"^model\s*:\s*(\d+)", info, re.M)
        model = name.group(1).strip() if name else model
        if fam and mod:
            family = f"family {fam.group(1)}, model {mod.group(1)}"
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu_model": model, "cpu_family": family, "kernel": platform.release()}


def format_time(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.3f} ms"
    return f"{seconds:.3f} s"


def aggregate(runs: dict[str, list[dict]]) -> dict[str, dict[str, dict]]:
    """Per implementation and kernel: median over rounds of the per-round medians, plus the median
    paired ratio and baseline of the paired kernels."""
    table = median_of_rounds(runs, KERNEL_NAMES)
    for impl, reports in runs.items():
        for kernel, entry in table.get(impl, {}).items():
            rows = [r for report in reports for r in report["results"] if r["kernel"] == kernel]
            ratios = [r["paired_ratio"] for r in rows if "paired_ratio" in r]
            if ratios:
                entry["paired_ratio"] = statistics.median(ratios)
                entry["paired_ratios"] = ratios
                entry["baseline_s"] = statistics.median(r["baseline_s"] for r in rows)
    return table


def tolerance(kernel: str) -> float:
    if kernel.startswith("lstm"):
        # The loss of the first step: float32 LSTM arithmetic in a different order on each side.
        return 1e-9 if kernel.endswith("f64") else 1e-5
    # Float32 results differ in the last bits (libm vs SLEEF exp/tanh, summation order); the
    # checksums are sums over up to 2^20 elements accumulated in float64.
    return 1e-9 if kernel.endswith("f64") else 2e-5


def check_agreement(table: dict) -> list[str]:
    problems = []
    for kernel in KERNEL_NAMES:
        sums = {impl: table[impl][kernel]["checksum"] for impl in table if kernel in table[impl]}
        if len(sums) == 2:
            ref, other = sums["swift"], sums["torch"]
            if abs(ref - other) > tolerance(kernel) * max(1.0, abs(ref)):
                problems.append(f"{kernel}: checksum PyTorch {other!r} != MetaFolio {ref!r}")
    return problems


def render_table(table: dict) -> list[str]:
    header = ["kernel", "PyTorch", "MetaFolio", "PyTorch/MetaFolio (speed-up)", "MetaFolio spread (min–max over rounds)"]
    lines = ["| " + " | ".join(header) + " |", "|---|---:|---:|---:|---:|"]
    for kernel in KERNEL_NAMES:
        t = table.get("torch", {}).get(kernel)
        s = table.get("swift", {}).get(kernel)
        if t is None and s is None:
            continue
        ratio = f"{t['median_s'] / s['median_s']:.2f}" if t and s else "—"
        spread = f"{format_time(s['min_s'])} – {format_time(s['max_s'])}" if s else "—"
        lines.append(f"| {kernel} | {format_time(t and t['median_s'])} | {format_time(s and s['median_s'])} "
                     f"| {ratio} | {spread} |")
    return lines


def targets(table: dict) -> list[str]:
    out = []
    swift, torch_ = table.get("swift", {}), table.get("torch", {})
    for suffix in ("f32", "f64"):
        kernel = f"perop 4x4 {suffix}"
        if kernel in swift and kernel in torch_:
            speedup = torch_[kernel]["median_s"] / swift[kernel]["median_s"]
            verdict = "met" if speedup >= PEROP_SPEEDUP_TARGET else "MISSED"
            out.append(f"- {kernel}: MetaFolio {format_time(swift[kernel]['median_s'])}, PyTorch "
                       f"{format_time(torch_[kernel]['median_s'])}: {speedup:.1f}× faster "
                       f"(target ≥ {PEROP_SPEEDUP_TARGET:.0f}×): {verdict}")
    for suffix in ("f32", "f64"):
        m, g, ga = f"matmul 256 {suffix}", f"gemm3 256 {suffix}", f"gemm3 alloc 256 {suffix}"
        if m in swift and g in swift:
            ratio = swift[m]["median_s"] / swift[g]["median_s"]
            verdict = "met" if ratio <= MATMUL_OVERHEAD_TARGET else "MISSED"
            extra = (f"; vs the same GEMMs into fresh outputs {swift[m]['median_s'] / swift[ga]['median_s']:.2f}×"
                     if ga in swift else "")
            out.append(f"- {m}, ratio of medians: forward+backward takes {ratio:.2f}× the three raw GEMMs into "
                       f"preallocated outputs (target ≤ {MATMUL_OVERHEAD_TARGET}×): {verdict}{extra}")
        tuned = f"matmul tuned 256 {suffix}"
        if tuned in swift and g in swift:
            ratio = swift[tuned]["median_s"] / swift[g]["median_s"]
            verdict = "met" if ratio <= MATMUL_OVERHEAD_TARGET else "MISSED"
            out.append(f"- {m} with AllocatorTuning.retainFreedMemory() (opt-in, process-wide), ratio of medians: "
                       f"{ratio:.2f}× the three raw GEMMs into preallocated outputs (target ≤ {MATMUL_OVERHEAD_TARGET}×): "
                       f"{verdict}")
        p = f"matmul vs gemm3 paired 256 {suffix}"
        if p in swift and "paired_ratio" in swift[p]:
            ratio = swift[p]["paired_ratio"]
            verdict = "met" if ratio <= MATMUL_OVERHEAD_TARGET else "MISSED"
            per_round = ", ".join(f"{r:.3f}" for r in swift[p]["paired_ratios"])
            out.append(f"- {m}, paired (alternating calls in one process): median per-pair ratio {ratio:.3f}× "
                       f"(per round: {per_round}; matmul {format_time(swift[p]['median_s'])}, three GEMMs "
                       f"{format_time(swift[p]['baseline_s'])}) (target ≤ {MATMUL_OVERHEAD_TARGET}×): {verdict}")
    for (suffix, (target, stretch)), variant in ((item, variant) for variant in ("", "tuned ")
                                                  for item in LSTM_TARGETS.items()):
        kernel, peer = f"lstm step {variant}{suffix}", f"lstm step {suffix}"
        if kernel in swift and peer in torch_:
            ratio = swift[kernel]["median_s"] / torch_[peer]["median_s"]
            verdict = "met" if ratio <= target else "MISSED"
            if stretch is not None:
                verdict += f"; stretch ≤ {stretch}×: {'met' if ratio <= stretch else 'not met'}"
            tuning = " with AllocatorTuning.retainFreedMemory()" if variant else ""
            out.append(f"- {kernel} (batch 32, 50 steps, 8 → 64, forward + MSE + backward + Adam{tuning}): "
                       f"MetaFolio {format_time(swift[kernel]['median_s'])}, PyTorch "
                       f"{format_time(torch_[peer]['median_s'])}: {ratio:.2f}× PyTorch's time "
                       f"(target ≤ {target}×): {verdict}")
    return out


def write_readme(section: str) -> None:
    replace_marked_section(README, BEGIN_MARK, END_MARK, section)
    print(f"Updated {README.relative_to(ROOT_DIR)}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1,
                        help="OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = torch.set_num_threads (default 1)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--budget", type=float, default=1.0,
                        help="target seconds of timed calls per kernel per round (default 1.0)")
    parser.add_argument("--min-reps", type=int, default=15, help="fewest timed calls per kernel (default 15)")
    parser.add_argument("--max-reps", type=int, default=20000, help="most timed calls per kernel (default 20000)")
    parser.add_argument("--only", help="comma-separated kernels, e.g. 'perop 4x4 f32,matmul 256 f32'")
    parser.add_argument("--skip-build", action="store_true", help="reuse the existing binary")
    parser.add_argument("--json", type=Path, help="also write every raw report to this file")
    parser.add_argument("--write-readme", action="store_true",
                        help="replace the marked Autodiff results section of Benchmarks/README.md")
    parser.add_argument("--torch-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.torch_worker:
        args.threads_for_worker = args.threads
        torch_worker(args)
        return
    if args.only:
        unknown = set(args.only.split(",")) - set(KERNEL_NAMES)
        if unknown:
            parser.error(f"unknown kernels {sorted(unknown)}; choose from {KERNEL_NAMES}")
    if args.threads < 1 or args.rounds < 1:
        parser.error("--threads and --rounds must be at least 1")

    commands = build(args)
    threads = str(args.threads)
    env = dict(os.environ, OPENBLAS_NUM_THREADS=threads, OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads)
    runs: dict[str, list[dict]] = {impl: [] for impl in IMPLEMENTATIONS}
    load_before = os.getloadavg()
    started = time.monotonic()
    kernels = [k for k in KERNEL_NAMES if not args.only or k in args.only.split(",")]
    for round_index in range(args.rounds):
        for kernel_index, kernel in enumerate(kernels):
            shift = (round_index + kernel_index) % 2
            order = IMPLEMENTATIONS[shift:] + IMPLEMENTATIONS[:shift]
            print(f"round {round_index + 1}/{args.rounds}: {kernel} ({', '.join(LABELS[i] for i in order)})",
                  file=sys.stderr, flush=True)
            for impl in order:
                report = json.loads(run([*commands[impl], "--only", kernel], env=env))
                if report.get("openblas_threads") != args.threads:
                    print(f"warning: {LABELS[impl]} reports {report.get('openblas_threads')} threads, "
                          f"asked for {args.threads}", file=sys.stderr)
                runs[impl].append(report)
    elapsed = time.monotonic() - started
    load_after = os.getloadavg()

    table = aggregate(runs)
    machine = machine_description()
    torch_version = runs["torch"][0].get("torch_version") if runs["torch"] else "?"
    reported = {impl: runs[impl][0].get("openblas_threads") for impl in IMPLEMENTATIONS if runs[impl]}
    invocation = "python3 Benchmarks/compare/autodiff.py " + shlex.join(sys.argv[1:])
    swift_config = runs["swift"][0].get("openblas_config", "?") if runs["swift"] else "?"
    lines = [
        f"Threads: {args.threads} (OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = MKL_NUM_THREADS, "
        f"torch.set_num_threads; reported: MetaFolio's OpenBLAS {reported.get('swift')}, "
        f"PyTorch intra-op {reported.get('torch')}).",
        f"Machine: {machine['nproc']} cores, {machine['cpu_model']} ({machine['cpu_family']}), "
        f"Linux {machine['kernel']}; load average (1, 5, 15 min) "
        f"{load_before[0]:.2f}, {load_before[1]:.2f}, {load_before[2]:.2f} before and "
        f"{load_after[0]:.2f}, {load_after[1]:.2f}, {load_after[2]:.2f} after the timing.",
        f"MetaFolio: Swift release build, Debian OpenBLAS (`{swift_config.strip()}`). "
        f"PyTorch {torch_version} (CPU tensors).",
        f"Medians over {args.rounds} rounds of per-round medians (each kernel timed by both back to back, "
        f"order alternating); each round times ≈{args.budget:g} s of calls per kernel "
        f"(≥{args.min_reps}, ≤{args.max_reps} calls) after warm-up. The ratio is PyTorch's time over "
        f"MetaFolio's: above 1 means MetaFolio is faster.",
        "",
        *render_table(table),
        "",
        "Targets:",
        *targets(table),
    ]
    problems = check_agreement(table)
    lines += ["", "Results agree (checksums within 1e-9 relative in f64, 2e-5 in f32)." if not problems
              else "Checksum MISMATCH: " + "; ".join(problems)]
    lines += ["", f"Produced by `{invocation}` on {datetime.date.today().isoformat()} ({elapsed:.0f} s of timing)."]
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
