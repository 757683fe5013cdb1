"""Triage latency: the failure digest and the critical path of a huge failed run, the summary of an
ordinary run, cold and warm, with and without the response cache.

    FLOWSCOPE_HOME=/tmp/triage-bench python -m bench.triage [--run MegaSweepFlow/1] [--requests 20]

The dataset: ``python -m bench.seed --runs 2000 --huge-run 100000 --huge-failures 5000
--log-lines 0`` (a 100,000-task run whose foreach has 5,000 failed tasks, each with its
traceback on stderr). Every figure is from an HTTP client (aiohttp, one request at a time) to a
backend started here (``flowscope serve --no-ingest``):

* cold: the first request to a freshly started backend (its in-memory caches empty; Postgres'
  shared buffers and the OS page cache are whatever earlier samples left, i.e. warm);
* warm, response cache off (FLOWSCOPE_RESPONSE_CACHE_MB=0), after one warm-up request: the
  handler with its own caches warm (a settled run's grouped digest, critical path and durations
  are kept in the ``triage`` cache; the digest's comparison with other runs is redone each time);
* warm, response cache on, with change notifications arriving (--notify-hz, default 20/s) as a
  busy installation's writers send them: answers cached under the generation are recomputed,
  a settled run's (kept under its change_seq) are not.

``uptime`` is printed with the figures: this machine is shared.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import threading
import time

import aiohttp

from bench.api import notify_while, start_backend, wait_up
from bench.api_report import percentile
from contract.pg.connect import resolve_dsns
from contract.settings import load_settings

TARGETS_MS = {"failures": (300, 1000), "critical-path": (300, 1000), "summary": (100, None)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def timed(session: aiohttp.ClientSession, url: str) -> tuple[float, str]:
    t = time.perf_counter()
    async with session.get(url) as resp:
        await resp.read()
        if resp.status != 200:
            raise SystemExit(f"{url}: HTTP {resp.status}")
        return (time.perf_counter() - t) * 1000, resp.headers.get("X-Flowscope-Cache", "-")


class Backend:
    def __init__(self, response_cache: bool) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = start_backend(self.port, response_cache)

    async def __aenter__(self) -> Backend:
        await wait_up(self.url, self.proc)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


async def newest_completed(url: str) -> str:
    async with aiohttp.ClientSession() as s, s.get(f"{url}/api/runs?status=completed&limit=1") as r:
        return str((await r.json())["data"][0]["pathspec"])


def path(run: str, what: str) -> str:
    flow, rid = run.split("/")
    return f"/api/flows/{flow}/runs/{rid}/{what}"


async def run(args: argparse.Namespace) -> list[tuple[str, str, str, list[float], str]]:
    rows: list[tuple[str, str, str, list[float], str]] = []
    huge = args.run
    cases = [(huge, "failures"), (huge, "critical-path"), (huge, "durations")]
    # cold: a fresh backend per sample and per resource
    for run_, what in cases:
        cold = []
        for _ in range(args.cold):
            async with Backend(response_cache=False) as b, aiohttp.ClientSession() as s:
                cold.append((await timed(s, b.url + path(run_, what)))[0])
        rows.append((run_, what, "cold (fresh backend, first request)", cold, "-"))
        print(f"  {what} cold: {[round(x) for x in cold]}", file=sys.stderr, flush=True)
    for cache in (False, True):
        async with Backend(response_cache=cache) as b, aiohttp.ClientSession() as s:
            stop = threading.Event()
            if cache and args.notify_hz > 0:
                # Writers elsewhere move the cache's generation: answers cached under it are
                # recomputed, a settled run's (kept under its change_seq) are not.
                dsn = resolve_dsns(load_settings()).reader
                threading.Thread(target=notify_while, args=(dsn, stop, args.notify_hz), daemon=True).start()
            ordinary = args.ordinary or await newest_completed(b.url)
            for run_, what in [*cases, (ordinary, "summary"), (huge, "summary")]:
                url = b.url + path(run_, what)
                await timed(s, url)     # warm-up
                samples, states = [], set()
                for _ in range(args.requests):
                    ms, state = await timed(s, url)
                    samples.append(ms)
                    states.add(state)
                label = (f"warm, response cache on, {args.notify_hz:g} notifications/s" if cache
                         else "warm, response cache off (FLOWSCOPE_RESPONSE_CACHE_MB=0)")
                rows.append((run_, what, label, samples, ",".join(sorted(states))))
                print(f"  {what} {label}: p50 {percentile(samples, 50):.0f}", file=sys.stderr, flush=True)
            stop.set()
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.triage", description=__doc__.splitlines()[0])
    p.add_argument("--run", default="MegaSweepFlow/1", help="the huge failed run (default MegaSweepFlow/1)")
    p.add_argument("--ordinary", default=None, help="the ordinary run for the summary (default: the newest completed)")
    p.add_argument("--requests", type=int, default=20, help="warm samples per case (default 20)")
    p.add_argument("--cold", type=int, default=3, help="cold samples per case (default 3)")
    p.add_argument("--notify-hz", type=float, default=20.0,
                   help="change notifications a second while the response cache is on (default 20; 0: none)")
    args = p.parse_args(argv)
    if "FLOWSCOPE_HOME" not in os.environ and "FLOWSCOPE_DSN" not in os.environ:
        p.error("set FLOWSCOPE_HOME (or FLOWSCOPE_DSN) to the seeded dataset")
    before = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    rows = asyncio.run(run(args))
    after = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    print(f"uptime before: {before}\nuptime after:  {after}\n")
    print("| run | resource | how | n | p50 ms | p95 ms | max ms | answers | goal |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for run_, what, how, samples, states in rows:
        warm, cold = TARGETS_MS.get(what, (None, None))
        if what == "summary" and run_ == args.run:
            warm = None     # the summary's goal is for an ordinary run
        goal = (f"< {cold} ms" if cold else "–") if how.startswith("cold") else (f"p95 < {warm} ms" if warm else "–")
        print(f"| {run_} | {what} | {how} | {len(samples)} | {percentile(samples, 50):.1f} | "
              f"{percentile(samples, 95):.1f} | {max(samples):.1f} | {states} | {goal} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
