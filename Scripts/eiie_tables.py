#!/usr/bin/env python3
"""Markdown tables for Docs/EIIE.md from the JSON summaries of Scripts/eiie_experiments.sh.

    python3 Scripts/eiie_tables.py [OUT]      # OUT defaults to .build/eiie-experiments

For each dataset: the agents (each seed, then mean ± sample standard deviation per topology) from
the agents' runs, then the baselines (Best Stock, UCRP, UBAH and every OLPS algorithm) from the
baseline run, sorted by fAPV.
"""
import json
import os
import statistics
import sys

OUT = sys.argv[1] if len(sys.argv) > 1 else ".build/eiie-experiments"


def load(name):
    """The summary of run `name`, or None when it is missing or still being written."""
    try:
        with open(os.path.join(OUT, name + ".json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def row(name, fapv, sharpe, mdd, cash, seconds):
    return f"| {name} | {fapv} | {sharpe} | {mdd} | {cash} | {seconds} |"


def agent_rows(runs):
    lines = [l for run in runs if run for l in run["lines"] if l["kind"] == "agent"]
    out = []
    for l in lines:
        out.append(row(l["name"], f"{l['finalValue']:.4f}", f"{l['sharpePerPeriod']:.4f}", f"{100 * l['maximumDrawdown']:.1f} %",
                       f"{100 * l['meanCashWeight']:.0f} %" if "meanCashWeight" in l else "—", f"{l['seconds']:.0f}"))
    for topology in ("cnn", "rnn", "lstm"):
        own = [l for l in lines if l["topology"] == topology]
        if len(own) < 2:
            continue

        def ms(key, scale=1.0, digits=4):
            values = [scale * l[key] for l in own]
            return f"{statistics.mean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f}"
        cash = ms("meanCashWeight", 100, 0) + " %" if all("meanCashWeight" in l for l in own) else "—"
        out.append(row(f"**EIIE {topology.upper()}, mean ± sd over {len(own)} seeds**", ms("finalValue"), ms("sharpePerPeriod"),
                       ms("maximumDrawdown", 100, 1) + " %", cash, ""))
    return out


def baseline_rows(run):
    if not run:
        return []
    lines = sorted((l for l in run["lines"] if l["kind"] != "agent"), key=lambda l: -l["finalValue"])
    return [row(l["name"], f"{l['finalValue']:.4f}", "—" if l["sharpePerPeriod"] is None else f"{l['sharpePerPeriod']:.4f}",
                f"{100 * l['maximumDrawdown']:.1f} %", "", "") for l in lines]


def table(title, agents, baselines):
    head = next((r for r in agents + [baselines] if r), None)
    if head is None:
        return
    print(f"### {title}\n")
    print(f"Assets: {len(head['assets'])}; features: {', '.join(head['features'])}; test from {head['testStart']} "
          f"({head['testBars']} bars); commission {head['commission']}; pre-training {head['preTrainingSteps']} steps, "
          f"{agents[0]['rollingSteps'] if agents and agents[0] else head['rollingSteps']} rolling steps; learning rate {head['learningRate']}.\n")
    print("| line | fAPV | Sharpe / period | max drawdown | mean cash | seconds |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in agent_rows(agents) + baseline_rows(baselines):
        print(r)
    print()


table("Crypto, daily (Bitstamp BTC, ETH, LTC), F = 3", [load("crypto-daily")], load("crypto-daily-baselines"))
table("Crypto, daily, at the paper's learning rate 3·10⁻⁵ (one seed)", [load("crypto-daily-lr3e-5")], None)
for name in ("olps-djia", "olps-msci", "olps-sp500", "olps-tse", "olps-nyse-o", "olps-nyse-n", "sp500-stocks"):
    table(f"{name}, F = 1", [load(name + "-cnn"), load(name + "-recurrent")], load(name + "-baselines"))
