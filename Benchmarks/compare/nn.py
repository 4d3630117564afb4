#!/usr/bin/env python3
"""Same-run comparison of MetaFolio's NN layers with PyTorch on the CPU.

The script
  1. builds the Swift `NNTimings` executable of the Benchmarks package with `-c release`,
  2. runs a PyTorch worker (this script with --torch-worker, a separate process) and `NNTimings`,
     `--rounds` times: in each round kernel by kernel, the two back to back in alternating order,
     both with OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = MKL_NUM_THREADS = --threads (PyTorch also
     calls torch.set_num_threads(--threads) and torch.set_num_interop_threads(1)),
  3. prints a table of medians (per kernel: the median over rounds of each round's median over many
     timed calls) with the ratio PyTorch/MetaFolio, checks that both computed the same losses and
     gradients (checksums), and reports the NN layers' performance target,
  4. with --write-readme, replaces (or appends) the marked NN section of Benchmarks/README.md.

Kernels (forward plus backward; every input and parameter is a SplitMix64 stream scaled as in
Sources/NNTimings/main.swift, reproduced here with NumPy):
  mha 32x50x64 h4 f64/f32    self-attention of x [32, 50, 64], 4 heads, batch-first, with biases;
                             L = <output, G>; gradients w.r.t. x, in_proj_weight, in_proj_bias,
                             out_proj.weight, out_proj.bias. PyTorch: nn.MultiheadAttention with
                             need_weights=False (its fastest path; MetaFolio also returns the
                             head-averaged weights, which L does not use)
  eiie cnn 50x11x50 f64/f32  the EIIE CNN of Jiang, Xu & Liang (2017, Fig. 2) on a price tensor
                             [50, 3, 50, 11] and previous weights [50, 11]: 1x3 conv to 2 maps, ReLU,
                             1x48 conv to 20 maps, ReLU, previous weights as a 21st map, 1x1 conv,
                             cash bias, softmax; L = <weights, G>; gradients w.r.t. both inputs and
                             all 7 parameters. PyTorch: the same network as 2-D convolutions with 1xk
                             kernels over [batch, features, assets, window] (the paper's form)

Timing rule (both sides): warm up for at least 3 calls and 0.05 s, then time
reps = clamp(budget / warm-up mean, min-reps, max-reps) calls one by one and take the median.

Run from anywhere: python3 Benchmarks/compare/nn.py [--threads 1] [--rounds 3] [--write-readme]
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
HEADING = "## NN layers: MultiheadAttention and the EIIE CNN"
BEGIN_MARK = "<!-- BEGIN nn-compare (written by compare/nn.py --write-readme) -->"
END_MARK = "<!-- END nn-compare -->"

KERNEL_NAMES = ["mha 32x50x64 h4 f64", "mha 32x50x64 h4 f32", "eiie cnn 50x11x50 f64", "eiie cnn 50x11x50 f32"]
LABELS = {"torch": "PyTorch", "swift": "MetaFolio"}
# Target: MultiheadAttention forward + backward in Double within half PyTorch float64's time.
TARGETS = {"mha 32x50x64 h4 f64": 0.5}

# Seeds and scales of Sources/NNTimings/main.swift (NNBenchmarkSeed).
MHA_INPUT, MHA_IN_W, MHA_IN_B, MHA_OUT_W, MHA_OUT_B, MHA_COTANGENT = 31, 32, 33, 34, 35, 36
EIIE_PRICES, EIIE_PREVIOUS, EIIE_COTANGENT, EIIE_FIRST_PARAMETER = 41, 42, 43, 44
EIIE_SCALES = [("cash_bias", 0.1), ("conv1.weight", 0.3), ("conv1.bias", 0.1), ("conv2.weight", 0.1),
               ("conv2.bias", 0.1), ("score.weight", 0.2), ("score.bias", 0.1)]


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

    def uniform(shape, seed, dtype, scale, offset=0.0):
        count = 1
        for d in shape:
            count *= d
        values = offset + scale * splitmix_uniform(count, seed).reshape(shape)
        return torch.from_numpy(values).to(dtype)

    class EIIE(torch.nn.Module):
        """The paper's CNN: 1x3 conv (3 -> 2 maps), ReLU, 1x48 conv (2 -> 20), ReLU, 1x1 conv (21 -> 1)."""

        def __init__(self, dtype):
            super().__init__()
            self.cash_bias = torch.nn.Parameter(torch.zeros(1, dtype=dtype))
            self.conv1 = torch.nn.Conv2d(3, 2, (1, 3), dtype=dtype)
            self.conv2 = torch.nn.Conv2d(2, 20, (1, 48), dtype=dtype)
            self.score = torch.nn.Conv2d(21, 1, (1, 1), dtype=dtype)

        def forward(self, x, previous):
            batch, assets = previous.shape
            h = torch.relu(self.conv2(torch.relu(self.conv1(x.permute(0, 1, 3, 2)))))  # [B, 20, m, 1]
            h = torch.cat([h, previous.reshape(batch, 1, assets, 1)], dim=1)
            scores = self.score(h).reshape(batch, assets)
            return torch.softmax(torch.cat([self.cash_bias.expand(batch, 1), scores], dim=1), dim=1)

    def checksum(outputs) -> float:
        return sum(float(o.detach().to(torch.float64).sum()) for o in outputs)

    def timed(kernel: str, body) -> dict:
        median, reps, output = time_calls(body, args.budget, args.min_reps, args.max_reps, max_warm_calls=500)
        return {"kernel": kernel, "median_s": median, "reps": reps, "checksum": checksum(output)}

    def forward_backward(output_of, inputs, parameters, cotangent):
        def body():
            loss = (output_of(*inputs) * cotangent).sum()
            return [loss.detach(), *torch.autograd.grad(loss, [*inputs, *parameters])]
        return body

    wanted = set(args.only.split(",")) if args.only else set(KERNEL_NAMES)
    results = []
    for dtype, suffix in ((torch.float64, "f64"), (torch.float32, "f32")):
        kernel = f"mha 32x50x64 h4 {suffix}"
        if kernel in wanted:
            mha = torch.nn.MultiheadAttention(64, 4, batch_first=True, dtype=dtype)
            with torch.no_grad():
                mha.in_proj_weight.copy_(uniform((192, 64), MHA_IN_W, dtype, 0.125))
                mha.in_proj_bias.copy_(uniform((192,), MHA_IN_B, dtype, 0.1))
                mha.out_proj.weight.copy_(uniform((64, 64), MHA_OUT_W, dtype, 0.125))
                mha.out_proj.bias.copy_(uniform((64,), MHA_OUT_B, dtype, 0.1))
            x = uniform((32, 50, 64), MHA_INPUT, dtype, 1.0).requires_grad_(True)
            g = uniform((32, 50, 64), MHA_COTANGENT, dtype, 1.0)
            results.append(timed(kernel, forward_backward(lambda q, m=mha: m(q, q, q, need_weights=False)[0],
                                                          [x], list(mha.parameters()), g)))
        kernel = f"eiie cnn 50x11x50 {suffix}"
        if kernel in wanted:
            net = EIIE(dtype)
            with torch.no_grad():
                named = dict(net.named_parameters())
                for index, (key, scale) in enumerate(EIIE_SCALES):
                    p = named[key]
                    p.copy_(uniform(tuple(p.shape), EIIE_FIRST_PARAMETER + index, dtype, scale))
            x = uniform((50, 3, 50, 11), EIIE_PRICES, dtype, 0.05, 1.0).requires_grad_(True)
            previous = uniform((50, 11), EIIE_PREVIOUS, dtype, 0.02, 0.05).requires_grad_(True)
            g = uniform((50, 12), EIIE_COTANGENT, dtype, 1.0)
            results.append(timed(kernel, forward_backward(net, [x, previous], list(net.parameters()), g)))

    print(json.dumps({"implementation": "torch", "torch_version": torch.__version__,
                      "openblas_threads": torch.get_num_threads(), "results": results}, indent=2))


# --------------------------------------------------------------------------------------------
# Driver
# --------------------------------------------------------------------------------------------

def build(args: argparse.Namespace) -> dict[str, list[str]]:
    swift = os.environ.get("SWIFT", "swift")
    swift_build = [swift, "build", "-c", "release", "--package-path", str(BENCH_DIR), "--product", "NNTimings"]
    if not args.skip_build:
        print(f"Building NNTimings: {shlex.join(swift_build)}", file=sys.stderr)
        subprocess.run(swift_build, check=True, stdout=sys.stderr)
    bin_path = run_checked([*swift_build, "--show-bin-path"], "nn.py").strip()
    timing_args = ["--budget", str(args.budget), "--min-reps", str(args.min_reps), "--max-reps", str(args.max_reps)]
    return {
        "torch": [sys.executable, str(Path(__file__).resolve()), "--torch-worker", "--threads", str(args.threads),
                  *timing_args],
        "swift": [str(Path(bin_path) / "NNTimings"), *timing_args],
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
    # Checksums: the loss plus the sums of all gradients, accumulated in float64. Float32 kernels
    # differ in the last bits (summation order, libm vs SLEEF exp).
    problems = []
    for kernel in KERNEL_NAMES:
        sums = {impl: table[impl][kernel]["checksum"] for impl in table if kernel in table[impl]}
        if len(sums) == 2:
            tolerance = 1e-9 if kernel.endswith("f64") else 1e-4
            if abs(sums["swift"] - sums["torch"]) > tolerance * max(1.0, abs(sums["swift"])):
                problems.append(f"{kernel}: checksum PyTorch {sums['torch']!r} != MetaFolio {sums['swift']!r}")
    return problems


def render(table: dict) -> list[str]:
    lines = ["| kernel | PyTorch | MetaFolio | MetaFolio / PyTorch (time) | MetaFolio spread over rounds |",
             "|---|---:|---:|---:|---:|"]
    for kernel in KERNEL_NAMES:
        t, s = table.get("torch", {}).get(kernel), table.get("swift", {}).get(kernel)
        if t is None and s is None:
            continue
        ratio = f"{s['median_s'] / t['median_s']:.2f}×" if t and s else "—"
        spread = f"{format_time(s['min_s'])} – {format_time(s['max_s'])}" if s else "—"
        lines.append(f"| {kernel} | {format_time(t and t['median_s'])} | {format_time(s and s['median_s'])} "
                     f"| {ratio} | {spread} |")
    return lines


def targets(table: dict) -> list[str]:
    out = []
    for kernel, bound in TARGETS.items():
        t, s = table.get("torch", {}).get(kernel), table.get("swift", {}).get(kernel)
        if t and s:
            ratio = s["median_s"] / t["median_s"]
            out.append(f"- {kernel}: MetaFolio takes {ratio:.2f}× PyTorch's time (target ≤ {bound}×): "
                       f"{'met' if ratio <= bound else 'MISSED'}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_same_run_arguments(parser, max_reps=5000, example_kernel="mha 32x50x64 h4 f64")
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
    runs = run_alternating_rounds(commands, LABELS, kernels, args.rounds, args.threads, "nn.py")
    elapsed = time.monotonic() - started
    load_after = os.getloadavg()

    table = median_of_rounds(runs, KERNEL_NAMES)
    torch_version = runs["torch"][0].get("torch_version") if runs["torch"] else "?"
    swift_config = runs["swift"][0].get("openblas_config", "?") if runs["swift"] else "?"
    environment = " ".join(f"{k}={os.environ[k]}" for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ)
    invocation = (f"{environment} " if environment else "") + "python3 Benchmarks/compare/nn.py " + shlex.join(sys.argv[1:])
    problems = check_agreement(table)
    lines = [
        f"Threads: {args.threads} (OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = MKL_NUM_THREADS, torch.set_num_threads). "
        f"Machine: {os.cpu_count()} cores, {cpu_model()}, Linux {platform.release()}; load average (1, 5, 15 min) "
        f"{load_before[0]:.2f}, {load_before[1]:.2f}, {load_before[2]:.2f} before and "
        f"{load_after[0]:.2f}, {load_after[1]:.2f}, {load_after[2]:.2f} after the timing.",
        f"MetaFolio: Swift release build, Debian OpenBLAS (`{swift_config.strip()}`). PyTorch {torch_version} (CPU tensors).",
        f"Medians over {args.rounds} rounds of per-round medians (each kernel timed by both back to back, order "
        f"alternating; ≈{args.budget:g} s of calls per kernel per round, ≥{args.min_reps} calls). The ratio is "
        "MetaFolio's time over PyTorch's: below 1 means MetaFolio is faster.",
        "",
        *render(table),
        "",
        "Target:",
        *targets(table),
        "",
        "Results agree (checksums of loss and all gradients within 1e-9 relative in f64, 1e-4 in f32)."
        if not problems else "Checksum MISMATCH: " + "; ".join(problems),
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
