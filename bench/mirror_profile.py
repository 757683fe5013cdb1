"""``python -m bench.mirror_profile``: where a mirror backfill's time goes (docs/benchmarks.md).

    python -m bench.mirror_profile --runs 10000 --home /tmp/fs-mirror-profile [--writers 2] [--no-bulk]
                                   [--no-write | --read-only]

Copies a generated source (made by ``bench.mirror backfill`` with the same --runs and --home;
generated here if missing) into a fresh Flowscope database, like ``bench.mirror backfill``, and
prints: the time the mirror waited on each kind of Flowscope statement (summed over the
writers, so it can exceed the wall time), the time in the replay's phases, the trigger
functions' time from ``pg_stat_user_functions`` (``track_functions = all`` on that database),
and the CPU of the mirror process and of every Postgres backend (both databases) meanwhile.
Then the Postgres CPU of each statement, source reads and Flowscope writes apart: the time its
backend spent on a CPU while the statement ran (``/proc/<backend pid>/schedstat``, in ns; the
backend does nothing else meanwhile), in ms per copied run, with what no statement accounts for
(background processes: WAL writer, checkpointer, autovacuum) as the rest.
``--alter SQL`` runs SQL on the fresh Flowscope database before the copy (e.g. drop a foreign key or
an index, to see what it costs; the rows are then not those of a real copy). ``--explain`` prints
``EXPLAIN (ANALYZE, BUFFERS)`` of the bulk INSERTs of one batch, replayed afterwards in a rolled-back
transaction (its rows deleted first) with that batch's arguments (foreign-key and trigger times appear there).
Instrumentation costs a little; compare shares, and take rates from ``bench.mirror``.

Parts of the copy taken away, to measure what is left (the floor; the real backfill code runs, only
Flowscope's database is cut off):

* ``--no-write``: the source reads and all of the mirror's Python (fold, replay, building each
  batch's statements and their parameters, adapted by psycopg2 as ``execute`` would: ``mogrify``),
  but no statement is sent to Flowscope's database: its transactions hand out a cursor that builds
  and drops each statement and answers as a fresh database would (new ``run_pk``/``task_pk`` for the
  runs and tasks INSERTs return, counts of 0, no rows for reads; the checkpoint saves are dropped).
* ``--read-only``: only the source statements of the backfill, their rows fetched into Python as the
  mirror fetches them; no replay, no unpacking of the bulk arrays, nothing sent to Flowscope. The
  datastore roots of the artifact rows returned are probed as the replay's enricher does, so the
  reads take the copy's arguments (rows under a root known unreadable come as arrays).

The last line printed is the figures as JSON (``result`` returns them).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import itertools
import json
import os
import re
import resource
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import orjson
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


_UNDO: list[tuple[Any, str, Any]] = []     # what ``result`` patched, restored when it returns


def _patch(owner: Any, name: str, value: Any) -> None:
    _UNDO.append((owner, name, getattr(owner, name)))
    setattr(owner, name, value)


def _unpatch() -> None:
    while _UNDO:
        owner, name, value = _UNDO.pop()
        setattr(owner, name, value)


def _timed(owner: Any, name: str, label: str, phases: dict[str, float]) -> None:
    real: Callable[..., Any] = getattr(owner, name)

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return await real(*args, **kwargs)
        finally:
            phases[label] += time.perf_counter() - t0

    _patch(owner, name, wrapper)


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


def _backend_ns(pid: int) -> int:
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])


def _statement_names() -> dict[str, str]:
    """The mirror's statements by their text: source reads (``source.``) and Flowscope writes."""
    from backend.ingest.state import sql as state_sql
    from backend.mirror import bulk, checkpoint
    from backend.mirror.source_sql import Names, SourceSql

    names: dict[str, str] = {}
    for attr, text in vars(SourceSql(Names())).items():
        if isinstance(text, str):
            names[text] = f"source.{attr}"
    for mod, prefix in ((state_sql, "fs."), (bulk, "fs.bulk."), (checkpoint, "fs.checkpoint.")):
        for attr, text in vars(mod).items():
            if attr.isupper() and isinstance(text, str) and len(text) > 20:
                names.setdefault(text, prefix + attr)
    return names


class _StatementCpu:
    """Every aiopg statement of this process, timed by its backend's CPU (schedstat) and named."""

    def __init__(self) -> None:
        import aiopg

        self.cpu: dict[str, float] = collections.defaultdict(float)
        self.n: collections.Counter[str] = collections.Counter()
        self.rows: collections.Counter[str] = collections.Counter()     # rows returned
        self.calls: dict[str, list[Any]] = {}      # the arguments of one call per bulk INSERT (--explain)
        names = _statement_names()
        real = aiopg.Cursor.execute
        me = self

        async def execute(cur: Any, operation: str, parameters: Any = None, **kwargs: Any) -> Any:
            conn = cur._impl.connection
            pid, db = conn.get_backend_pid(), conn.info.dbname
            side = "source" if db.startswith("mfsource") else "fs"
            label = names.get(operation) or f"{side}: " + re.sub(r"\s+", " ", operation)[:50]
            if not label.startswith(side):
                label = f"{side}: {label}"     # a Flowscope statement text run on the source, say
            if label.startswith("fs.bulk.INSERT") and me.n[label] == 20:
                me.calls[label] = [operation, parameters]
            ns0 = _backend_ns(pid)
            try:
                return await real(cur, operation, parameters, **kwargs)
            finally:
                me.cpu[label] += (_backend_ns(pid) - ns0) / 1e9
                me.n[label] += 1
                me.rows[label] += max(cur.rowcount, 0)

        _patch(aiopg.Cursor, "execute", execute)


class _DroppingCursor:
    """A Flowscope cursor that builds each statement (``mogrify``: psycopg2's adaptation of the
    parameters, all client-side) and sends nothing; it answers as a fresh database would."""

    def __init__(self, owner: _DroppedWrites) -> None:
        self._owner = owner
        self._rows: list[dict[str, Any]] = []

    async def execute(self, sql: str, params: Any = ()) -> None:
        o = self._owner
        o.built_bytes += len(o.mog.mogrify(sql, params or None))
        o.dropped[o.names.get(sql) or re.sub(r"\s+", " ", sql)[:40]] += 1
        self._rows = o.answer(sql, params)

    async def fetchone(self) -> dict[str, Any] | None:
        return self._rows[0] if self._rows else None

    async def fetchall(self) -> list[dict[str, Any]]:
        return list(self._rows)


class _DroppedWrites:
    """Stands in for ``transaction(pool)`` on Flowscope's database: nothing is sent there."""

    def __init__(self, dsn: str) -> None:
        from backend.ingest.state import sql as state_sql
        from backend.mirror import bulk

        self.conn = psycopg2.connect(dsn)      # for mogrify only (the client encoding); no statement
        self.mog = self.conn.cursor()
        self.pks = itertools.count(1)
        self.dropped: collections.Counter[str] = collections.Counter()
        self.built_bytes = 0
        self.names = _statement_names()
        self._runs = {state_sql.INSERT_RUNS, state_sql.INSERT_RUNS_COUNTED}
        self._tasks = {state_sql.INSERT_TASKS, state_sql.INSERT_TASKS_NEW}
        self._bulk_md, self._bulk_art, self._art = bulk.INSERT_METADATA, bulk.INSERT_ARTIFACTS, state_sql.INSERT_ARTIFACTS

    def answer(self, sql: str, params: Any) -> list[dict[str, Any]]:
        if sql in self._runs:
            return [{"run_pk": next(self.pks), "flow_id": v["flow_id"], "run_id": v["run_id"]}
                    for v in orjson.loads(params[0])]
        if sql in self._tasks:
            return [{"task_pk": next(self.pks), "run_pk": v["run_pk"], "step_name": v["step_name"],
                     "task_id": v["task_id"]} for v in orjson.loads(params[0])]
        if sql == self._bulk_md:
            return [{"inserted": 0, "matched": 0, "unmatched": None}]
        if sql == self._bulk_art:
            return [{"inserted": 0, "matched": 0, "unmatched": None, "roots": None}]
        if sql == self._art:
            return [{"n": 0}]
        return []       # reads (checkpoint, mirrored runs, parents): a fresh database has none

    @contextlib.asynccontextmanager
    async def transaction(self, pool: Any) -> AsyncIterator[_DroppingCursor]:
        yield _DroppingCursor(self)

    def close(self) -> None:
        self.conn.close()


def _flowscope_runs(dsn: str) -> int:
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM runs")
            return int(cur.fetchone()[0])
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> int:
    r = result(argv)
    print(json.dumps(r))
    return 0


def result(argv: list[str] | None = None) -> dict[str, Any]:
    """Runs the profile (printing its report) and returns the figures."""
    from backend.ingest.state import store as store_module
    from backend.mirror import backfill as bf
    from backend.mirror import mirror as mm
    from backend.mirror import replay as rp

    p = argparse.ArgumentParser(prog="python -m bench.mirror_profile", description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=10_000)
    p.add_argument("--home", required=True)
    p.add_argument("--writers", type=int, default=2)
    p.add_argument("--batch-runs", type=int, default=200)
    p.add_argument("--no-bulk", action="store_true", help="replay every metadata and artifact row (to compare)")
    p.add_argument("--alter", default="", help="SQL run on the fresh Flowscope database before the copy")
    p.add_argument("--explain", action="store_true", help="EXPLAIN (ANALYZE, BUFFERS) one batch's bulk INSERTs")
    cut = p.add_mutually_exclusive_group()
    cut.add_argument("--no-write", action="store_true",
                     help="source reads and the mirror's Python; Flowscope's statements built, not sent")
    cut.add_argument("--read-only", action="store_true", help="only the source statements, their rows fetched")
    args = p.parse_args(argv)
    if (args.no_write or args.read_only) and (args.explain or args.alter):
        p.error("--explain and --alter need the writes (not with --no-write or --read-only)")
    mode = "no-write" if args.no_write else "read-only" if args.read_only else "full"
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
        if args.alter:
            cur.execute(args.alter)
    admin.close()

    times: dict[str, float] = collections.defaultdict(float)
    counts: collections.Counter[str] = collections.Counter()
    phases: dict[str, float] = collections.defaultdict(float)
    real_init = store_module.StateStore.__init__

    def init(self: Any, cur: Any, **kwargs: Any) -> None:
        real_init(self, _TimedCursor(cur, times, counts), **kwargs)

    _patch(store_module.StateStore, "__init__", init)
    _timed(rp.Replayer, "apply", "replay in Python (with datastore reads)", phases)
    _timed(store_module.StateStore, "flush", "Flowscope statements of the batch (flush)", phases)
    _timed(mm.Mirror, "apply", "batch transaction, end to end", phases)
    _timed(bf, "_read", "source reads (overlapped with the writes)", phases)
    stmts = _StatementCpu()
    dropped: _DroppedWrites | None = None
    if mode != "full":
        dropped = _DroppedWrites(dst)
        _patch(mm, "transaction", dropped.transaction)
        _patch(bf, "transaction", dropped.transaction)
    if mode == "read-only":
        async def no_apply(self: mm.Mirror, batch: Any, known: Any, before_commit: Any) -> Any:
            # Only what decides the next reads' arguments: the replay's enricher probes the datastore
            # roots of the artifact rows it is given (once a minute per root), and the artifacts
            # read of later batches leaves the unreadable ones' rows to the bulk arrays.
            roots = {r["location"][len(":root:"):] for r in batch.artifacts
                     if isinstance(r.get("location"), str) and r["location"].startswith(":root:")}
            for root in sorted(roots):
                await self.enricher._readable(root)
            return rp.Applied()

        def packed_row_only(rows: list[dict[str, Any]], names: tuple[str, ...]) -> dict[str, str | None]:
            for i in (len(rows) - 1, *range(len(rows) - 1)):
                if rows[i]["bulk"] is not None:
                    rows.pop(i)
                    return {}
            raise RuntimeError("the source returned no row of arrays")

        _patch(mm.Mirror, "apply", no_apply)
        _patch(bf, "_arrays", packed_row_only)
    try:
        return _copy(args, mode, home, dst, src, phases, times, counts, stmts, dropped)
    finally:
        _unpatch()
        if dropped is not None:
            dropped.close()


def _copy(args: argparse.Namespace, mode: str, home: Path, dst: str, src: str, phases: dict[str, float],
          times: dict[str, float], counts: collections.Counter[str], stmts: _StatementCpu,
          dropped: _DroppedWrites | None) -> dict[str, Any]:
    from backend.mirror import mirror as mm
    from contract.settings import load_settings

    settings = load_settings({}, home=str(home), dsn=dst, mirror_source=src, mirror_batch_runs=args.batch_runs,
                             mirror_backfill_writers=args.writers, mirror_backfill_bulk=not args.no_bulk)
    mirror = mm.Mirror(settings)
    postmaster = int((home / "pg" / "postmaster.pid").read_text().split()[0])
    pg0, cpu0, t0 = _postgres_cpu_s(postmaster), resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
    load0, utc0 = bm.load(), time.strftime("%H:%M:%S", time.gmtime())
    print(f"{load0} at the start ({utc0} UTC)", file=sys.stderr)
    code = asyncio.run(mirror.run(asyncio.Event(), backfill_only=True))
    wall = time.monotonic() - t0
    time.sleep(0.5)     # let the postmaster reap the mirror's backends
    cpu1, pg1 = resource.getrusage(resource.RUSAGE_SELF), _postgres_cpu_s(postmaster)
    assert code == 0, f"the mirror stopped with {code}: {mirror.status.error}"
    mirror_cpu = cpu1.ru_utime - cpu0.ru_utime + cpu1.ru_stime - cpu0.ru_stime
    print(f"{args.runs:,} runs in {wall:.1f} s ({args.runs / wall:.0f} runs/s), {args.writers} writer(s), "
          f"{'replay' if args.no_bulk else 'bulk path'}, mode {mode}; {bm.load()}")
    print(f"CPU: mirror process {mirror_cpu:.1f} s, "
          f"Postgres (all backends, both databases) {pg1 - pg0:.1f} s")
    if dropped is not None:
        print(f"Flowscope statements built and not sent: {sum(dropped.dropped.values()):,} "
              f"({dropped.built_bytes / 1e6:.1f} MB)")
        for k, n in dropped.dropped.most_common(12):
            print(f"  {n:6d}  {k}")
    for label, s in sorted(phases.items(), key=lambda kv: -kv[1]):
        print(f"{s:9.2f} s  {label}")
    print("statement (first 60 characters): seconds, count")
    for key, s in sorted(times.items(), key=lambda kv: -kv[1])[:12]:
        print(f"{s:9.2f} s  {counts[key]:6d}  {key}")
    pg_total = pg1 - pg0
    print(f"Postgres CPU per statement (backend schedstat), ms per run; {args.runs:,} runs:")
    for side in ("source", "fs"):
        rows = sorted(((k, v) for k, v in stmts.cpu.items() if k.startswith(side)), key=lambda kv: -kv[1])
        total = sum(v for _k, v in rows)
        print(f"  {side}: {total:.2f} s = {total * 1000 / args.runs:.3f} ms/run")
        for k, v in rows:
            if v >= 0.05:
                print(f"    {v * 1000 / args.runs:7.3f} ms/run  {v:7.2f} s  {stmts.n[k]:6d}  {k}")
    rest = pg_total - sum(stmts.cpu.values())
    print(f"  outside the statements (background processes, connections): {rest:.2f} s = "
          f"{rest * 1000 / args.runs:.3f} ms/run")
    conn = psycopg2.connect(dst)
    if args.explain:
        with conn.cursor() as cur:
            for label, (op, params) in sorted(stmts.calls.items()):
                # The INSERT runs again on rows already there (artifacts' ON CONFLICT DO NOTHING
                # would find every row): that batch's rows are deleted first, all rolled back.
                table = "metadata" if "METADATA" in label else "artifacts"
                cur.execute(f"DELETE FROM {table} WHERE task_pk = ANY(%s)", (params[-2],))
                cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + op, params)
                print(f"EXPLAIN ANALYZE {label}:")
                for (line,) in cur.fetchall():
                    print("   ", line)
                conn.rollback()
    with conn.cursor() as cur:
        cur.execute("SELECT funcname, calls, round(total_time::numeric / 1000, 2), round(self_time::numeric / 1000, 2) "
                    "FROM pg_stat_user_functions ORDER BY total_time DESC")
        print("trigger function: calls, total s, self s")
        for fn, calls, total, own in cur.fetchall():
            print(f"  {fn}: {calls:,}, {total}, {own}")
    conn.close()
    fs_cpu = sum(v for k, v in stmts.cpu.items() if k.startswith("fs"))
    source_cpu = sum(v for k, v in stmts.cpu.items() if k.startswith("source"))
    return {"mode": mode, "runs": args.runs, "writers": args.writers, "wall_s": round(wall, 2),
            "runs_per_s": round(args.runs / wall, 1), "min_per_million": round(wall / args.runs * 1e6 / 60, 1),
            "mirror_cpu_s": round(mirror_cpu, 2), "postgres_cpu_s": round(pg_total, 2),
            "mirror_ms_per_run": round(mirror_cpu * 1000 / args.runs, 3),
            "postgres_ms_per_run": round(pg_total * 1000 / args.runs, 3),
            "source_statements_ms_per_run": round(source_cpu * 1000 / args.runs, 3),
            "flowscope_statements_ms_per_run": round(fs_cpu * 1000 / args.runs, 3),
            "source_statements": {k: n for k, n in stmts.n.items() if k.startswith("source")},
            "source_rows": {k: n for k, n in stmts.rows.items() if k.startswith("source")},
            "flowscope_statements_sent": {k: n for k, n in stmts.n.items() if k.startswith("fs")},
            "roots_unreadable": sorted(r for r, (ok, _at) in mirror.enricher._roots.items() if not ok),
            "flowscope_statements_dropped": dict(dropped.dropped) if dropped is not None else {},
            "flowscope_runs": _flowscope_runs(dst), "replay_s": round(phases.get(
                "replay in Python (with datastore reads)", 0.0), 2),
            "load_start": load0, "load_end": bm.load(), "utc_start": utc0}


if __name__ == "__main__":
    sys.exit(main())
