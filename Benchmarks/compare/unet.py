#!/usr/bin/env python3
"""Same-run comparison of MetaFolio's NN models with PyTorch on the CPU: UNet1D forward + backward,
and the forecasting networks' pieces (GRU training step, conv1d forward + backward, TCN training step).

The script builds the Swift `NNModelTimings` executable (`-c release`), then for `--rounds` rounds runs
it and a PyTorch worker (this script with --torch-worker, a separate process) kernel by kernel, back to
back in alternating order, with OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = MKL_NUM_THREADS = --threads
(the worker also calls torch.set_num_threads). It prints the medians over rounds of each round's median,
the ratio PyTorch/MetaFolio, and checks that both sides computed the same output and gradients.

Workload (see Benchmarks/Sources/NNModelTimings/main.swift): the U-Net of Scripts/fixtures/nn_models.py
(in 8, out 4, base 16, depth 3, kernel 3, max-pool, batch norm, ReLU) in training mode on a [8, 8, 128]
batch; loss sum(output * G); gradients of the input and every parameter. Parameters, input and G are
SplitMix64 streams rebuilt identically on both sides.

Forecasting pieces (Benchmarks/Sources/NNModelTimings/ForecastingWorkloads.swift):
  gru step f32/f64      GRU(8 -> 64) batch-first on [32, 50, 8], MSE of the output sequence, backward, Adam
                        (lr 1e-3), as the LSTM step of compare/autodiff.py; checksum: the first call's loss
  conv1d BxCxL f32/f64  conv1d C -> C, kernel 3 (dilation 1 at 64x16x20, 2 at 32x64x256, same-length
                        padding) with bias; loss sum(output * G); gradients of input, weight and bias
  tcn step f32/f64      3 TemporalBlocks (kernel 2, dilations 1, 2, 4; 8 -> 16 channels) and a linear head
                        on the last step (4 outputs), [64, 20, 8] windows, MSE, backward, Adam (lr 1e-3)

Run from anywhere: python3 Benchmarks/compare/unet.py [--threads 1] [--rounds 3] [--write-readme]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

COMPARE_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(COMPARE_DIR))
sys.path.append(str(COMPARE_DIR.parent.parent / "Scripts" / "fixtures"))
from autodiff import format_time, machine_description, run  # noqa: E402
from bench_common import replace_marked_section, splitmix_uniform, time_calls  # noqa: E402

README = COMPARE_DIR.parent / "README.md"
BEGIN_MARK = "<!-- BEGIN nn-models-compare (written by compare/unet.py --write-readme) -->"
END_MARK = "<!-- END nn-models-compare -->"
KERNEL_NAMES = ["unet fwd+bwd f32", "unet fwd+bwd f64", "gru step f32", "gru step f64",
                "conv1d 64x16x20 f32", "conv1d 64x16x20 f64", "conv1d 32x64x256 f32", "conv1d 32x64x256 f64",
                "tcn step f32", "tcn step f64"]
LABELS = {"torch": "PyTorch", "swift": "MetaFolio"}


def torch_worker(args: argparse.Namespace) -> None:
    import torch
    from nn_models import UNet1D  # the fixture script's reference module, same keys as the Swift type

    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass

    def uniform(shape, seed, dtype):
        count = 1
        for d in shape:
            count *= d
        return torch.from_numpy(splitmix_uniform(count, seed).reshape(shape)).to(dtype)

    results = []
    wanted = set(args.only.split(",")) if args.only else set(KERNEL_NAMES)
    for dtype, suffix in ((torch.float32, "f32"), (torch.float64, "f64")):
        kernel = f"unet fwd+bwd {suffix}"
        if kernel not in wanted:
            continue
        model = UNet1D(8, 4, 16, 3, 3, False, True, torch.relu, False).to(dtype).train()
        seed_parameters(torch, model, uniform, 100, fan_in_scale, dtype)
        x = uniform((8, 8, 128), 11, dtype).requires_grad_(True)
        g = uniform((8, 4, 128), 13, dtype)
        params = list(model.parameters())

        def step():
            y = model(x)
            grads = torch.autograd.grad((y * g).sum(), [x] + params)
            return [y.detach(), *grads]

        median, reps, output = time_calls(step, args.budget, args.min_reps, args.max_reps, 200)
        checksum = sum(float(t.to(torch.float64).sum()) for t in output)
        results.append({"kernel": kernel, "median_s": median, "reps": reps, "checksum": checksum})
    results += forecasting_kernels(torch, uniform, wanted, args)
    print(json.dumps({"implementation": "torch", "torch_version": torch.__version__,
                      "openblas_threads": torch.get_num_threads(), "results": results}))


def seed_parameters(torch, model, uniform, first_stream, scale, dtype):
    """Every parameter in state-dict order from stream first_stream + k, times scale(shape)."""
    with torch.no_grad():
        for stream, p in enumerate(model.parameters(), start=first_stream):
            p.copy_(uniform(tuple(p.shape), stream, torch.float64).to(dtype) * scale(tuple(p.shape)))


def fan_in_scale(shape):
    fan_in = 1
    for d in shape[1:]:
        fan_in *= d
    return fan_in ** -0.5 if len(shape) > 1 else 1.0


def forecasting_kernels(torch, uniform, wanted, args):
    """The GRU step, conv1d and TCN step kernels (see the module docstring)."""
    from nn import TemporalBlock  # the fixture script's reference TCN block

    class TCN(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = torch.nn.ModuleList([TemporalBlock(8 if k == 0 else 16, 16, 2, d)
                                               for k, d in enumerate([1, 2, 4])])
            self.head = torch.nn.Linear(16, 4)

        def forward(self, x):
            y = x.transpose(1, 2)
            for block in self.blocks:
                y = block(y)
            return self.head(y[:, :, -1])

    def training_step(kernel, model, x, target):
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        first_loss = []

        def step():
            optimizer.zero_grad(set_to_none=True)
            out = model(x)
            loss = torch.nn.functional.mse_loss(out[0] if isinstance(out, tuple) else out, target)
            loss.backward()
            optimizer.step()
            if not first_loss:
                first_loss.append(float(loss.detach()))
            return loss
        median, reps, _ = time_calls(step, args.budget, args.min_reps, args.max_reps, 200)
        return {"kernel": kernel, "median_s": median, "reps": reps, "checksum": first_loss[0]}

    results = []
    for dtype, suffix in ((torch.float32, "f32"), (torch.float64, "f64")):
        if f"gru step {suffix}" in wanted:
            gru = torch.nn.GRU(8, 64, batch_first=True).to(dtype)
            seed_parameters(torch, gru, uniform, 21, lambda _: 1 / 8, dtype)
            results.append(training_step(f"gru step {suffix}", gru, uniform((32, 50, 8), 11, dtype),
                                         uniform((32, 50, 64), 12, dtype)))
        for batch, channels, length, dilation in ((64, 16, 20, 1), (32, 64, 256, 2)):
            kernel = f"conv1d {batch}x{channels}x{length} {suffix}"
            if kernel not in wanted:
                continue
            x = uniform((batch, channels, length), 11, dtype).requires_grad_(True)
            w = (uniform((channels, channels, 3), 14, dtype) * fan_in_scale((channels, channels, 3))).requires_grad_(True)
            b = uniform((channels,), 15, dtype).requires_grad_(True)
            g = uniform((batch, channels, length), 13, dtype)

            def conv(x=x, w=w, b=b, g=g, dilation=dilation):
                y = torch.nn.functional.conv1d(x, w, b, padding=dilation, dilation=dilation)
                return [y.detach(), *torch.autograd.grad((y * g).sum(), [x, w, b])]
            median, reps, output = time_calls(conv, args.budget, args.min_reps, args.max_reps, 200)
            checksum = sum(float(t.to(torch.float64).sum()) for t in output)
            results.append({"kernel": kernel, "median_s": median, "reps": reps, "checksum": checksum})
        if f"tcn step {suffix}" in wanted:
            tcn = TCN().to(dtype)
            seed_parameters(torch, tcn, uniform, 100, fan_in_scale, dtype)
            results.append(training_step(f"tcn step {suffix}", tcn, uniform((64, 20, 8), 11, dtype),
                                         uniform((64, 4), 12, dtype)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--budget", type=float, default=1.0, help="seconds of timed calls per kernel per round")
    parser.add_argument("--min-reps", type=int, default=10)
    parser.add_argument("--max-reps", type=int, default=2000)
    parser.add_argument("--only", help="comma-separated kernels")
    parser.add_argument("--skip-build", action="store_true")
    parser.add_argument("--write-readme", action="store_true")
    parser.add_argument("--torch-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.torch_worker:
        torch_worker(args)
        return

    swift_build = [os.environ.get("SWIFT", "swift"), "build", "-c", "release", "--package-path",
                   str(COMPARE_DIR.parent), "--product", "NNModelTimings"]
    if not args.skip_build:
        subprocess.run(swift_build, check=True, stdout=sys.stderr)
    binary = Path(run([*swift_build, "--show-bin-path"]).strip()) / "NNModelTimings"
    timing = ["--budget", str(args.budget), "--min-reps", str(args.min_reps), "--max-reps", str(args.max_reps)]
    commands = {"torch": [sys.executable, str(Path(__file__).resolve()), "--torch-worker", "--threads",
                          str(args.threads), *timing],
                "swift": [str(binary), *timing]}
    threads = str(args.threads)
    env = dict(os.environ, OPENBLAS_NUM_THREADS=threads, OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads)
    kernels = args.only.split(",") if args.only else KERNEL_NAMES
    medians: dict[tuple[str, str], list[float]] = {}
    checksums: dict[tuple[str, str], float] = {}
    load_before = os.getloadavg()
    for round_index in range(args.rounds):
        for k, kernel in enumerate(kernels):
            order = ["torch", "swift"] if (round_index + k) % 2 == 0 else ["swift", "torch"]
            for impl in order:
                report = json.loads(run([*commands[impl], "--only", kernel], env=env))
                for r in report["results"]:
                    medians.setdefault((impl, kernel), []).append(r["median_s"])
                    checksums[(impl, kernel)] = r["checksum"]
    load_after = os.getloadavg()

    machine = machine_description()
    lines = [f"Threads: {args.threads}. Machine: {machine['nproc']} cores, {machine['cpu_model']}; load average "
             f"{load_before[0]:.2f}, {load_before[1]:.2f}, {load_before[2]:.2f} before and "
             f"{load_after[0]:.2f}, {load_after[1]:.2f}, {load_after[2]:.2f} after.",
             f"Medians over {args.rounds} rounds of per-round medians (≈{args.budget:g} s of calls per kernel per "
             "round, both sides back to back, order alternating). Ratio: PyTorch time / MetaFolio time.", "",
             "| kernel | PyTorch | MetaFolio | PyTorch/MetaFolio | checksum rel. diff |", "|---|---:|---:|---:|---:|"]
    problems = []
    for kernel in kernels:
        t, s = statistics.median(medians[("torch", kernel)]), statistics.median(medians[("swift", kernel)])
        ct, cs = checksums[("torch", kernel)], checksums[("swift", kernel)]
        diff = abs(ct - cs) / max(1.0, abs(cs))
        # float32: ReLU and max-pool decisions within rounding of a tie can flip between summation orders
        # (OpenBLAS with 1 vs 2 threads moves MetaFolio's own float32 checksum by 2e-4), so 1e-3.
        if diff > (1e-9 if kernel.endswith("f64") else 1e-3):
            problems.append(f"{kernel}: checksum PyTorch {ct!r} vs MetaFolio {cs!r}")
        lines.append(f"| {kernel} | {format_time(t)} | {format_time(s)} | {t / s:.2f} | {diff:.1e} |")
    lines += ["", "Checksums agree (1e-9 relative in float64, 1e-3 in float32)." if not problems else "Checksum MISMATCH: " + "; ".join(problems),
              "", f"Command: `python3 Benchmarks/compare/unet.py {shlex.join(sys.argv[1:])}`"]
    section = "\n".join(lines)
    print(section)
    if args.write_readme:
        replace_marked_section(README, BEGIN_MARK, END_MARK, section, heading="## NN models: UNet1D")
    if problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
