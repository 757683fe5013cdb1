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
import multiprocessing as mp
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import psycopg2

from bench.api import wait_up
from bench.api_report import load_avg, machine, percentile
from contract.pg.connect import connect_writer, resolve_dsns
from contract.settings import load_settings
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


async def _clients(url: str, path: str, n: int, arrivals: dict[str, list[float]],
                   ready: Callable[[], None], stop: Callable[[], bool], events: int, n_all: int) -> None:
    """n subscribed clients; ``ready()`` once all are subscribed; stop when all events came or asked."""
    subscribed, done = asyncio.Event(), asyncio.Event()
    counter = [0]
    tasks = []
    for i in range(n):
        tasks.append(asyncio.create_task(client(url, path, arrivals, subscribed, counter, n, done)))
        if i % 50 == 49:
            await asyncio.sleep(0.05)          # do not open 1,000 sockets in one burst
    await asyncio.wait_for(subscribed.wait(), 120)
    ready()
    while not stop() and sum(len(v) for v in arrivals.values()) < events * n:
        await asyncio.sleep(0.05)
    done.set()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def _client_process(url: str, path: str, n: int, events: int, n_all: int, ready: Any, stop: Any,
                    out: Any) -> None:
    arrivals: dict[str, list[float]] = {}
    asyncio.run(_clients(url, path, n, arrivals, ready.release, stop.is_set, events, n_all))
    out.put(arrivals)


async def one_round(url: str, dsn: str, n_clients: int, events: int, rate: float, procs: int) -> list[float]:
    store = RunStore(psycopg2.connect(dsn))
    run = store.create_run("LiveBenchFlow", user="bench", dag=DAG, file_name="bench.py", source="")
    path = f"/api/flows/{run.flow_id}/runs/{run.run_id}/tasks"
    commits: dict[str, float] = {}
    writer_thread = threading.Thread(target=writer, args=(dsn, run, events, rate, commits))
    arrivals: dict[str, list[float]] = {}
    if procs <= 1:
        ready_flag = asyncio.Event()
        stop_at: list[float] = []
        clients = asyncio.create_task(_clients(
            url, path, n_clients, arrivals, ready_flag.set,
            lambda: bool(stop_at) and time.time() > stop_at[0], events, n_clients))
        await asyncio.wait_for(ready_flag.wait(), 180)
        writer_thread.start()
        while writer_thread.is_alive():
            await asyncio.sleep(0.05)
        stop_at.append(time.time() + 10)
        await clients
    else:
        # Clients in several processes, as browsers on other machines would be: their CPU is not
        # serialised behind one Python loop (they still share this machine's cores).
        ctx = mp.get_context("spawn")
        ready, stop, out = ctx.Semaphore(0), ctx.Event(), ctx.Queue()
        shares = [n_clients // procs + (1 if i < n_clients % procs else 0) for i in range(procs)]
        workers = [ctx.Process(target=_client_process, args=(url, path, k, events, n_clients, ready, stop, out))
                   for k in shares if k]
        for w in workers:
            w.start()
        for _ in workers:
            await asyncio.get_running_loop().run_in_executor(None, ready.acquire, True, 180)
        writer_thread.start()
        while writer_thread.is_alive():
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)
        loop = asyncio.get_running_loop()
        timer = loop.call_later(10, stop.set)
        for _ in workers:
            part = await loop.run_in_executor(None, out.get, True, 60)
            for tid, times in part.items():
                arrivals.setdefault(tid, []).extend(times)
        timer.cancel()
        for w in workers:
            w.join(10)
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
    p.add_argument("--client-procs", type=int, default=1,
                   help="spread the clients over this many processes (default 1: all in this one)")
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
            lat = asyncio.run(one_round(url, dsn, n, args.events, args.rate, args.client_procs))
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
    lines = ["## Live updates: Python websocket clients", "",
             (f"Written by `bench.live`. Command: `{command}`. Machine: {machine()}, shared. Date: {when}. "
             "Commit of a task row (RunStore.create_task) → the insert event at a websocket client "
             "subscribed to the run's tasks. The clients are Python websocket clients (aiohttp) in the bench "
             "process — not browsers (see bench.live_browsers) — so their CPU time counts too. Load average "
             f"(`uptime`) at the end: {load_avg(os.getloadavg())}."), "",
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
    pattern = re.compile(r"^## Live updates: Python websocket clients\n.*?(?=^## |\Z)", re.DOTALL | re.MULTILINE)
    text = pattern.sub(lambda _: body + "\n", text, count=1) if pattern.search(text) else text.rstrip() + "\n\n" + body
    with open(path, "w") as f:
        f.write(text)


if __name__ == "__main__":
    raise SystemExit(main())
