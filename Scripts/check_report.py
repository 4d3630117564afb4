#!/usr/bin/env python3
"""Render a MetaFolio backtest report (report.html) in headless Chromium and check it.

Usage:
    python3 Scripts/check_report.py REPORT.html [--screenshot OUT.png] [--height 5200]
                                   [--require equity,drawdown,rolling-sharpe,weights,turnover,metrics]

Steps (exit status 0 only when all pass, 1 with a message naming the failed check otherwise):
  1. Installs Debian's `chromium` with apt-get when no chromium binary is on PATH
     (needs root; DEBIAN_FRONTEND=noninteractive).
  2. `chromium --headless --dump-dom` loads the page from disk (no network is needed: the
     report has no external resources) and returns the DOM after parsing and layout.
  3. Checks the DOM: every chart id listed in <meta name="metafolio-charts"> is an <svg>
     with class "chart", each has a viewBox and at least one drawn <path> or heat-map <rect class="cell"> (unless it is
     marked data-empty="true", e.g. the turnover of a strategy that never trades), and each
     required kind is present with data (equity: chart-equity-*, drawdown, rolling-sharpe,
     weights: chart-weights-*, turnover: chart-turnover-*, metrics: a <table class="metrics">).
  4. `chromium --headless --screenshot --window-size=1400,HEIGHT` writes a PNG, which is
     decoded with Pillow when installed, else with zlib by the script itself, and must not be blank:
     at least 1% of pixels must be ink (some channel below 220, i.e. darker than the light page and
     card backgrounds) and at least 24 distinct ink colours must appear (charts draw many hues).

Only the Python standard library is needed (Pillow, when present, makes step 4 faster).
"""
import argparse
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from html.parser import HTMLParser
from pathlib import Path

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
REQUIRED_DEFAULT = "equity,drawdown,rolling-sharpe,weights,turnover,metrics"


def fail(message):
    print(f"check_report: FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def find_or_install_chromium():
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    print("check_report: chromium not found; installing Debian's chromium with apt-get", flush=True)
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        subprocess.run(sudo + ["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env)
    except (OSError, subprocess.CalledProcessError) as error:
        fail(f"could not install chromium with apt-get: {error}")
    path = shutil.which("chromium")
    if not path:
        fail("apt-get installed chromium but no chromium binary is on PATH")
    return path


def chromium_command(binary, profile, *arguments):
    return [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--hide-scrollbars", "--no-first-run", "--disable-extensions", "--mute-audio",
            f"--user-data-dir={profile}", *arguments]


def run_chromium(command, what):
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=180)
    except subprocess.TimeoutExpired:
        fail(f"chromium timed out while {what}")
    if result.returncode != 0:
        fail(f"chromium exited with {result.returncode} while {what}:\n{result.stderr[-2000:]}")
    return result.stdout


class DomSurvey(HTMLParser):
    """Collects <svg> charts (id, class, viewBox, number of paths), tables and the chart manifest."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.charts = {}
        self.manifest = None
        self.metric_tables = 0
        self.current_svg = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        if tag == "meta" and attributes.get("name") == "metafolio-charts":
            self.manifest = (attributes.get("content") or "").split()
        elif tag == "svg" and "chart" in classes:
            self.current_svg = attributes.get("id") or f"(unnamed #{len(self.charts) + 1})"
            self.charts[self.current_svg] = {"viewBox": attributes.get("viewbox"), "paths": 0, "classes": classes,
                                             "empty": attributes.get("data-empty") == "true"}
        elif tag == "path" and self.current_svg and attributes.get("d"):
            if {"line", "band", "bars"} & set(classes):
                self.charts[self.current_svg]["paths"] += 1
        elif tag == "rect" and self.current_svg and "cell" in classes:
            self.charts[self.current_svg]["paths"] += 1
        elif tag == "table" and "metrics" in classes:
            self.metric_tables += 1

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "svg":
            self.current_svg = None


def check_dom(dom, required):
    survey = DomSurvey()
    survey.feed(dom)
    if survey.manifest is None:
        fail('the DOM has no <meta name="metafolio-charts"> manifest (is this a MetaFolio report?)')
    for chart_id in survey.manifest:
        chart = survey.charts.get(chart_id)
        if chart is None:
            fail(f"chart {chart_id} is listed in the manifest but not rendered as <svg class=\"chart\">")
        if not chart["viewBox"]:
            fail(f"chart {chart_id} has no viewBox")
        if chart["paths"] == 0 and not chart["empty"]:
            fail(f"chart {chart_id} draws nothing (no line, band or bar path, no heat-map cell) and is not marked data-empty")
    prefixes = {
        "equity": "chart-equity-", "drawdown": "chart-drawdown", "rolling-sharpe": "chart-rolling-sharpe",
        "weights": "chart-weights-", "turnover": "chart-turnover-",
    }
    counts = {}
    for kind in required:
        if kind == "metrics":
            counts[kind] = survey.metric_tables
        elif kind in prefixes:
            counts[kind] = sum(1 for chart_id, chart in survey.charts.items()
                               if chart_id.startswith(prefixes[kind]) and chart["paths"] > 0)
        else:
            fail(f"unknown required kind {kind!r}; known: {', '.join(list(prefixes) + ['metrics'])}")
        if counts[kind] == 0:
            fail(f"no {kind} chart (with data) or table in the rendered DOM")
    return survey, counts


def png_pixels(path):
    """Decodes an 8-bit RGB/RGBA non-interlaced PNG; returns (width, height, channels, rows)."""
    data = Path(path).read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail(f"{path} is not a PNG file")
    position, idat, header = 8, b"", None
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        chunk = data[position + 8:position + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        position += 12 + length
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in (2, 6) or interlace != 0:
        fail(f"unsupported PNG layout (bit depth {depth}, colour type {colour}, interlace {interlace})")
    channels = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        offset = y * (stride + 1)
        method, line = raw[offset], bytearray(raw[offset + 1:offset + 1 + stride])
        for x in range(stride):
            left = line[x - channels] if x >= channels else 0
            up = previous[x]
            upper_left = previous[x - channels] if x >= channels else 0
            if method == 1:
                line[x] = (line[x] + left) & 0xFF
            elif method == 2:
                line[x] = (line[x] + up) & 0xFF
            elif method == 3:
                line[x] = (line[x] + (left + up) // 2) & 0xFF
            elif method == 4:
                estimate = left + up - upper_left
                pa, pb, pc = abs(estimate - left), abs(estimate - up), abs(estimate - upper_left)
                predictor = left if pa <= pb and pa <= pc else (up if pb <= pc else upper_left)
                line[x] = (line[x] + predictor) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, channels, rows


def check_screenshot(path, minimum_ink=0.01, minimum_colours=24):
    try:
        from PIL import Image  # fast path when Pillow is installed
    except ImportError:
        Image = None
    if Image is not None:
        with Image.open(path) as image:
            rgb = image.convert("RGB")
            width, height = rgb.size
            channels, data = 3, rgb.tobytes()
        rows = [data[y * width * 3:(y + 1) * width * 3] for y in range(height)]
    else:
        width, height, channels, rows = png_pixels(path)
    ink, colours, total = 0, set(), width * height
    for row in rows:
        for x in range(0, width * channels, channels):
            pixel = row[x:x + 3]
            if min(pixel) < 220:  # darker than the page and card backgrounds

                ink += 1
                if len(colours) < 4096:
                    colours.add(pixel)
    fraction = ink / total
    if fraction < minimum_ink:
        fail(f"screenshot {path} is (almost) blank: {100 * fraction:.2f}% ink pixels, need {100 * minimum_ink:.0f}%")
    if len(colours) < minimum_colours:
        fail(f"screenshot {path} shows only {len(colours)} colours, need {minimum_colours} (charts missing?)")
    return width, height, fraction, len(colours)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("report", help="path to report.html")
    parser.add_argument("--screenshot", help="where to write the PNG (default: next to the report, report.png)")
    parser.add_argument("--width", type=int, default=1400, help="window width in CSS pixels (default 1400)")
    parser.add_argument("--height", type=int, default=5200, help="window height in CSS pixels (default 5200)")
    parser.add_argument("--require", default=REQUIRED_DEFAULT,
                        help=f"comma-separated chart kinds that must be present (default {REQUIRED_DEFAULT})")
    arguments = parser.parse_args()

    report = Path(arguments.report).resolve()
    if not report.is_file():
        fail(f"{report} does not exist")
    screenshot = Path(arguments.screenshot or report.with_name("report.png")).resolve()
    required = [kind for kind in arguments.require.split(",") if kind]
    binary = find_or_install_chromium()
    with tempfile.TemporaryDirectory(prefix="metafolio-chromium-") as profile:
        dom = run_chromium(chromium_command(binary, profile, "--dump-dom", report.as_uri()), "dumping the DOM")
        survey, counts = check_dom(dom, required)
        if screenshot.exists():
            screenshot.unlink()
        run_chromium(chromium_command(binary, profile, f"--screenshot={screenshot}",
                                      f"--window-size={arguments.width},{arguments.height}", report.as_uri()),
                     "taking the screenshot")
    if not screenshot.is_file():
        fail(f"chromium did not write {screenshot}")
    width, height, ink, colours = check_screenshot(screenshot)
    summary = ", ".join(f"{kind} {count}" for kind, count in counts.items())
    print(f"check_report: OK: {len(survey.charts)} charts ({summary}); "
          f"screenshot {screenshot} {width}x{height}, {100 * ink:.1f}% ink, {colours}{'+' if colours >= 4096 else ''} colours")


if __name__ == "__main__":
    main()
