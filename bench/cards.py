"""Card update latency: a running task's ``current.card.refresh()`` → the new value painted in Chromium.

    python -m bench.cards --home /tmp/fs-cardbench [--steps 30] [--metaflow] [--markdown docs/benchmarks.md]

Starts a backend (and, with --metaflow, its ingest service) on an embedded Postgres under
--home, opens a task's card in Chromium (the app's Cards panel, as a user would), then runs the
live card flow of tests/fixtures/cards: a ProgressBar and a VegaChart refreshed once a second
(``@card(refresh_interval=1)``). The flow writes the wall-clock time of each ``refresh()`` call
(LIVE_CARD_TIMES); inside the card frame a MutationObserver notes when each new progress value
reaches the DOM and the next animation frame paints it. Latency = paint time − refresh time,
same machine clock. The first value (shown by the initial page load, not by an update) is left out.

Runs: core_runtime (refresh → datastore write + cards row → NOTIFY → websocket → fetch → postMessage)
and, with --metaflow, pip metaflow (refresh → `card create` subprocess writes runtime data →
the backend's poll of the datastore every FLOWSCOPE_METAFLOW_CARD_POLL_MS → websocket → …).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

from bench.api import wait_up

REPO = Path(__file__).resolve().parents[1]
CARD_FLOWS = REPO / "tests" / "fixtures" / "cards"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"]
OBSERVE = """() => { if (window.__seen) return; window.__seen = [];
  const note = () => { const p = document.querySelector('.progress'); if (!p) return;
    const v = Number(p.getAttribute('aria-valuenow'));
    if (!window.__seen.length || window.__seen[window.__seen.length - 1][0] !== v)
      requestAnimationFrame(() => window.__seen.push([v, Date.now()])); };
  new MutationObserver(note).observe(document.body, {subtree: true, attributes: true, childList: true}); note(); }"""


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def run_one(base: str, env: dict[str, str], script: str, steps: int, tmp: Path, extra: list[str]) -> dict[str, Any]:
    times = tmp / f"{script}.times"
    id_file = tmp / f"{script}.id"
    flow_env = {**env, "LIVE_CARD_STEPS": str(steps), "LIVE_CARD_SLEEP": "1.0", "LIVE_CARD_TIMES": str(times)}
    proc = subprocess.Popen([sys.executable, str(CARD_FLOWS / script), *extra, "run", "--run-id-file", str(id_file)],
                            env=flow_env, cwd=str(tmp), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sys.path.insert(0, str(REPO / "tests" / "e2e"))
    from card_watch import card_frame, card_task

    run, task = card_task(base, "LiveCardFlow", id_file, timeout=180)
    seen: list[tuple[float, int]] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 850})
        page.goto(f"{base}/LiveCardFlow/{run}/start/{task}?panel=cards")
        page.get_by_test_id("card-frame").wait_for()
        while proc.poll() is None:
            try:
                frame = card_frame(page)
                frame.evaluate(OBSERVE)
                for v, t in frame.evaluate("window.__seen.splice(0)"):
                    seen.append((float(v), int(t)))
            except Exception:  # noqa: BLE001, S110 - the frame may be between documents
                pass
            time.sleep(0.5)
        browser.close()
    refreshed = {int(e): float(t) for e, t in (ln.split() for ln in times.read_text().splitlines())}
    firsts: dict[int, int] = {}
    for v, t in seen:
        firsts.setdefault(int(v), t)
    shown = sorted(firsts)
    latencies = [firsts[v] - refreshed[v] * 1000 for v in shown[1:] if v in refreshed]
    return {"refreshes": len(refreshed), "shown": len(shown) - 1, "lat": latencies}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--home", default=tempfile.mkdtemp(prefix="fs-cardbench-"))
    ap.add_argument("--steps", type=int, default=30, help="refreshes per run (one a second)")
    ap.add_argument("--metaflow", action="store_true", help="also a run of pip metaflow through the ingest service")
    ap.add_argument("--markdown", help="append the table to this file's 'Card updates' section")
    args = ap.parse_args()
    load_before = os.getloadavg()
    port, ingest = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("METAFLOW_", "FLOWSCOPE_"))}
    env.update(FLOWSCOPE_HOME=args.home, PYTHONPATH=str(REPO))
    backend = subprocess.Popen([sys.executable, "-m", "backend.cli", "serve", "--port", str(port)],
                               env={**env, "FLOWSCOPE_INGEST_PORT": str(ingest)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    rows = []
    try:
        asyncio.run(wait_up(base, backend))
        tmp = Path(tempfile.mkdtemp(prefix="fs-cardbench-runs-"))
        print(f"core_runtime: {args.steps} refreshes …", file=sys.stderr)
        rows.append(("core_runtime", run_one(base, env, "live_card_flow.py", args.steps, tmp, [])))
        if args.metaflow:
            mf = {k: v for k, v in env.items() if not k.startswith("FLOWSCOPE_")}
            mf.update(METAFLOW_DEFAULT_METADATA="service", METAFLOW_SERVICE_URL=f"http://127.0.0.1:{ingest}",
                      METAFLOW_DEFAULT_DATASTORE="local", METAFLOW_DATASTORE_SYSROOT_LOCAL=str(tmp),
                      METAFLOW_USER="bench", USERNAME="bench")
            print(f"metaflow: {args.steps} refreshes …", file=sys.stderr)
            rows.append(("pip metaflow 2.19.39", run_one(base, mf, "mf_live_card_flow.py", args.steps, tmp,
                                                         ["--no-pylint"])))
    finally:
        backend.terminate()
        backend.wait(30)
    load_after = os.getloadavg()
    lines = ["| runtime | refreshes | updates painted | p50 ms | p95 ms | max ms | target p95 | ok |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for name, r in rows:
        lat = r["lat"]
        p50, p95 = (statistics.median(lat), percentile(lat, 0.95)) if lat else (float("nan"), float("nan"))
        target = "< 1000" if name == "core_runtime" else ""
        ok = ("yes" if p95 < 1000 else "no") if name == "core_runtime" else ""
        lines.append(f"| {name} | {r['refreshes']} | {r['shown']} | {p50:.0f} | {p95:.0f} | "
                     f"{max(lat) if lat else float('nan'):.0f} | {target} | {ok} |")
    cmd = "python -m bench.cards " + " ".join(a for a in sys.argv[1:] if a != "--markdown" and not a.endswith(".md"))
    head = (f"Command: `{cmd}`. Load average (1/5/15 min) before: {load_before[0]:.2f} / {load_before[1]:.2f} / "
            f"{load_before[2]:.2f}, after: {load_after[0]:.2f} / {load_after[1]:.2f} / {load_after[2]:.2f} "
            f"({os.cpu_count()} CPUs, shared). Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.")
    out = "\n".join([head, "", *lines])
    print(out)
    if args.markdown:
        with open(args.markdown, "a", encoding="utf-8") as f:
            f.write("\n" + out + "\n")


if __name__ == "__main__":
    main()
