"""API latency on the seeded database: p50/p95/p99 at concurrency 1 and 32, and the ratio to SQL.

    FLOWSCOPE_HOME=/tmp/fs-scale python -m bench.api [--url http://127.0.0.1:8765] [--requests 60]
        [--markdown docs/benchmarks.md] [--label after]

Without --url a backend is started on FLOWSCOPE_HOME (``python -m backend.cli serve --no-ingest``)
and stopped at the end. Arguments come from the data (bench.seed's summary: the huge run and the
long log; the newest runs for the rest). "SQL" runs the statements the handler runs, with the same
parameters, on one psycopg2 connection (backend.db code executed through a recording Db), so the
ratio is what the HTTP layer, the pool and JSON add.

The backend's response cache answers repeated requests while nothing is written (and the seeded
database is never written to), so every row also says how its answers were made, from the
X-Flowscope-Cache header: "first" is the case's first request (a miss unless the column says
otherwise), "cached" the share of answers at c1 and c32 that came from the cache.
--no-response-cache measures the handlers themselves (with the run and task JSON held by version,
backend/cache/versions.py, as by default; --no-version-cache turns that off too); --notify-hz 20 sends 20 change
notifications a second (pg_notify only, nothing is written), as writers would, so answers cached
under the generation keep being recomputed while settled runs' answers stay cached.
--write-hz 5 really writes 5 runs a second meanwhile (a separate process, through RunStore as the
runtime does: a run of BenchMixedFlow with one task that completes; deleted at the end), so the
newest runs, counts and the change feed move and answers change while being cached.

Before a case is timed it is warmed on both sides (--warmup, default 64 untimed requests at the
highest concurrency, so every pooled connection has prepared and run its statements, and 5 runs of
its SQL): the c1/c8/c32 columns are a process in use. What a fresh process pays is in "first" and,
with --cold, "cold".

--cold starts a fresh backend process for each list and detail case and times its first request
(the "cold" column); --workers N starts the backend with N processes on the port
(FLOWSCOPE_WORKERS). Every table records the load averages (`uptime`) at its start and end and per
row: on a shared machine compare figures only at similar load. `python -m bench.api_suite` runs
the tables of docs/benchmarks.md in one command.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import psycopg2

from bench import api_cases
from bench.api_report import CONCURRENCY, Result, load_average, percentile, write_section
from bench.http_client import LeanSession


@dataclass
class Case:
    name: str
    kind: str                                   # list | detail | timeline | log | search
    request: Callable[[Any, int], Awaitable[None]]   # an aiohttp.ClientSession or a LeanSession
    sql: Callable[[], Awaitable[float]] | None = None   # one direct-SQL sample, seconds
    target_ms: float = 50.0


async def measure(session: Any, case: Case, n: int, concurrency: int, budget_s: float) -> list[float]:
    """Latencies (s) of n requests issued by `concurrency` workers, within a time budget."""
    latencies: list[float] = []
    counter = iter(range(n))
    deadline = time.monotonic() + budget_s

    async def worker() -> None:
        for i in counter:
            if time.monotonic() > deadline:
                return
            t = time.perf_counter()
            await case.request(session, i)
            latencies.append(time.perf_counter() - t)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


async def measure_with_sql(session: Any, case: Case, n: int, budget_s: float) -> tuple[list[float], list[float]]:
    """c1: each API request followed by one run of the handler's statements on a direct connection."""
    assert case.sql is not None
    api_s: list[float] = []
    sql_s: list[float] = []
    deadline = time.monotonic() + budget_s
    for i in range(n):
        if time.monotonic() > deadline:
            break
        t = time.perf_counter()
        await case.request(session, i)
        api_s.append(time.perf_counter() - t)
        sql_s.append(await case.sql())
    return api_s, sql_s


def start_backend(port: int, response_cache: bool = True, workers: int = 1,
                  version_cache: bool = True, env_extra: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    env = dict(os.environ, FLOWSCOPE_WORKERS=str(workers), **(env_extra or {}))
    if not response_cache:
        env["FLOWSCOPE_RESPONSE_CACHE_MB"] = "0"
    if not version_cache:
        env["FLOWSCOPE_VERSION_CACHE"] = "false"
    proc = subprocess.Popen([sys.executable, "-m", "backend.cli", "serve", "--port", str(port), "--no-ingest"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    return proc


async def wait_up(url: str, proc: subprocess.Popen[bytes] | None, path: str = "/api/flows?limit=1") -> None:
    async with aiohttp.ClientSession() as s:
        for _ in range(240):
            if proc is not None and proc.poll() is not None:
                raise SystemExit(f"backend exited: {proc.stderr.read().decode()[-2000:] if proc.stderr else ''}")
            try:
                async with s.get(f"{url}{path}") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.5)
    raise SystemExit("backend did not come up in 120 s")


def notify_while(dsn: str, stop: threading.Event, hz: float) -> None:
    """Send the change feed's notification ``hz`` times a second (no row is written).

    Each one moves the backend's generation, as a busy installation's writers would, so answers
    cached under the generation are recomputed; answers about settled runs stay cached.
    """
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            while not stop.wait(1 / hz):
                cur.execute("SELECT pg_notify('flowscope_changes', 'run:0')")
    finally:
        conn.close()


MIXED_FLOW = "BenchMixedFlow"


def write_while(dsn: str, stop: Any, hz: float, written: Any) -> None:
    """Really write, ``hz`` times a second: a new run of MIXED_FLOW with one task that completes
    (the runtime's commits through RunStore), so the newest runs, counts and the change feed move
    as under real writers. A process of its own: a thread here would wait for the GIL behind the
    clients' event loop."""
    from bench.live import DAG
    from core_runtime.store import RunStore

    store = RunStore(psycopg2.connect(dsn))
    while not stop.wait(1 / hz):
        run = store.create_run(MIXED_FLOW, user="bench", dag=DAG, file_name="bench.py", source="")
        task = store.create_task(run, "start")
        store.start_attempt(task, 0)
        store.finish_attempt(task, 0, status="completed", exit_code=0)
        store.finish_run(run, "completed", None)
        with written.get_lock():
            written.value += 1


def delete_mixed(dsn: str) -> None:
    """The writer's runs (their tasks and attempts cascade) and its flow: the seeded database is shared."""
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("DELETE FROM runs WHERE flow_id = %s", (MIXED_FLOW,))
            cur.execute("DELETE FROM flows WHERE flow_id = %s", (MIXED_FLOW,))
    finally:
        conn.close()


def stop_backend(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    proc.wait(timeout=30)


async def cold_firsts(cases: list[Case], args: argparse.Namespace, url: str,
                      proc: subprocess.Popen[bytes]) -> tuple[dict[str, float], subprocess.Popen[bytes]]:
    """Each list/detail case's first request to a freshly started backend (restarted per case)."""
    out: dict[str, float] = {}
    for case in cases:
        if case.kind not in ("list", "detail") or (args.only and not any(o in case.name for o in args.only)):
            continue
        stop_backend(proc)
        proc = start_backend(args.port, not args.no_response_cache, args.workers, not args.no_version_cache)
        await wait_up(url, proc)
        async with aiohttp.ClientSession() as fresh:
            t = time.perf_counter()
            await case.request(fresh, 0)
            out[case.name] = time.perf_counter() - t
        print(f"cold: {case.name}: {out[case.name] * 1000:.1f} ms", flush=True)
    stop_backend(proc)
    proc = start_backend(args.port, not args.no_response_cache, args.workers, not args.no_version_cache)
    await wait_up(url, proc)
    return out, proc


async def run(args: argparse.Namespace) -> list[Result]:
    proc = None
    stop = threading.Event()
    notifier = None
    writer: Any = None
    writer_stop: Any = None
    writer_dsn: str | None = None
    url = args.url
    if url is None:
        proc = start_backend(args.port, not args.no_response_cache, args.workers, not args.no_version_cache)
        url = f"http://127.0.0.1:{args.port}"
    try:
        await wait_up(url, proc)
        if args.notify_hz > 0:   # once the backend (and with it the embedded Postgres) is up
            from contract.pg.connect import resolve_dsns
            from contract.settings import load_settings

            dsn = resolve_dsns(load_settings()).reader   # here: pgserver's lock is per process, not thread
            notifier = threading.Thread(target=notify_while, args=(dsn, stop, args.notify_hz), daemon=True)
            notifier.start()
        if args.write_hz > 0:
            from contract.pg.connect import resolve_dsns
            from contract.settings import load_settings

            writer_dsn = resolve_dsns(load_settings()).writer
            if writer_dsn is None:
                raise SystemExit("--write-hz writes runs: it needs the writer role (FLOWSCOPE_DSN or the embedded Postgres)")
            ctx = mp.get_context("spawn")
            writer_stop = ctx.Event()
            writer = ctx.Process(target=write_while, args=(writer_dsn, writer_stop, args.write_hz, args.written),
                                 daemon=True)
        conn = aiohttp.TCPConnector(limit=64)
        async with aiohttp.ClientSession(connector=conn) as session:
            cases = await api_cases.build(session, url, args)
            cold: dict[str, float] = {}
            if args.cold and proc is not None:
                cold, proc = await cold_firsts(cases, args, url, proc)
                await api_cases.prime(session, url, args)
            if writer is not None:   # after the cases took their arguments from the data
                writer.start()
                while args.written.value < 3:   # writing steadily before the clock starts
                    if not writer.is_alive():
                        raise SystemExit("the --write-hz writer stopped (see its traceback above)")
                    await asyncio.sleep(0.1)
            results: list[Result] = []
            for case in cases:
                if args.only and not any(o in case.name for o in args.only):
                    continue
                api_cases.SEEN.clear()
                t = time.perf_counter()
                await case.request(session, 0)   # the first request (cold caches) is reported on its own
                row = Result(case.name, case.kind, case.target_ms, first=time.perf_counter() - t,
                             first_cache=dict(api_cases.SEEN), cold=cold.get(case.name))
                if args.warmup:
                    # Both sides warm before the clock starts: the SQL column's one connection has run
                    # the statements, so every connection of the backend's pool runs them too (a burst
                    # at the highest concurrency reaches each; the first request and the cold column
                    # keep what a fresh process pays).
                    warm = LeanSession(url) if args.client == "lean" else session
                    await measure(warm, case, args.warmup, max(args.concurrency), args.budget)
                    if isinstance(warm, LeanSession):
                        warm.close()
                    if case.sql is not None:
                        for _ in range(5):
                            await case.sql()
                for conc in args.concurrency:
                    n = args.requests * {1: 1, 8: 2}.get(conc, 4)
                    api_cases.SEEN.clear()
                    clients = LeanSession(url) if args.client == "lean" else session
                    t = time.perf_counter()
                    if conc == 1 and case.sql is not None:
                        # API and raw SQL alternately, so both see the same moments of a shared machine.
                        lat, samples = await measure_with_sql(clients, case, n, args.budget)
                        row.sql_p50, row.sql_p95 = percentile(samples, 50), percentile(samples, 95)
                    else:
                        lat = await measure(clients, case, n, conc, args.budget)
                    if isinstance(clients, LeanSession):
                        clients.close()
                    row.rate[conc] = len(lat) / max(time.perf_counter() - t, 1e-9)
                    row.stats[conc] = (percentile(lat, 50), percentile(lat, 95), percentile(lat, 99), len(lat))
                    row.cache[conc] = dict(api_cases.SEEN)
                if case.sql is not None and row.sql_p50 is None:
                    samples = [await case.sql() for _ in range(max(20, args.requests))]
                    row.sql_p50, row.sql_p95 = percentile(samples, 50), percentile(samples, 95)
                row.load = load_average()
                results.append(row)
                print(row.line(), flush=True)
            return results
    finally:
        stop.set()
        if notifier is not None:
            notifier.join(timeout=5)
        if writer is not None and writer.pid is not None:
            writer_stop.set()
            writer.join(timeout=30)
        if writer_dsn is not None:
            delete_mixed(writer_dsn)
        if proc is not None:
            stop_backend(proc)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench.api", description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--url", help="a running backend (default: start one on FLOWSCOPE_HOME)")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--requests", type=int, default=60, help="requests per case at concurrency 1 (x4 at 32)")
    p.add_argument("--budget", type=float, default=20.0, help="seconds per case and concurrency at most")
    p.add_argument("--summary", default=None, help="bench.seed's JSON summary (default: $FLOWSCOPE_HOME/seed.json)")
    p.add_argument("--only", action="append", help="only cases whose name contains this (repeatable)")
    p.add_argument("--markdown", help="write the table into this file's 'API' section")
    p.add_argument("--label", default="", help="a note for the section (e.g. before/after)")
    p.add_argument("--no-response-cache", action="store_true",
                   help="start the backend with FLOWSCOPE_RESPONSE_CACHE_MB=0 (every request is computed)")
    p.add_argument("--no-version-cache", action="store_true",
                   help="start the backend with FLOWSCOPE_VERSION_CACHE=false (every run and task JSON is "
                        "built by Postgres on every page); the SQL column then runs those statements")
    p.add_argument("--notify-hz", type=float, default=0.0,
                   help="send this many change notifications a second meanwhile (no row is written): "
                        "the response cache of a database that is being written to")
    p.add_argument("--write-hz", type=float, default=0.0,
                   help="really write this many runs a second meanwhile, from a separate process through "
                        "RunStore (deleted at the end): answers change while being cached")
    p.add_argument("--workers", type=int, default=1, help="backend processes on the port (FLOWSCOPE_WORKERS)")
    p.add_argument("--warmup", type=int, default=64,
                   help="untimed requests per case at the highest concurrency after its first request, "
                        "and 5 runs of its SQL, before measuring (0: none)")
    p.add_argument("--cold", action="store_true",
                   help="also time each list/detail case's first request to a freshly started backend")
    p.add_argument("--concurrency", type=int, nargs="+", default=list(CONCURRENCY),
                   help=f"client concurrencies (default {' '.join(map(str, CONCURRENCY))})")
    p.add_argument("--client", choices=("lean", "aiohttp"), default="lean",
                   help="the measuring clients: bench/http_client.py (default; about half the CPU per "
                        "request, taken from the server on the shared cores) or aiohttp's ClientSession")
    p.add_argument("--reference", action="store_true",
                   help="add the comparison with the issue's Metaflow figures to the section")
    args = p.parse_args(argv)
    home = os.environ.get("FLOWSCOPE_HOME")
    if args.summary is None and home:
        args.summary = os.path.join(home, "seed.json")
    if not args.summary or not os.path.exists(args.summary):
        print("need bench.seed's summary: set FLOWSCOPE_HOME or --summary", file=sys.stderr)
        return 2
    with open(args.summary) as f:
        args.seed = json.load(f)
    args.written = mp.get_context("spawn").Value("i", 0)
    started = time.time()
    load_start = load_average()
    print(f"load average at the start: {load_start}", flush=True)
    results = asyncio.run(run(args))
    load_end = load_average()
    print(f"load average at the end: {load_end}", flush=True)
    if args.write_hz > 0:
        print(f"runs written meanwhile: {args.written.value} ({args.write_hz:g}/s asked; deleted again)", flush=True)
    if args.markdown:
        command = " ".join([f"FLOWSCOPE_HOME={home or '…'} python -m bench.api", *(argv or sys.argv[1:])])
        write_section(args.markdown, results, command, started, args.label, load_start, load_end,
                      reference=args.reference, client=args.client,
                      version_cache=not args.no_version_cache, warmup=args.warmup)
    return 0 if all(r.ok() for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
