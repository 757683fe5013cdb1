"""Throughput of the miss path with one and more backend processes, and what each request costs.

    FLOWSCOPE_HOME=/path/to/seeded/home python -m bench.throughput [--workers 1 2] [--clients 32]
        [--seconds 8] [--only NAME ...] [--markdown docs/benchmarks.md]

For each process count a backend is started with the response cache off (FLOWSCOPE_WORKERS=N,
FLOWSCOPE_RESPONSE_CACHE_MB=0; the run and task JSON caches by version on, as by default, unless
--no-version-cache); for each case 32 lean clients (bench/http_client.py) send requests
for a fixed time. Reported per case: answers per second, latency p50/p95, and the CPU time per
request of the backend processes, of Postgres (every process of the embedded server under
FLOWSCOPE_HOME/pgdata; "n/a" for an external server) and of the clients, from /proc; then each
backend process's memory (RSS, from /api/-/status) after the run. On 2 cores shared by the
backend, Postgres and the clients, the sum of the three CPU columns bounds the throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.api import start_backend, stop_backend, wait_up
from bench.api_report import load_average, machine, percentile
from bench.http_client import LeanSession

TICK_MS = 1000 / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def cpu_ms(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])   # utime + stime
    return total * TICK_MS


def postgres_pids(home: str) -> list[int]:
    pidfile = Path(home) / "pgdata" / "postmaster.pid"
    if not pidfile.exists():
        return []
    postmaster = int(pidfile.read_text().split()[0])
    return [postmaster, *children(postmaster)]


async def drive(url: str, clients: int, seconds: float) -> tuple[list[float], float]:
    session = LeanSession(url)
    latencies: list[float] = []
    stop = time.monotonic() + seconds

    async def worker() -> None:
        while time.monotonic() < stop:
            t = time.perf_counter()
            async with session.get(url) as r:
                await r.read()
                if r.status != 200:
                    raise SystemExit(f"GET {url} -> {r.status}")
            latencies.append(time.perf_counter() - t)

    c0 = time.process_time()
    await asyncio.gather(*(worker() for _ in range(clients)))
    session.close()
    return latencies, (time.process_time() - c0) * 1000


def get(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url, timeout=30) as r:
        data: dict[str, object] = json.load(r)
        return data


def cases(base: str) -> list[tuple[str, str]]:
    newest = get(f"{base}/api/runs?status=completed&limit=1")["data"]
    run = newest[0] if isinstance(newest, list) else {}
    path = f"/api/flows/{run['flow_id']}/runs/{run['run_id']}"
    tags: dict[str, int] = {}
    rows: list[dict[str, Any]] = get(f"{base}/api/runs?limit=200")["data"]  # type: ignore[assignment]
    for r in rows:
        for t in r["tags"]:
            tags[t] = tags.get(t, 0) + 1
    mid = sorted(tags, key=lambda t: -tags[t])[len(tags) // 2]
    return [("home: newest first", "/api/runs"), ("status = failed", "/api/runs?status=failed"),
            (f"tag = {mid} (mid)", f"/api/runs?tag={mid}"), ("group_by = flow", "/api/runs?group_by=flow"),
            ("group_by = user", "/api/runs?group_by=user"), ("run", path), ("run: dag", path + "/dag"),
            ("run: steps", path + "/steps"), ("run: tasks", path + "/tasks"),
            ("version (the framework alone)", "/api/-/version")]


async def measure(args: argparse.Namespace, workers: int) -> list[list[str]]:
    home = os.environ["FLOWSCOPE_HOME"]
    proc = start_backend(args.port, response_cache=False, workers=workers, version_cache=not args.no_version_cache)
    base = f"http://127.0.0.1:{args.port}"
    rows = []
    try:
        await wait_up(base, proc)
        deadline = time.monotonic() + 60
        while len(children_serving(proc.pid)) < workers - 1 and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
        await asyncio.sleep(2)
        for name, path in cases(base):
            if args.only and not any(o in name for o in args.only):
                continue
            await drive(base + path, args.clients, 1.0)     # warm-up: connections, plans, caches
            backend = [proc.pid, *children_serving(proc.pid)]
            pg = postgres_pids(home)
            b0, p0 = cpu_ms(backend), cpu_ms(pg)
            lat, client_ms = await drive(base + path, args.clients, args.seconds)
            b1, p1 = cpu_ms(backend), cpu_ms(pg)
            n = len(lat)
            rows.append([name, str(workers), f"{n / args.seconds:.0f}", f"{percentile(lat, 50) * 1000:.1f}",
                         f"{percentile(lat, 95) * 1000:.1f}", f"{(b1 - b0) / n:.3f}",
                         f"{(p1 - p0) / n:.3f}" if pg else "n/a", f"{client_ms / n:.3f}", load_average()])
            print(" | ".join(rows[-1]), flush=True)
        rss = rss_per_process(base, workers)
        rows.append([f"backend RSS per process after the run: {rss}", str(workers), "", "", "", "", "", "", ""])
        print(rows[-1][0], flush=True)
    finally:
        stop_backend(proc)
    return rows


def children_serving(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid), "-f", "serve --reuse-port"], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def rss_per_process(base: str, workers: int) -> str:
    """Each process's RSS, asking /api/-/status on new connections until every pid answered."""
    seen: dict[int, int] = {}
    for _ in range(200):
        process = get(f"{base}/api/-/status")["data"]["process"]  # type: ignore[index]
        seen[int(process["pid"])] = int(process["rss_bytes"] or 0)
        if len(seen) >= workers:
            break
    return ", ".join(f"{b / 2**20:.0f} MiB" for b in seen.values())


def write_section(path: str, rows: list[list[str]], command: str, started: float, loads: tuple[str, str],
                  version_cache: bool = True) -> None:
    import re

    heading = ("## Throughput: one and two backend processes (response cache off)" if version_cache else
               "## Throughput: one and two backend processes (response cache and run/task JSON caches off)")
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started))
    header = ["case", "processes", "req/s", "p50 ms", "p95 ms", "backend CPU ms/req", "Postgres CPU ms/req",
              "client CPU ms/req", "load"]
    lines = ["| " + " | ".join(header) + " |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    body = (f"{heading}\n\nWritten by `bench.throughput`. Command: `{command}`. Machine: {machine()}, shared "
            f"with other processes; load average (1/5/15 min) {loads[0]} at the start, {loads[1]} at the end. "
            f"Date: {when}. {__doc__.split(chr(10) + chr(10), 2)[2].strip() if __doc__ else ''}\n\n"
            + "\n".join(lines) + "\n")
    text = Path(path).read_text() if Path(path).exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.DOTALL | re.MULTILINE)
    text = pattern.sub(lambda _: body + "\n", text, count=1) if pattern.search(text) else text.rstrip() + "\n\n" + body
    Path(path).write_text(text)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench.throughput", description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    p.add_argument("--clients", type=int, default=32)
    p.add_argument("--seconds", type=float, default=8.0)
    p.add_argument("--port", type=int, default=8821)
    p.add_argument("--markdown", help="write the table into this file's section")
    p.add_argument("--only", action="append", default=[],
                   help="only the cases whose name contains this (repeatable)")
    p.add_argument("--no-version-cache", action="store_true",
                   help="FLOWSCOPE_VERSION_CACHE=false: every run and task JSON built by Postgres on every page")
    args = p.parse_args(argv)
    if args.only and args.markdown:
        p.error("--only measures part of the table: it cannot replace the table with --markdown")
    if not os.environ.get("FLOWSCOPE_HOME"):
        print("set FLOWSCOPE_HOME to the seeded home", file=sys.stderr)
        return 2
    started, load_start = time.time(), load_average()
    rows: list[list[str]] = []
    for workers in args.workers:
        rows += asyncio.run(measure(args, workers))
    if args.markdown:
        command = " ".join([f"FLOWSCOPE_HOME={os.environ['FLOWSCOPE_HOME']} python -m bench.throughput",
                            *(argv if argv is not None else sys.argv[1:])])
        write_section(args.markdown, rows, command, started, (load_start, load_average()),
                      version_cache=not args.no_version_cache)
    return 0


if __name__ == "__main__":
    sys.exit(main())
