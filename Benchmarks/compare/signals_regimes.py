#!/usr/bin/env python3
"""Same-run comparison of MetaFolio's MODWT MRA and Gaussian HMM with PyWavelets and hmmlearn.

Workloads:
  MRA  sym8, 6 levels, n = 8192: MetaFolio MultiresolutionAnalysis (periodic) vs
       pywt.mra(x, "sym8", 6, transform="swt", mode="periodization"); the components must agree
       (sum of all components compared to 1e-9 relative).
  HMM  3 states, full covariance, 8000 x 3 observations, 100 Baum-Welch iterations from the same
       initial parameters: MetaFolio BaumWelch.refine vs hmmlearn GaussianHMM(init_params="",
       n_iter=100, tol=-1e300, covars_prior=0.01*I); final log-likelihoods compared to 1e-8 relative.

The script writes the inputs (seeded NumPy, little-endian float64) to compare/bin/, builds the
SignalsRegimesTimings executable (-c release, scratch .build-signals), runs it (median of --reps),
times the Python peers the same way in the same run, and prints medians and speed-ups.

Run from the repository root: python3 Benchmarks/compare/signals_regimes.py [--reps 3]
(pip install numpy PyWavelets hmmlearn)
"""
import argparse
import json
import statistics
import subprocess
import time
import warnings
from pathlib import Path

import numpy as np
import pywt
from hmmlearn.hmm import GaussianHMM

COMPARE_DIR = Path(__file__).resolve().parent
BENCH_DIR = COMPARE_DIR.parent
BIN_DIR = COMPARE_DIR / "bin"


def inputs():
    rng = np.random.default_rng(20261122)
    t = np.arange(8192)
    series = np.sin(2 * np.pi * t / 300) + 0.3 * np.sin(2 * np.pi * t / 17) + rng.normal(0, 0.2, 8192)
    states = np.repeat(rng.integers(0, 3, 80), 100)
    centres = np.array([[-1.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, -1.0, 0.5]])
    scales = np.array([1.0, 0.7, 1.4])
    data = centres[states] + rng.normal(size=(8000, 3)) * scales[states][:, None]
    start = np.array([0.3, 0.3, 0.4])
    trans = np.full((3, 3), 0.05) + 0.85 * np.eye(3)
    means = np.array([[-0.5, 0.2, 0.8], [0.2, 0.6, 0.1], [0.6, -0.4, 0.3]])
    covars = np.tile(np.eye(3), (3, 1, 1)) * np.array([1.0, 0.8, 1.5])[:, None, None]
    return series, data, start, trans, means, covars


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    BIN_DIR.mkdir(exist_ok=True)
    series, data, start, trans, means, covars = inputs()
    path = BIN_DIR / "signals_regimes_inputs.bin"
    np.concatenate([series, data.ravel(), start, trans.ravel(), means.ravel(), covars.ravel()]).astype("<f8").tofile(path)

    subprocess.run(["swift", "build", "-c", "release", "--product", "SignalsRegimesTimings", "--scratch-path", ".build-signals"],
                   cwd=BENCH_DIR, check=True)
    exe = BENCH_DIR / ".build-signals" / "release" / "SignalsRegimesTimings"
    swift = json.loads(subprocess.run([str(exe), str(path), str(args.reps)], check=True, capture_output=True, text=True).stdout)

    mra_times = []
    for _ in range(args.reps * 5):
        t0 = time.perf_counter()
        comps = pywt.mra(series, "sym8", level=6, transform="swt", mode="periodization")
        mra_times.append(time.perf_counter() - t0)
    mra_checksum = float(sum(np.sum(c) for c in comps))

    hmm_times, loglik = [], None
    for _ in range(args.reps):
        model = GaussianHMM(3, covariance_type="full", n_iter=100, tol=-1e300, init_params="", params="stmc",
                            covars_prior=np.tile(0.01 * np.eye(3), (3, 1, 1)), implementation="log")
        model.startprob_, model.transmat_, model.means_, model.covars_ = start, trans, means, covars
        t0 = time.perf_counter()
        model.fit(data)
        hmm_times.append(time.perf_counter() - t0)
        loglik = float(model.score(data))

    py_mra, py_hmm = statistics.median(mra_times), statistics.median(hmm_times)
    print(f"MRA sym8 J=6 n=8192   MetaFolio {swift['mra_seconds'] * 1e3:8.2f} ms   PyWavelets {py_mra * 1e3:8.2f} ms   "
          f"speed-up {py_mra / swift['mra_seconds']:5.1f}x   checksum diff {abs(swift['mra_checksum'] - mra_checksum):.1e}")
    print(f"HMM 3 full 8000x3 100 MetaFolio {swift['hmm_seconds']:8.3f} s    hmmlearn   {py_hmm:8.3f} s    "
          f"speed-up {py_hmm / swift['hmm_seconds']:5.1f}x   log-lik rel diff {abs(swift['hmm_loglik'] - loglik) / abs(loglik):.1e}")


if __name__ == "__main__":
    main()
