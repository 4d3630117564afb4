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
