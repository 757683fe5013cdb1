"""The UI in Chromium over the seeded database: first paints, frame times, JS heap, backend RSS.

    FLOWSCOPE_HOME=/tmp/fs-scale python -m bench.browser [--url URL --pid PID] [--repeat 3]
        [--markdown docs/benchmarks.md | --huge-only]

Needs a built frontend (``cd frontend && npm run build``) and /usr/bin/chromium. Without --url a
backend is started on FLOWSCOPE_HOME and stopped at the end; its RSS is sampled every 100 ms
(pass --pid with --url to sample a running one). Each page load uses a fresh browser context
(empty HTTP cache), so every number is a cold client; the backend's caches are whatever the
earlier loads left, except for the huge run's cold row: --cold-repeat first opens, each right after
a backend restart (empty in-process caches, a new disk cache dir; it builds the run's timeline
index), reported beside the warm loads.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import sys
import tempfile
import threading
import time
from typing import Any

from playwright.sync_api import Page, sync_playwright

from bench.api import start_backend, wait_up
from bench.browser_report import write_section

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"]

# Timestamps of every animation frame while an interaction runs (performance.now() ms).
# A new probe ends the previous one (a generation number), so frames are never counted twice.
FRAME_PROBE = """() => { const gen = (window.__gen = (window.__gen || 0) + 1); window.__frames = [];
  const tick = (t) => { if (window.__gen !== gen) return; window.__frames.push(t);
    if (window.__frames.length < 100000) requestAnimationFrame(tick); }; requestAnimationFrame(tick); }"""


class RssSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                with open(f"/proc/{self.pid}/status") as f:
                    for line in f:
                        if line.startswith("VmRSS:"):
                            self.peak = max(self.peak, int(line.split()[1]) * 1024)
            except OSError:
                pass   # between a backend restart and the next pid
            time.sleep(0.1)

    def now(self) -> int:
        try:
            with open(f"/proc/{self.pid}/status") as f:
                return next(int(x.split()[1]) * 1024 for x in f if x.startswith("VmRSS:"))
        except (OSError, StopIteration):
            return 0


def timed(page: Page, url: str, ready_js: str, timeout_ms: int = 60_000) -> float:
    """ms from navigation start until ready_js is true (polled every animation frame).

    The time is taken in the page, in the animation frame where the check first passes: reading
    performance.now() with a later evaluate would add Playwright's round trip to every figure.
    """
    page.goto(url, wait_until="commit")
    stamped = ("() => { const ok = (" + ready_js + ")(); "
               "if (ok && window.__readyAt === undefined) window.__readyAt = performance.now(); return ok; }")
    page.wait_for_function(stamped, timeout=timeout_ms, polling="raf")
    return float(page.evaluate("() => window.__readyAt"))


def main_thread_ms(cdp: Any) -> tuple[float, float]:
    """(all task time, script time) the renderer's main thread has spent so far, in ms (CDP Performance)."""
    m = {x["name"]: x["value"] for x in cdp.send("Performance.getMetrics")["metrics"]}
    return 1000 * m.get("TaskDuration", 0.0), 1000 * m.get("ScriptDuration", 0.0)


def frame_stats(page: Page, action: Any, cdp: Any = None) -> dict[str, float]:
    """Frame gaps during `action`; with a CDP session also the main thread's busy time per frame.

    Headless Chromium paces frames at 60 Hz, so on an idle machine the gaps sit at 16.7 ms
    however much each frame costs; busy ms per frame says how much headroom is left.
    """
    page.evaluate(FRAME_PROBE)
    before = main_thread_ms(cdp) if cdp is not None else (0.0, 0.0)
    action()
    page.wait_for_timeout(300)
    after = main_thread_ms(cdp) if cdp is not None else (0.0, 0.0)
    frames: list[float] = page.evaluate("() => window.__frames")
    gaps = sorted(b - a for a, b in itertools.pairwise(frames))
    if not gaps:
        return {"frames": 0, "p50": 0.0, "p95": 0.0, "max": 0.0, "fps": 0.0, "busy_per_frame": 0.0, "script_per_frame": 0.0}
    span = frames[-1] - frames[0]
    return {"frames": len(gaps), "p50": gaps[len(gaps) // 2], "p95": gaps[min(len(gaps) - 1, int(len(gaps) * 0.95))],
            "max": gaps[-1], "fps": 1000 * len(gaps) / span if span else 0.0,
            "busy_per_frame": (after[0] - before[0]) / len(gaps), "script_per_frame": (after[1] - before[1]) / len(gaps)}


def measure(base: str, seed: dict[str, Any], repeat: int, rss: RssSampler | None,
            restart: Any = None, cold_repeat: int = 0, huge_only: bool = False) -> dict[str, Any]:
    huge = "/" + seed["huge_run"]
    flow, run, step, task = seed["log_task"].split("/")
    log = f"/{flow}/{run}/{step}/{task}"
    out: dict[str, Any] = {"rows": []}

    def row(name: str, values: list[float], target: float | None, note: str = "") -> None:
        values = sorted(values)
        out["rows"].append({"name": name, "first": values and values[0], "median": values[len(values) // 2],
                            "runs": len(values), "target": target, "note": note})
        print(f"{name}: median {values[len(values) // 2]:.0f} ms {note}", flush=True)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)

        def fresh() -> Page:
            ctx = browser.new_context(base_url=base, viewport={"width": 1600, "height": 1000})
            return ctx.new_page()

        home_ready = "() => document.querySelectorAll('[role=row][data-pathspec]').length >= 20"
        timeline_ready = ("() => { const t = document.querySelector('[data-testid=timeline]'); "
                          "return t && t.dataset.loaded === 'true' && Number(t.dataset.bars) > 0; }")
        tail_ready = ("() => { const t = document.querySelector('[data-testid=log-total]'); "
                      "return t && document.querySelector('[data-line=\"1000000\"]') !== null; }")
        jump_ready = "() => { const l = document.querySelector('[data-line=\"900000\"]'); return l && l.textContent.includes('line 900000:'); }"

        # Cold: the first open of the huge run after a backend restart (empty caches: it builds the
        # run's timeline index), each in a fresh browser context.
        cold = []
        for _ in range(cold_repeat if restart is not None else 0):
            restart()
            pg = fresh()
            cold.append(timed(pg, huge, timeline_ready))
            pg.context.close()
            print(f"cold open {len(cold)}: {cold[-1]:.0f} ms", flush=True)
        first_huge = None
        for _ in range(repeat):
            pg = fresh()
            home = timed(pg, "/", home_ready)
            pg.context.close()
            pg = fresh()
            t = timed(pg, huge, timeline_ready)
            first_huge = t if first_huge is None else first_huge
            pg.context.close()
            out.setdefault("home", []).append(home)
            out.setdefault("huge", []).append(t)
        row("home: first rows painted (1M runs)", out["home"], None)
        if cold:
            row("huge run page, cold: first open after a backend restart (builds the timeline index)", cold, 1500)
        row("huge run page, warm: timeline painted (100k tasks, index built)", out["huge"][1:] or out["huge"], 1500,
            "" if cold else f"(first load, cold index: {first_huge:.0f} ms)")
        if huge_only:
            browser.close()
            return out
        dense = []
        for _ in range(repeat):
            pg = fresh()
            dense.append(timed(pg, huge + "?group=dense", timeline_ready))
            pg.context.close()
        row("huge run page, dense (all 100k tasks in lanes)", dense, 1500)

        pg = fresh()
        timed(pg, huge, timeline_ready)
        cdp = pg.context.new_cdp_session(pg)
        cdp.send("Performance.enable")
        canvas = pg.locator("canvas[aria-label='Task timeline']")
        box = canvas.bounding_box()
        assert box is not None
        pg.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] / 2)

        def zoom_in() -> None:
            for _ in range(30):
                pg.mouse.wheel(0, -120)
                pg.wait_for_timeout(16)

        def pan() -> None:
            for _ in range(60):
                pg.mouse.wheel(-80, 0)
                pg.wait_for_timeout(16)

        def zoom_out() -> None:
            for _ in range(30):
                pg.mouse.wheel(0, 120)
                pg.wait_for_timeout(16)

        # Zoom in (the view changes), pan the zoomed view (it moves), zoom back out; each gesture
        # must change the drawing, or its frame times would measure an idle canvas.
        shots = [canvas.screenshot()]
        out["zoom"] = frame_stats(pg, zoom_in, cdp)
        shots.append(canvas.screenshot())
        out["pan"] = frame_stats(pg, pan, cdp)
        shots.append(canvas.screenshot())
        zoom_back = frame_stats(pg, zoom_out, cdp)
        shots.append(canvas.screenshot())
        out["zoom"] = {k: max(out["zoom"][k], zoom_back[k]) if k in ("p95", "max", "busy_per_frame", "script_per_frame")
                       else out["zoom"][k] for k in out["zoom"]}
        out["view_moved"] = all(a != b for a, b in itertools.pairwise(shots))
        cdp.send("HeapProfiler.collectGarbage")
        metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
        out["heap"] = metrics.get("JSHeapUsedSize", 0.0)
        pg.context.close()
        print(f"zoom frames {out['zoom']}, pan frames {out['pan']}, heap {out['heap'] / 2**20:.1f} MiB", flush=True)

        tails, jumps = [], []
        for _ in range(repeat):
            pg = fresh()
            tails.append(timed(pg, log, tail_ready))
            pg.context.close()
            pg = fresh()
            jumps.append(timed(pg, log + "#L900000", jump_ready))
            pg.context.close()
        row("1M-line log: opens at its tail", tails, 1000)
        row("1M-line log: permalink to line 900,000", jumps, 1000)
        browser.close()
    if rss is not None:
        out["rss_peak"], out["rss_end"] = rss.peak, rss.now()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench.browser")
    p.add_argument("--url")
    p.add_argument("--pid", type=int, help="the backend's pid, to sample its RSS (with --url)")
    p.add_argument("--port", type=int, default=8766)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--cold-repeat", type=int, default=3,
                   help="first opens of the huge run, each after a backend restart (needs no --url)")
    p.add_argument("--huge-only", action="store_true",
                   help="only the home page and the huge run's cold and warm opens (for A/B runs; no --markdown)")
    p.add_argument("--markdown")
    args = p.parse_args(argv)
    if args.huge_only and args.markdown:
        p.error("--huge-only measures part of the table: it cannot write it (--markdown)")
    home = os.environ.get("FLOWSCOPE_HOME", "")
    with open(os.path.join(home, "seed.json")) as f:
        seed = json.load(f)
    proc = None
    url, pid = args.url, args.pid
    if url is None:
        proc = start_backend(args.port)
        url, pid = f"http://127.0.0.1:{args.port}", proc.pid
    rss = RssSampler(pid) if pid else None

    def restart() -> None:
        nonlocal proc
        assert proc is not None
        proc.terminate()
        proc.wait(timeout=60)
        # a fresh on-disk cache too: the first open pays what a new replica pays
        proc = start_backend(args.port,
                             env_extra={"FLOWSCOPE_CACHE_DIR": tempfile.mkdtemp(prefix="bench-browser-cold-")})
        # Playwright's sync API runs an event loop in this thread: wait for the backend in another.
        waiter = threading.Thread(target=lambda: asyncio.run(wait_up(url, proc, "/api/-/version")))
        waiter.start()
        waiter.join()
        if rss is not None:
            rss.pid = proc.pid

    try:
        asyncio.run(wait_up(url, proc))
        if rss is not None:
            rss.start()
        started = time.time()
        load_before = os.getloadavg()
        out = measure(url, seed, args.repeat, rss, restart if proc is not None else None, args.cold_repeat,
                      args.huge_only)
        out["load"] = (load_before, os.getloadavg())
    finally:
        if rss is not None:
            rss.stop.set()
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
    print(json.dumps({k: v for k, v in out.items() if k != "rows"}, indent=1))
    if args.markdown:
        write_section(args.markdown, out, " ".join(["python -m bench.browser", *(argv or sys.argv[1:])]), started)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
