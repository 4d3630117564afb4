#!/usr/bin/env python3
"""Same-run comparison of one second-order MAML meta-step: MetaFolio's MetaLearn vs learn2learn + PyTorch (CPU).

Workload (see Benchmarks/Sources/MetaLearnTimings/main.swift; inputs from the same SplitMix64 streams):
the sinusoid setup of Finn et al. (2017): a 1-40-40-1 ReLU MLP, a meta-batch of 25 tasks with K = 10
support and 10 query points, one inner SGD step (lr 0.01) with create_graph, the mean query MSE
differentiated w.r.t. the initial parameters, one Adam (lr 0.001) step.

Peers, timed in this process between the Swift runs:
  learn2learn              l2l.algorithms.MAML(model, lr=0.01, first_order=False): per task clone(),
                           adapt(), query loss / 25, backward(); then optimizer.step() (the library's
                           documented loop). Timed only when `import learn2learn` works: on Python 3.11
                           its 0.2.0 sdist does not build (pre-generated Cython C needs longintrepr.h).
  torch.autograd per-task  the same loop in plain PyTorch: torch.func.functional_call and
                           torch.autograd.grad(create_graph=True) for the inner step, backward() per task
  torch.autograd summed    the same, one backward() over the summed objective

Timing rule (both sides): warm up for at least 3 calls and 0.05 s, then time
reps = clamp(budget / warm-up mean, min-reps, max-reps) calls one by one and take the median; the
report is the median over --rounds rounds, Swift and PyTorch alternating. One thread everywhere
(OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = 1, torch.set_num_threads(1)). Checksums
sum_i (1 + i mod 7) g_i of the first meta-gradient are compared.

    python3 Benchmarks/compare/metalearn.py [--rounds 3] [--budget 2] [--skip-build] [--write-readme]
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_common import replace_marked_section, splitmix_uniform  # noqa: E402

COMPARE_DIR = Path(__file__).resolve().parent
BENCH_DIR = COMPARE_DIR.parent
README = BENCH_DIR / "README.md"
BEGIN_MARK = "<!-- BEGIN metalearn-compare (written by compare/metalearn.py --write-readme) -->"
END_MARK = "<!-- END metalearn-compare -->"
TASKS, SHOTS, INNER_LR, META_LR = 25, 10, 0.01, 1e-3


def workload(dtype):
    import numpy as np
    import torch

    layers = []
    for k, (fan_in, fan_out) in enumerate([(1, 40), (40, 40), (40, 1)]):
        w = 0.3 * splitmix_uniform(fan_in * fan_out, 21 + k)
        b = 0.1 * splitmix_uniform(fan_out, 31 + k)
        layers.append((torch.tensor(w.reshape(fan_out, fan_in), dtype=dtype), torch.tensor(b, dtype=dtype)))
    shape = splitmix_uniform(2 * TASKS, 41)
    xs_all = 5 * splitmix_uniform(SHOTS * TASKS, 51)
    xq_all = 5 * splitmix_uniform(SHOTS * TASKS, 52)
    tasks = []
    for i in range(TASKS):
        amplitude = 0.1 + 4.9 * (shape[2 * i] + 1) / 2
        phase = math.pi * (shape[2 * i + 1] + 1) / 2

        def pair(x):
            return (torch.tensor(x.reshape(-1, 1), dtype=dtype),
                    torch.tensor((amplitude * np.sin(x - phase)).reshape(-1, 1), dtype=dtype))

        tasks.append((pair(xs_all[SHOTS * i:SHOTS * (i + 1)]), pair(xq_all[SHOTS * i:SHOTS * (i + 1)])))
    return layers, tasks


def make_model(layers, dtype):
    import torch

    model = torch.nn.Sequential(torch.nn.Linear(1, 40), torch.nn.ReLU(), torch.nn.Linear(40, 40), torch.nn.ReLU(),
                                torch.nn.Linear(40, 1)).to(dtype)
    with torch.no_grad():
        for linear, (w, b) in zip([model[0], model[2], model[4]], layers):
            linear.weight.copy_(w)
            linear.bias.copy_(b)
    return model


def checksum(grads):
    total, i = 0.0, 0
    for g in grads:
        for x in g.detach().reshape(-1).tolist():
            total += (1 + i % 7) * x
            i += 1
    return total


def time_call(body, budget, min_reps, max_reps):
    body()
    calls, start = 1, time.perf_counter()
    while calls < 3 or (time.perf_counter() - start < 0.05 and calls < 200):
        body()
        calls += 1
    per_call = (time.perf_counter() - start) / (calls - 1)
    reps = min(max_reps, max(min_reps, int(budget / per_call)))
    samples = []
    for _ in range(reps):
        t0 = time.perf_counter()
        body()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples), reps


def torch_kernels(budget, min_reps, max_reps):
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(1)
    results = {}
    for dtype, suffix in ((torch.float32, "f32"), (torch.float64, "f64")):
        layers, tasks = workload(dtype)
        # learn2learn's documented loop.
        try:
            import learn2learn as l2l
        except ImportError:
            l2l = None
        if l2l is not None:
            model = make_model(layers, dtype)
            maml = l2l.algorithms.MAML(model, lr=INNER_LR, first_order=False)
            opt = torch.optim.Adam(maml.parameters(), lr=META_LR)

            def l2l_step(apply=True):
                opt.zero_grad()
                for (xs, ys), (xq, yq) in tasks:
                    learner = maml.clone()
                    learner.adapt(F.mse_loss(learner(xs), ys))
                    (F.mse_loss(learner(xq), yq) / TASKS).backward()
                if apply:
                    opt.step()

            l2l_step(apply=False)
            sum_l2l = checksum([p.grad for p in maml.parameters()])
            seconds, reps = time_call(l2l_step, budget, min_reps, max_reps)
            results[f"learn2learn {suffix}"] = {"median_s": seconds, "reps": reps, "checksum": sum_l2l,
                                                "version": l2l.__version__}
        # Plain torch.autograd.grad(create_graph=True), in two loop shapes.
        model = make_model(layers, dtype)
        names = [n for n, _ in model.named_parameters()]
        params = list(model.parameters())
        opt = torch.optim.Adam(params, lr=META_LR)

        def task_objective(task):
            (xs, ys), (xq, yq) = task
            loss = F.mse_loss(torch.func.functional_call(model, dict(zip(names, params)), (xs,)), ys)
            grads = torch.autograd.grad(loss, params, create_graph=True)
            fast = {n: p - INNER_LR * g for n, p, g in zip(names, params, grads)}
            return F.mse_loss(torch.func.functional_call(model, fast, (xq,)), yq)

        def summed_step():
            opt.zero_grad()
            (sum(task_objective(t) for t in tasks) / TASKS).backward()
            opt.step()

        def per_task_step():
            # learn2learn's loop: clone, adapt, query loss / n, backward() per task, then step().
            opt.zero_grad()
            for t in tasks:
                (task_objective(t) / TASKS).backward()
            opt.step()

        sum_plain = checksum(torch.autograd.grad(sum(task_objective(t) for t in tasks) / TASKS, params))
        for label, step in (("torch.autograd summed", summed_step), ("torch.autograd per-task", per_task_step)):
            seconds, reps = time_call(step, budget, min_reps, max_reps)
            results[f"{label} {suffix}"] = {"median_s": seconds, "reps": reps, "checksum": sum_plain}
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--budget", type=float, default=2.0)
    parser.add_argument("--min-reps", type=int, default=5)
    parser.add_argument("--max-reps", type=int, default=500)
    parser.add_argument("--skip-build", action="store_true")
    parser.add_argument("--write-readme", action="store_true")
    args = parser.parse_args()
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    swift = os.environ.get("SWIFT", "swift")
    if not args.skip_build:
        subprocess.run([swift, "build", "-c", "release", "--product", "MetaLearnTimings"], cwd=BENCH_DIR, check=True, env=env)
    binary = BENCH_DIR / ".build" / "release" / "MetaLearnTimings"
    import torch

    load_before = os.getloadavg()
    swift_rounds, torch_rounds = [], []
    for r in range(args.rounds):
        order = ("swift", "torch") if r % 2 == 0 else ("torch", "swift")
        for side in order:
            if side == "swift":
                out = subprocess.run([str(binary), "--budget", str(args.budget), "--min-reps", str(args.min_reps),
                                      "--max-reps", str(args.max_reps)], check=True, capture_output=True, text=True, env=env)
                swift_rounds.append({e["kernel"]: e for e in json.loads(out.stdout)["results"]})
            else:
                torch_rounds.append(torch_kernels(args.budget, args.min_reps, args.max_reps))
    load_after = os.getloadavg()

    def med(rounds, key):
        return statistics.median(r[key]["median_s"] for r in rounds)

    rows = []
    for suffix in ("f32", "f64"):
        ours = med(swift_rounds, f"maml meta-step {suffix}")
        our_sum = swift_rounds[0][f"maml meta-step {suffix}"]["checksum"]
        for peer in ("learn2learn", "torch.autograd per-task", "torch.autograd summed"):
            key = f"{peer} {suffix}"
            if key not in torch_rounds[0]:
                continue
            theirs = med(torch_rounds, key)
            peer_sum = torch_rounds[0][key]["checksum"]
            rel = abs(our_sum - peer_sum) / max(1e-30, abs(peer_sum))
            rows.append((suffix, peer, ours, theirs, rel))
    l2l_version = next((r["version"] for r in torch_rounds[0].values() if "version" in r), "not installed")
    lines = [
        f"Run {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC on {platform.machine()} "
        f"({os.cpu_count()} cores), load average {load_before[0]:.2f} before / {load_after[0]:.2f} after; "
        "one thread on every side.",
        f"Command: `{' '.join(shlex.quote(a) for a in ['python3', 'Benchmarks/compare/metalearn.py'] + sys.argv[1:])}` "
        f"(PyTorch {torch.__version__}, learn2learn {l2l_version}; median over {args.rounds} rounds of per-round medians).",
        "",
        "| dtype | peer | MetaFolio | peer time | MetaFolio / peer | target ≤ 0.5× | checksum rel. diff |",
        "|---|---|---:|---:|---:|---|---:|",
    ]
    for suffix, peer, ours, theirs, rel in rows:
        ratio = ours / theirs
        lines.append(f"| {suffix} | {peer} | {ours * 1e3:.2f} ms | {theirs * 1e3:.2f} ms | {ratio:.3f}× | "
                     f"{'met' if ratio <= 0.5 else 'not met'} | {rel:.1e} |")
    section = "\n".join(lines)
    print(section)
    if args.write_readme:
        replace_marked_section(README, BEGIN_MARK, END_MARK, section,
                               heading="## MetaLearn: one second-order MAML meta-step")


if __name__ == "__main__":
    main()
