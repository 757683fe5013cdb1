"""Live latency to real browser tabs: a task row's commit → its event in each open run page.

    python -m bench.live_browsers [--tabs 1 10 50] [--events 20] [--rate 1] [--markdown docs/benchmarks.md]

bench.live measures Python websocket clients; this opens the real UI in headless Chromium (Debian's,
through Playwright) — N tabs, each on the run's page, which subscribes to the run's tasks as a
user's would — and notes, in each tab, when the page's websocket delivers the insert event of
each task (a wrapper around the page's WebSocket records ``performance.timeOrigin +
performance.now()`` at the message event). Latency = that time - the writer's commit time (one
machine, one clock). The tabs, Chromium and the backend share this machine's cores: an upper
bound on what one browser on a desktop would see. Like bench.live it uses its own embedded
Postgres and backend under --home, never the seeded database.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

import psycopg2

from bench.api_report import machine, percentile
from bench.live import DAG, writer

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
        "--disable-backgrounding-occluded-windows"]
# Runs in every tab before the app: records when each task's insert event reaches the page.
RECORDER = """
(() => {
  const Native = window.WebSocket;
  window.__arrivals = {};
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (e) => {
        const t = performance.timeOrigin + performance.now();
        let msg;
        try { msg = JSON.parse(e.data); } catch { return; }
        const id = msg && msg.type === "insert" && msg.data && msg.data.task_id;
        if (typeof id === "string" && id.startsWith("b") && !(id in window.__arrivals)) window.__arrivals[id] = t;
      });
    }
  };
})();
"""


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f} / {five:.1f} / {fifteen:.1f}"


def one_round(url: str, dsn: str, tabs: int, events: int, rate: float, browser: Any) -> tuple[list[float], int, str]:
    from core_runtime.store import RunStore

    store = RunStore(psycopg2.connect(dsn))
    run = store.create_run("LiveBrowserBenchFlow", user="bench", dag=DAG, file_name="bench.py", source="")
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=url)
    context.add_init_script(RECORDER)
    pages = []
    try:
        for _ in range(tabs):
            page = context.new_page()
            page.goto(f"/{run.flow_id}/{run.run_id}")
            pages.append(page)
        for page in pages:   # the run page is up and its socket says live
            page.locator('[data-connection="live"]').wait_for(timeout=120_000)
        time.sleep(1.0)     # subscriptions acknowledged
        before = load()
        commits: dict[str, float] = {}
        thread = threading.Thread(target=writer, args=(dsn, run, events, rate, commits))
        thread.start()
        thread.join()
        deadline = time.time() + 15
        arrivals: list[dict[str, float]] = []
        while True:
            arrivals = [page.evaluate("window.__arrivals") for page in pages]
            if sum(len(a) for a in arrivals) >= events * tabs or time.time() > deadline:
                break
            time.sleep(0.25)
    finally:
        context.close()
        store.finish_run(run, "completed", "bench done")
    lat = [t / 1000 - commits[tid] for a in arrivals for tid, t in a.items() if tid in commits]
    return lat, events * tabs, before


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench.live_browsers", description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--tabs", type=int, nargs="+", default=[1, 10, 50])
    p.add_argument("--events", type=int, default=20)
    p.add_argument("--rate", type=float, default=1.0, help="task commits per second")
    p.add_argument("--home", help="FLOWSCOPE_HOME for the bench's own database (default: a temp dir)")
    p.add_argument("--port", type=int, default=8768)
    p.add_argument("--markdown")
    args = p.parse_args(argv)
    from playwright.sync_api import sync_playwright

    from contract.pg.connect import connect_writer, resolve_dsns
    from contract.settings import load_settings

    home = args.home or tempfile.mkdtemp(prefix="flowscope-live-browsers-")
    os.environ["FLOWSCOPE_HOME"] = home
    settings = load_settings()
    connect_writer(settings).close()
    dsn = resolve_dsns(settings).writer
    assert dsn is not None
    proc = subprocess.Popen([sys.executable, "-m", "backend.cli", "serve", "--port", str(args.port), "--no-ingest"],
                            env={**os.environ}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{args.port}"
    rows = []
    started = time.time()
    try:
        import asyncio

        from bench.api import wait_up
        asyncio.run(wait_up(url, proc))
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                for tabs in args.tabs:
                    lat, want, before = one_round(url, dsn, tabs, args.events, args.rate, browser)
                    row = (tabs, percentile(lat, 50), percentile(lat, 95), percentile(lat, 99), len(lat), want,
                           before, load())
                    rows.append(row)
                    print(f"{tabs} tabs: p50 {row[1] * 1000:.0f} ms, p95 {row[2] * 1000:.0f} ms, "
                          f"p99 {row[3] * 1000:.0f} ms ({len(lat)}/{want} events; load {before} -> {row[7]})",
                          flush=True)
            finally:
                browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    if args.markdown:
        write_section(args.markdown, rows, " ".join(["python -m bench.live_browsers", *(argv or sys.argv[1:])]),
                      started, args)
    return 0


def write_section(path: str, rows: list[tuple[Any, ...]], command: str, started: float,
                  args: argparse.Namespace) -> None:
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started))
    lines = ["## Live updates in real browser tabs", "",
             (f"Written by `bench.live_browsers`. Command: `{command}`. Machine: {machine()}, shared. "
              f"Date: {when}. Headless Chromium (Debian's, Playwright), one browser, N tabs each on the "
              f"run's page (the UI itself, subscribed to the run's tasks); {args.events} task commits at "
              f"{args.rate:g}/s; latency = commit → the insert event at the tab's WebSocket (recorded in "
              "the page). Tabs, Chromium and the backend share the 2 cores. Load = `uptime` averages "
              "(1 / 5 / 15 min) before and after the round."), "",
             "| tabs | p50 ms | p95 ms | p99 ms | events received | load before | load after |",
             "| ---: | ---: | ---: | ---: | ---: | --- | --- |"]
    for tabs, p50, p95, p99, got, want, before, after in rows:
        lines.append(f"| {tabs} | {p50 * 1000:.0f} | {p95 * 1000:.0f} | {p99 * 1000:.0f} | {got:,} / {want:,} | "
                     f"{before} | {after} |")
    body = "\n".join(lines) + "\n"
    text = "# Benchmarks\n"
    if os.path.exists(path):
        with open(path) as f:
            text = f.read()
    pattern = re.compile(r"^## Live updates in real browser tabs\b.*?(?=^## |\Z)", re.DOTALL | re.MULTILINE)
    text = pattern.sub(lambda _: body + "\n", text, count=1) if pattern.search(text) else text.rstrip() + "\n\n" + body
    with open(path, "w") as f:
        f.write(text)


if __name__ == "__main__":
    raise SystemExit(main())
