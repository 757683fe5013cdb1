"""Live latency: the runtime's commit of a task row → a websocket client receiving its event.

    python -m bench.live [--clients 1 100 1000] [--events 40] [--rate 5] [--home DIR] [--markdown docs/benchmarks.md]

Never writes to the seeded database: it starts its own embedded Postgres and backend under
--home (default: a fresh temporary directory). A writer thread creates tasks through
core_runtime.store.RunStore (each create is one commit) and notes the time the commit returned;
N clients subscribe to the run's tasks (`/api/flows/{flow}/runs/{run}/tasks`) and note when each
task's insert event arrives. Latency = arrival - commit, per client and event (one clock: the
clients and the writer share this process, so the clients' own CPU time on a 2-core machine is
part of the number — an upper bound on what the server adds).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

import aiohttp
import psycopg2

from bench.api import wait_up
from bench.api_report import machine, percentile
from core_runtime.pg.connect import connect_writer, resolve_dsns
from core_runtime.settings import load_settings
from core_runtime.store import RunStore

DAG = {"start_step": "start", "end_step": "end", "graph_structure": ["start", "end"], "steps": {
    "start": {"name": "start", "type": "start", "next": ["end"], "line": 1, "doc": "", "decorators": []},
    "end": {"name": "end", "type": "end", "next": [], "line": 2, "doc": "", "decorators": []}}}


async def client(url: str, resource_path: str, arrivals: dict[str, list[float]], ready: asyncio.Event,
                 counter: list[int], n_clients: int, done: asyncio.Event) -> None:
    async with aiohttp.ClientSession() as s, s.ws_connect(f"{url}/api/ws", heartbeat=None, max_msg_size=0) as ws:
        await ws.send_json({"type": "subscribe", "id": "t", "resource": resource_path})
        async for msg in ws:
            data = json.loads(msg.data)
            if data["type"] == "subscribed":
                counter[0] += 1
                if counter[0] == n_clients:
                    ready.set()
                continue
            if data["type"] == "insert":
                arrivals.setdefault(data["data"]["task_id"], []).append(time.time())
            if done.is_set():
                break


def writer(dsn: str, run: Any, n: int, rate: float, commits: dict[str, float]) -> None:
    store = RunStore(psycopg2.connect(dsn))
    for i in range(n):
        t = time.time()
        # the payload carries the write's wall time too (foreach_value), for anyone watching by hand
        ref = store.create_task(run, "start", foreach_index=i, foreach_value=f"{t:.6f}", task_id=f"b{i}")
        commits[ref.task_id] = time.time()
        time.sleep(max(0.0, 1 / rate - (time.time() - t)))


async def one_round(url: str, dsn: str, n_clients: int, events: int, rate: float) -> list[float]:
    store = RunStore(psycopg2.connect(dsn))
    run = store.create_run("LiveBenchFlow", user="bench", dag=DAG, file_name="bench.py", source="")
    path = f"/api/flows/{run.flow_id}/runs/{run.run_id}/tasks"
    arrivals: dict[str, list[float]] = {}
    ready, done, counter = asyncio.Event(), asyncio.Event(), [0]
    tasks = []
    for i in range(n_clients):
        tasks.append(asyncio.create_task(client(url, path, arrivals, ready, counter, n_clients, done)))
        if i % 50 == 49:
            await asyncio.sleep(0.05)          # do not open 1,000 sockets in one burst
    await asyncio.wait_for(ready.wait(), 120)
    commits: dict[str, float] = {}
    th = threading.Thread(target=writer, args=(dsn, run, events, rate, commits))
    th.start()
    while th.is_alive():
        await asyncio.sleep(0.05)
    deadline = time.time() + 10
    while time.time() < deadline and sum(len(v) for v in arrivals.values()) < events * n_clients:
        await asyncio.sleep(0.1)
    done.set()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    store.finish_run(run, "completed", "bench done")
    lat = [a - commits[tid] for tid, times in arrivals.items() if tid in commits for a in times]
    missing = events * n_clients - len(lat)
    if missing:
        print(f"  {missing} of {events * n_clients} events not received within 10 s", flush=True)
    return lat


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench.live")
    p.add_argument("--clients", type=int, nargs="+", default=[1, 100, 1000])
    p.add_argument("--events", type=int, default=40)
    p.add_argument("--rate", type=float, default=5.0, help="task commits per second")
    p.add_argument("--home", help="FLOWSCOPE_HOME for the bench's own database (default: a temp dir)")
    p.add_argument("--port", type=int, default=8767)
    p.add_argument("--markdown")
    args = p.parse_args(argv)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4096)), hard))
    home = args.home or tempfile.mkdtemp(prefix="flowscope-live-bench-")
    env = {**os.environ, "FLOWSCOPE_HOME": home}
    os.environ["FLOWSCOPE_HOME"] = home
    settings = load_settings()
    connect_writer(settings).close()          # migrates the fresh database
    dsn = resolve_dsns(settings).writer
    assert dsn is not None
    proc = subprocess.Popen([sys.executable, "-m", "backend.cli", "serve", "--port", str(args.port), "--no-ingest"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{args.port}"
    rows = []
    started = time.time()
    try:
        asyncio.run(wait_up(url, proc))
        for n in args.clients:
            lat = asyncio.run(one_round(url, dsn, n, args.events, args.rate))
            row = (n, percentile(lat, 50), percentile(lat, 95), percentile(lat, 99), len(lat), args.events * n)
            rows.append(row)
            print(f"{n} clients: p50 {row[1] * 1000:.0f} ms, p95 {row[2] * 1000:.0f} ms, p99 {row[3] * 1000:.0f} ms "
                  f"({row[4]}/{row[5]} events)", flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    if args.markdown:
        write_section(args.markdown, rows, " ".join(["python -m bench.live", *(argv or sys.argv[1:])]), started)
    return 0 if rows and rows[-1][2] < 0.25 else 1


def write_section(path: str, rows: list[tuple[int, float, float, float, int, int]], command: str,
                  started: float) -> None:
    import re
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started))
    lines = ["## Live updates", "",
             (f"Written by `bench.live`. Command: `{command}`. Machine: {machine()}, shared. Date: {when}. "
             "Commit of a task row (RunStore.create_task) → the insert event at a websocket client "
             "subscribed to the run's tasks; the clients run in the bench process, so their CPU time counts."), "",
             "| clients | p50 ms | p95 ms | p99 ms | events received | target p95 | ok |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for n, p50, p95, p99, got, want in rows:
        ok = "yes" if p95 < 0.25 else "**no**"
        lines.append(f"| {n} | {p50 * 1000:.0f} | {p95 * 1000:.0f} | {p99 * 1000:.0f} | {got:,} / {want:,} | "
                     f"{'< 250' if n == 1000 else ''} | {ok if n == 1000 else ''} |")
    body = "\n".join(lines) + "\n"
    text = "# Benchmarks\n"
    if os.path.exists(path):
        with open(path) as f:
            text = f.read()
    pattern = re.compile(r"^## Live updates\b.*?(?=^## |\Z)", re.DOTALL | re.MULTILINE)
    text = pattern.sub(lambda _: body + "\n", text, count=1) if pattern.search(text) else text.rstrip() + "\n\n" + body
    with open(path, "w") as f:
        f.write(text)


if __name__ == "__main__":
    raise SystemExit(main())
