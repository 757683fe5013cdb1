"""``python -m bench.cache_memory``: what the timeline index of the huge run really holds in memory,
next to what its cache reports at /api/-/status (the bytes it is bounded by).

    FLOWSCOPE_HOME=/tmp/fs-scale python -m bench.seed --huge-run 100000     # once
    FLOWSCOPE_HOME=/tmp/fs-scale python -m bench.cache_memory [--markdown docs/benchmarks.md]

The backend runs in this process (the response cache off, so the timeline's own caches are the
ones that grow, and a budget large enough for everything) and is asked for the huge run's
timeline the way the UI asks: the full view, pans within it, other row orders, zoom levels.
After each step Python's allocator is measured with tracemalloc (memory still held, after a
garbage collection, minus what was held before the first timeline request) and compared with the
``timeline_index`` cache's ``bytes``. tracemalloc slows Python down: times here mean nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import re
import sys
import time
import tracemalloc
from collections.abc import Sequence
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from backend.app import create_app
from backend.cache.budget import CacheBudget
from bench.api_report import machine
from contract.settings import Settings, load_settings

MIB = 1024 * 1024


async def _get(client: TestClient[Any, Any], path: str, **params: Any) -> dict[str, Any]:
    async with client.get(path, params={k: str(v) for k, v in params.items()}) as resp:
        body: dict[str, Any] = await resp.json()
        if resp.status != 200:
            raise SystemExit(f"{path}: {resp.status} {body}")
        return body


def _held() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


async def measure(huge: str, budget_mb: int) -> list[tuple[str, int, int, dict[str, Any]]]:
    settings = load_settings().replace(response_cache_mb=0, cache_memory_mb=budget_mb)
    flow, run_id = huge.split("/")
    base = f"/api/flows/{flow}/runs/{run_id}"
    rows: list[tuple[str, int, int, dict[str, Any]]] = []
    async with TestClient(TestServer(create_app(settings))) as client:
        await _get(client, "/api/-/status")
        await _get(client, base)
        await _get(client, base + "/dag")
        tracemalloc.start()
        before = _held()

        async def step(label: str) -> None:
            index = (await _get(client, "/api/-/status"))["data"]["caches"]["timeline_index"]
            rows.append((label, _held() - before, int(index["bytes"]), index))
            print(f"{label}: held {(rows[-1][1]) / MIB:.1f} MiB, reported {rows[-1][2] / MIB:.1f} MiB", flush=True)

        full = (await _get(client, base + "/timeline", width=1200, rows=200))["data"]
        await step("full view (index + 1 row order + 1 level + 1 answer)")
        start, end = full["start"], full["end"]
        span = end - start
        for i in range(1, 10):
            await _get(client, base + "/timeline", width=1200, rows=200, start=start + i * span // 20,
                       end=end - (10 - i) * span // 20)
        await step("+ 9 pans (9 answers)")
        for params in ({"sort": "end"}, {"sort": "duration"}, {"group": "flat"}, {"status": "failed"}):
            await _get(client, base + "/timeline", width=1200, rows=200, **params)
        await step("+ 4 other row orders (5 in all)")
        for k in (10, 100, 1000):
            await _get(client, base + "/timeline", width=1200, rows=200, start=start, end=start + span // k)
        await _get(client, base + "/timeline", width=1200, rows=2000, start=start, end=start + span // 100,
                   row_start=0, span=2000)
        await step("+ zoom 1/10, 1/100, 1/1000, 2,000 rows")
        tracemalloc.stop()
    return rows


def table(rows: list[tuple[str, int, int, dict[str, Any]]]) -> str:
    out = ["| after | held (tracemalloc) MiB | reported (status) MiB | reported / held | tasks | attempts | "
           "row orders | levels | answers |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for label, held, reported, index in rows:
        out.append(f"| {label} | {held / MIB:.1f} | {reported / MIB:.1f} | {reported / held:.2f} | "
                   f"{index['tasks']:,} | {index['attempts']:,} | {index['views']} | {index['levels']} | "
                   f"{index['responses']} |")
    return "\n".join(out) + "\n"


def write_section(path: str, body: str) -> None:
    text = "# Benchmarks\n"
    if os.path.exists(path):
        with open(path) as f:
            text = f.read()
    pattern = re.compile(r"^## Timeline index memory\b.*?(?=^## |\Z)", re.DOTALL | re.MULTILINE)
    text = pattern.sub(lambda _: body + "\n", text, count=1) if pattern.search(text) else text.rstrip() + "\n\n" + body
    with open(path, "w") as f:
        f.write(text)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.cache_memory", description=__doc__.splitlines()[0])
    p.add_argument("--summary", help="bench.seed's JSON summary (default: $FLOWSCOPE_HOME/seed.json)")
    p.add_argument("--budget-mb", type=int, default=4096,
                   help="FLOWSCOPE_CACHE_MEMORY_MB for the run (default 4096: nothing is evicted)")
    p.add_argument("--markdown", help="write the table into this file's 'Timeline index memory' section")
    args = p.parse_args(argv)
    home = os.environ.get("FLOWSCOPE_HOME")
    summary = args.summary or (os.path.join(home, "seed.json") if home else None)
    if not summary or not os.path.exists(summary):
        print("need bench.seed's summary: set FLOWSCOPE_HOME or --summary", file=sys.stderr)
        return 2
    with open(summary) as f:
        seed = json.load(f)
    huge = seed.get("huge_run")
    if not huge:
        print(f"{summary}: no huge run (seed with --huge-run N)", file=sys.stderr)
        return 2
    load = os.getloadavg()
    started = time.time()
    rows = asyncio.run(measure(huge, args.budget_mb))
    print(table(rows))
    default = CacheBudget(load_settings({})).bytes_for("timeline_index")
    after = (f"At the default budget (FLOWSCOPE_CACHE_MEMORY_MB={Settings.cache_memory_mb}, "
             f"FLOWSCOPE_RESPONSE_CACHE_MB={Settings.response_cache_mb}) the timeline index's part is "
             f"{default / MIB:.0f} MiB: this run's index as measured last ({rows[-1][2] / MIB:.0f} MiB) "
             f"{'fits' if rows[-1][2] <= default else 'does not fit'}; before, the index was bounded by 400,000 "
             "attempts (about four such runs), outside the budget.\n")
    if args.markdown:
        command = " ".join(["python -m bench.cache_memory", *(argv if argv is not None else sys.argv[1:])])
        when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(started))
        write_section(args.markdown, (
            "## Timeline index memory\n\n"
            f"Written by `bench.cache_memory`. Command: `FLOWSCOPE_HOME=… {command}` on the run "
            f"{huge} of `bench.seed`. Machine: {machine()}; load average {load[0]:.1f} / {load[1]:.1f} / "
            f"{load[2]:.1f} at the start. Date: {when}. The dataset: `bench.seed` ({seed.get('rows', 0):,} "
            f"rows; its huge run has {rows[0][3]['tasks']:,} tasks), the budget for the measurement "
            f"{args.budget_mb} MiB (nothing evicted). held = Python memory still allocated after the "
            "requests (tracemalloc, after a garbage collection, minus what was held before the first "
            "timeline request); reported = the `timeline_index` cache's `bytes` at /api/-/status, what "
            "its share of FLOWSCOPE_CACHE_MEMORY_MB bounds. The response cache was off.\n\n" + table(rows)
            + "\n" + after))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
