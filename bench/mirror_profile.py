"""``python -m bench.mirror_profile``: where a mirror backfill's time goes (docs/benchmarks.md).

    python -m bench.mirror_profile --runs 10000 --home /tmp/fs-mirror-profile [--writers 2] [--no-bulk]

Copies a generated source (made by ``bench.mirror backfill`` with the same --runs and --home;
generated here if missing) into a fresh Flowscope database, like ``bench.mirror backfill``, and
prints: the time the mirror waited on each kind of Flowscope statement (summed over the
writers, so it can exceed the wall time), the time in the replay's phases, the trigger
functions' time from ``pg_stat_user_functions`` (``track_functions = all`` on that database),
and the CPU of the mirror process and of every Postgres backend (both databases) meanwhile.
Instrumentation costs a little; compare shares, and take rates from ``bench.mirror``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import re
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg2

from bench import mirror as bm


class _TimedCursor:
    """A Flowscope cursor whose statements are timed by their first words."""

    def __init__(self, cur: Any, times: dict[str, float], counts: collections.Counter[str]) -> None:
        self._cur, self._times, self._counts = cur, times, counts

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cur, name)

    async def execute(self, sql: str, params: Any = ()) -> Any:
        key = re.sub(r"\s+", " ", sql)[:60]
        t0 = time.perf_counter()
        try:
            return await self._cur.execute(sql, params)
        finally:
            self._times[key] += time.perf_counter() - t0
            self._counts[key] += 1


def _timed(owner: Any, name: str, label: str, phases: dict[str, float]) -> None:
    real: Callable[..., Any] = getattr(owner, name)

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return await real(*args, **kwargs)
        finally:
            phases[label] += time.perf_counter() - t0

    setattr(owner, name, wrapper)


def _postgres_cpu_s(postmaster: int) -> float:
    """CPU of the postmaster, its live children and the children it reaped (ended backends)."""
    def fields(pid: str | int) -> list[str]:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()

    f = fields(postmaster)
    ticks = sum(int(x) for x in f[11:15])
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                st = fields(pid)
            except OSError:
                continue
            if int(st[1]) == postmaster:
                ticks += int(st[11]) + int(st[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def main(argv: list[str] | None = None) -> int:
    from backend.ingest.state import store as store_module
    from backend.mirror import backfill as bf
    from backend.mirror import mirror as mm
    from backend.mirror import replay as rp
    from contract.settings import load_settings

    p = argparse.ArgumentParser(prog="python -m bench.mirror_profile", description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=10_000)
    p.add_argument("--home", required=True)
    p.add_argument("--writers", type=int, default=2)
    p.add_argument("--batch-runs", type=int, default=200)
    p.add_argument("--no-bulk", action="store_true", help="replay every metadata and artifact row (to compare)")
    args = p.parse_args(argv)
    home = Path(args.home)
    sdsn = bm._server(home).get_uri()
    name = f"mfsource_{args.runs}_lean"
    if not bm._exists(sdsn, name):
        from bench.mf_source.generate import Options, generate

        generate(bm._recreate(sdsn, name), Options(runs=args.runs, profile="lean", seed=42,
                                                   now_ms=int(time.time() * 1000)), quiet=False)
    src = bm._db(sdsn, name)
    dst = bm._flowscope_db(sdsn, "flowscope_mirror_profile")
    admin = bm._admin(dst)
    with admin.cursor() as cur:
        cur.execute("ALTER DATABASE flowscope_mirror_profile SET track_functions = 'all'")
    admin.close()

    times: dict[str, float] = collections.defaultdict(float)
    counts: collections.Counter[str] = collections.Counter()
    phases: dict[str, float] = collections.defaultdict(float)
    real_init = store_module.StateStore.__init__

    def init(self: Any, cur: Any, **kwargs: Any) -> None:
        real_init(self, _TimedCursor(cur, times, counts), **kwargs)

    store_module.StateStore.__init__ = init  # type: ignore[method-assign,assignment]
    _timed(rp.Replayer, "apply", "replay in Python (with datastore reads)", phases)
    _timed(store_module.StateStore, "flush", "Flowscope statements of the batch (flush)", phases)
    _timed(mm.Mirror, "apply", "batch transaction, end to end", phases)
    _timed(bf, "_read", "source reads (overlapped with the writes)", phases)

    settings = load_settings({}, home=str(home), dsn=dst, mirror_source=src, mirror_batch_runs=args.batch_runs,
                             mirror_backfill_writers=args.writers, mirror_backfill_bulk=not args.no_bulk)
    mirror = mm.Mirror(settings)
    postmaster = int((home / "pg" / "postmaster.pid").read_text().split()[0])
    pg0, cpu0, t0 = _postgres_cpu_s(postmaster), resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
    print(f"{bm.load()} at the start", file=sys.stderr)
    code = asyncio.run(mirror.run(asyncio.Event(), backfill_only=True))
    wall = time.monotonic() - t0
    time.sleep(0.5)     # let the postmaster reap the mirror's backends
    cpu1, pg1 = resource.getrusage(resource.RUSAGE_SELF), _postgres_cpu_s(postmaster)
    assert code == 0, f"the mirror stopped with {code}: {mirror.status.error}"
    print(f"{args.runs:,} runs in {wall:.1f} s ({args.runs / wall:.0f} runs/s), {args.writers} writer(s), "
          f"{'replay' if args.no_bulk else 'bulk path'}; {bm.load()}")
    print(f"CPU: mirror process {cpu1.ru_utime - cpu0.ru_utime + cpu1.ru_stime - cpu0.ru_stime:.1f} s, "
          f"Postgres (all backends, both databases) {pg1 - pg0:.1f} s")
    for label, s in sorted(phases.items(), key=lambda kv: -kv[1]):
        print(f"{s:9.2f} s  {label}")
    print("statement (first 60 characters): seconds, count")
    for key, s in sorted(times.items(), key=lambda kv: -kv[1])[:12]:
        print(f"{s:9.2f} s  {counts[key]:6d}  {key}")
    conn = psycopg2.connect(dst)
    with conn.cursor() as cur:
        cur.execute("SELECT funcname, calls, round(total_time::numeric / 1000, 2), round(self_time::numeric / 1000, 2) "
                    "FROM pg_stat_user_functions ORDER BY total_time DESC")
        print("trigger function: calls, total s, self s")
        for fn, calls, total, own in cur.fetchall():
            print(f"  {fn}: {calls:,}, {total}, {own}")
    conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
