"""bench.browser's docs/benchmarks.md section ('Browser')."""

from __future__ import annotations

import os
import re
import time
from typing import Any

from bench.api_report import load_avg, machine


def section(out: dict[str, Any], command: str, started: float) -> str:
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started))
    lines = [
        "## Browser", "",
        (f"Written by `bench.browser` (Playwright, Chromium {os.environ.get('CHROMIUM_VERSION', '/usr/bin/chromium')}, "
        "headless, 1600x1000, a fresh context per load). "
        f"Command: `FLOWSCOPE_HOME=/work/data/fs-scale {command}`. Machine: {machine()}, shared. Date: {when}. "
        + _load_text(out) +
        "Times from navigation start until the thing is on screen (polled each animation frame). "
        "\"cold\" = the first open after a backend restart (empty Flowscope caches; Postgres and the OS "
        "page cache stay warm); \"warm\" = later loads (fresh browser contexts, warm backend)."), "",
        "| what | median ms | runs | target | ok | note |", "| --- | ---: | ---: | ---: | --- | --- |",
    ]
    for r in out["rows"]:
        target = r["target"]
        ok = "" if target is None else ("yes" if r["median"] < target else "**no**")
        lines.append(f"| {r['name']} | {r['median']:.0f} | {r['runs']} | {'' if target is None else f'< {target}'} "
                     f"| {ok} | {r['note']} |")
    for key, label in (("zoom", "timeline zoom (60 wheel steps)"), ("pan", "timeline pan (60 wheel steps)")):
        f = out.get(key) or {}
        if f:
            lines.append(f"| {label}: frame time p50 / p95 / max | {f['p50']:.1f} / {f['p95']:.1f} / {f['max']:.0f} "
                         f"| {f['frames']} frames | 16.7 (60 fps) | {'yes' if f['p95'] <= 17.5 else '**no**'} "
                         f"| {f['fps']:.0f} fps average"
                         + (f", main thread busy {f['busy_per_frame']:.1f} ms per frame ({f['script_per_frame']:.1f} ms script)"
                            if "busy_per_frame" in f else "") + " |")
    lines.append("")
    lines.append(f"The zoom/pan gestures changed the drawing: {'yes' if out.get('view_moved') else '**no**'}. "
                 "Headless Chromium paces animation frames at 60 Hz, so 16.7 ms is the floor; the main thread's busy "
                 "time per frame (CDP Performance.getMetrics TaskDuration over the gesture and 300 ms after it, "
                 "divided by the frames) shows the headroom left under it.")
    lines.append("")
    lines.append(f"JS heap on the 100k-task run page after zooming and panning (after GC): "
                 f"{out.get('heap', 0) / 2**20:.1f} MiB. Backend RSS: peak {out.get('rss_peak', 0) / 2**20:.0f} MiB, "
                 f"{out.get('rss_end', 0) / 2**20:.0f} MiB at the end.")
    return "\n".join(lines) + "\n"


def _load_text(out: dict[str, Any]) -> str:
    load = out.get("load")
    if not load:
        return ""
    return (f"Load average (`uptime`, 1 / 5 / 15 min): {load_avg(load[0])} at the start, "
            f"{load_avg(load[1])} at the end. ")


def write_section(path: str, out: dict[str, Any], command: str, started: float) -> None:
    body = section(out, command, started)
    text = "# Benchmarks\n"
    if os.path.exists(path):
        with open(path) as f:
            text = f.read()
    pattern = re.compile(r"^## Browser\b.*?(?=^## |\Z)", re.DOTALL | re.MULTILINE)
    text = pattern.sub(lambda _: body + "\n", text, count=1) if pattern.search(text) else text.rstrip() + "\n\n" + body
    with open(path, "w") as f:
        f.write(text)
