#!/usr/bin/env python3
"""Markdown tables of the meta-allocator experiments (Scripts/allocator_experiments.sh output)."""
import json
import sys
from pathlib import Path

out = Path(sys.argv[1] if len(sys.argv) > 1 else ".build/allocator-experiments")


def pm(pair, scale=1.0, digits=3):
    mean, sd = pair
    return f"{mean * scale:.{digits}f} ± {sd * scale:.{digits}f}"


for name in ["maml", "first-order-maml", "reptile", "gmm", "conservative", "aggressive"]:
    path = out / f"{name}.json"
    if not path.exists():
        continue
    data = json.loads(path.read_text())
    print(f"\n### {name}\n")
    print("| line | seeds | annual return % | Sharpe | Sortino | max drawdown % | one-way turnover % |")
    print("|---|---|---|---|---|---|---|")
    for s in data["spreads"]:
        print(f"| {s['training']} | {s['seeds']} | {pm(s['annualReturn'], 100, 2)} | {pm(s['sharpeRatio'])} | "
              f"{pm(s['sortinoRatio'])} | {pm(s['maxDrawdown'], 100, 1)} | {pm(s['oneWayTurnover'], 100, 0)} |")
    learned = {s["training"] for s in data["spreads"]}
    print("\n| line | annual return % | Sharpe | Sortino | max drawdown % | α % | β | IR | one-way turnover % |")
    print("|---|---|---|---|---|---|---|---|---|")
    for m in data["metrics"]:
        if m["strategy"].startswith("meta-allocator"):
            continue

        def f(key, scale=1.0, digits=3):
            value = m.get(key)
            return "—" if value is None or isinstance(value, str) else f"{value * scale:.{digits}f}"
        print(f"| {m['strategy']} | {f('annualReturn', 100, 2)} | {f('sharpeRatio')} | {f('sortinoRatio')} | "
              f"{f('maxDrawdown', 100, 1)} | {f('alpha', 100, 2)} | {f('beta')} | {f('informationRatio')} | "
              f"{m['annualTurnover'] * 50:.0f} |")
