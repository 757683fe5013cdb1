"""What one request costs at one client before any of our work: the floor under #19's c1 ratio.

    FLOWSCOPE_HOME=/work/data/fs-scale python -m bench.c1_floor [--samples 2000] [--port 8831]

#19 asks every list page's c1 p95 to be at most 1.5x the p95 of its own statements run directly on
one psycopg2 connection ("raw SQL", bench.api's SQL column). This measures, at one client, the parts
an answer cannot avoid on this stack, interleaved round-robin so that the machine's drift falls on
all of them alike:

* ``psycopg2 SELECT 1`` / ``aiopg SELECT 1``: one round trip to Postgres doing nothing, on a
  synchronous psycopg2 connection and through the backend's own reader (``Db`` on ``ReaderPool``,
  aiopg's asynchronous psycopg2, uvloop as ``flowscope serve`` runs it), in this process;
* ``HTTP /api/-/version``: one HTTP request to the backend that reads nothing (aiohttp, its
  middleware, uvloop; bench/http_client.py as the client);
* ``HTTP home, response cache hit``: the home page's ~30 kB answer from a second backend with the
  response cache on: the HTTP request with the real body, without the statement;
* ``psycopg2 home statements``: bench.api's raw SQL column for home (bench.api_cases.DirectDb);
* ``aiopg home reader``: the home page's reader (``backend.db.runs.list_runs``) on the backend's
  reader in this process: the statement through aiopg plus the reader's Python, no HTTP;
* ``HTTP home``: the home page with the response cache off (what bench.api's c1 column measures).

Each sample is one call, timed on the client side with perf_counter; p50/p95 over all samples.
Then CPU per request at one client, from /proc (as bench.throughput reads it): ``--cpu-requests``
requests of ``/api/-/version`` and of home (response cache off) one after the other, the backend
process's, Postgres' (every process of the embedded server) and this process's CPU time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg2

from bench.api import start_backend, stop_backend, wait_up
from bench.api_cases import DirectDb
from bench.api_report import load_average, percentile
from bench.http_client import LeanClient
from bench.throughput import children, cpu_ms, postgres_pids

Probe = Callable[[], Awaitable[float]]
CPU_KEY = "cpu"   # samples[CPU_KEY]: per path (version, home) wall, backend, Postgres, client ms per request


async def _backend_reader() -> tuple[Any, Any, Any]:
    """The backend's reader stack (ReaderPool + Db), opened as backend/app.py opens it."""
    from backend.app import _on_connect
    from backend.db.query import READER_PLAN_OPTIONS, Db
    from backend.db.reader_pool import create_reader_pool
    from contract.pg.connect import resolve_dsns
    from contract.settings import load_settings

    settings = load_settings()
    timeout = settings.query_timeout
    pool = await create_reader_pool(
        resolve_dsns(settings).reader, minsize=2, maxsize=2, timeout=timeout, on_connect=_on_connect,
        options=f"-c statement_timeout={int(timeout * 1000)} {READER_PLAN_OPTIONS}")
    return pool, Db(pool, timeout), settings


def _timed(call: Callable[[], Awaitable[object]]) -> Probe:
    async def probe() -> float:
        t = time.perf_counter()
        await call()
        return time.perf_counter() - t
    return probe


async def measure(args: argparse.Namespace) -> dict[str, list[float]]:
    from backend.cache.versions import JsonVersions
    from backend.db import runs as runs_db
    from backend.db.liveness import live_params
    from backend.params import DEFAULT_LIMIT
    from contract.pg.connect import resolve_dsns

    off = start_backend(args.port, response_cache=False)
    on = start_backend(args.port + 1, response_cache=True)
    pool = None
    try:
        await wait_up(f"http://127.0.0.1:{args.port}", off)
        await wait_up(f"http://127.0.0.1:{args.port + 1}", on)
        pool, db, settings = await _backend_reader()
        dsns = resolve_dsns(settings)
        direct = DirectDb(dsns.writer or dsns.reader)
        plain = psycopg2.connect(dsns.reader)
        plain.autocommit = True
        http_off, http_on = LeanClient(f"http://127.0.0.1:{args.port}"), LeanClient(f"http://127.0.0.1:{args.port + 1}")
        filters, order = runs_db.RunFilters(), runs_db.make_order("created", True)
        # The run JSON held by version, as the backend holds it (FLOWSCOPE_VERSION_CACHE, the default)
        direct_versions = JsonVersions("run_versions", 64 * 1024 * 1024)
        reader_versions = JsonVersions("run_versions", 64 * 1024 * 1024)
        live = live_params(settings)

        async def select1_sync() -> float:
            t = time.perf_counter()
            with plain.cursor() as cur:
                cur.execute("SELECT 1")
                cur.fetchall()
            return time.perf_counter() - t

        async def home_sql() -> float:
            direct.elapsed = 0.0
            reader: Any = runs_db.list_runs   # on DirectDb: backend.db's interface, run synchronously
            await reader(direct, live, filters, order, None, DEFAULT_LIMIT, versions=direct_versions)
            return direct.elapsed

        async def ok(client: LeanClient, path: str) -> None:
            status, _, _ = await client.get(path)
            if status != 200:
                raise SystemExit(f"GET {path} -> {status}")

        probes: dict[str, Probe] = {
            "psycopg2 SELECT 1": select1_sync,
            "aiopg SELECT 1 (the backend's reader)": _timed(lambda: db.tuples("SELECT 1")),
            "HTTP /api/-/version": _timed(lambda: ok(http_off, "/api/-/version")),
            "HTTP home, response cache hit": _timed(lambda: ok(http_on, "/api/runs")),
            "psycopg2 home statements (bench.api's raw SQL)": home_sql,
            "aiopg home reader (list_runs, no HTTP)": _timed(lambda: runs_db.list_runs(
                db, live, filters, order, None, DEFAULT_LIMIT, versions=reader_versions)),
            "HTTP home, response cache off": _timed(lambda: ok(http_off, "/api/runs")),
        }
        for _ in range(args.warmup):          # every side warm: statements prepared, JSON held, pages cached
            for probe in probes.values():
                await probe()
        samples: dict[str, list[float]] = {name: [] for name in probes}
        started = time.monotonic()
        for i in range(args.samples):
            for name, probe in probes.items():
                samples[name].append(await probe())
            if (i + 1) % 500 == 0:
                print(f"  {i + 1}/{args.samples} rounds, {time.monotonic() - started:.0f} s", flush=True)
        cpu: dict[str, tuple[float, float, float, float]] = {}
        backend_pids = [off.pid, *children(off.pid)]
        pg_pids = postgres_pids(os.environ["FLOWSCOPE_HOME"])
        for path in ("/api/-/version", "/api/runs"):
            n = args.cpu_requests
            b0, p0, c0, t0 = cpu_ms(backend_pids), cpu_ms(pg_pids), time.process_time(), time.perf_counter()
            for _ in range(n):
                await ok(http_off, path)
            b1, p1, c1, t1 = cpu_ms(backend_pids), cpu_ms(pg_pids), time.process_time(), time.perf_counter()
            cpu[path] = ((t1 - t0) * 1000 / n, (b1 - b0) / n, (p1 - p0) / n, (c1 - c0) * 1000 / n)
        samples[CPU_KEY] = [v for path in cpu for v in cpu[path]]
        http_off.close()
        http_on.close()
        plain.close()
        direct.conn.close()
        return samples
    finally:
        if pool is not None:
            pool.close()
            await pool.wait_closed()
        stop_backend(off)
        stop_backend(on)


def report(samples: dict[str, list[float]]) -> list[str]:
    ms = {name: sorted(v * 1000 for v in values) for name, values in samples.items() if name != CPU_KEY}
    lines = ["| measured at one client | p50 ms | p95 ms | mean ms | samples |", "| --- | ---: | ---: | ---: | ---: |"]
    for name, values in ms.items():
        lines.append(f"| {name} | {percentile(values, 50):.3f} | {percentile(values, 95):.3f} | "
                     f"{statistics.fmean(values):.3f} | {len(values)} |")
    if CPU_KEY in samples:
        lines += ["", "| one client, in a row | wall ms/req | backend CPU ms/req | Postgres CPU ms/req | client CPU ms/req |",
                  "| --- | ---: | ---: | ---: | ---: |"]
        values = samples[CPU_KEY]
        for i, path in enumerate(("HTTP /api/-/version", "HTTP home, response cache off")):
            wall, backend, pg, client = values[4 * i:4 * i + 4]
            lines.append(f"| {path} | {wall:.3f} | {backend:.3f} | {pg:.3f} | {client:.3f} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench.c1_floor", description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--samples", type=int, default=2000, help="rounds; each round samples every probe once")
    p.add_argument("--warmup", type=int, default=200, help="untimed rounds first")
    p.add_argument("--port", type=int, default=8831, help="the cache-off backend; the cache-on one uses port+1")
    p.add_argument("--cpu-requests", type=int, default=3000, help="requests per path for the CPU table")
    p.add_argument("--json", help="also write the raw samples (ms) to this file")
    args = p.parse_args(argv)
    if not os.environ.get("FLOWSCOPE_HOME"):
        print("bench.c1_floor: set FLOWSCOPE_HOME to a seeded home (bench.seed)", file=sys.stderr)
        return 2
    from backend.event_loop import loop_factory
    from contract.settings import load_settings

    print(f"load average at the start: {load_average()}", flush=True)
    t0 = time.time()
    with asyncio.Runner(loop_factory=loop_factory(load_settings().uvloop)) as runner:
        samples = runner.run(measure(args))
    print(f"load average at the end: {load_average()}; {time.time() - t0:.0f} s; "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(t0))}", flush=True)
    print("\n".join(report(samples)))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({k: vs if k == CPU_KEY else [v * 1000 for v in vs] for k, vs in samples.items()}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
