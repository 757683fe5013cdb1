"""``python -m bench.mf_source.generate``: a large metaflow-service database, written with COPY.

Rows shaped like the ones metaflow 2.19 writes through the metadata service (tests/mirror fill a
source with real runs; this makes a million of them synthetically): per run a flow row (once), a
run row, one step row per step, a task row per task (``_parameters``, ``start``, a foreach of
``--tasks-per-run - 3`` ``train`` tasks, ``join``, ``end``), metadata rows per task attempt and
artifact rows per attempt. Two metadata profiles:

* ``full``: what a local metaflow 2.19 run registers per attempt (the runtime's and the task's
  system info twice, attempt, origin-run-id, ds-type, ds-root, foreach-stack and
  foreach-execution-path in the foreach, attempt_ok, attempt-done: ~18 rows), and 12 artifacts;
* ``lean`` (the default): attempt, ds-root, foreach-execution-path (foreach only), attempt_ok,
  attempt-done per attempt, and 4 artifacts: what the statuses, labels and artifact lists need,
  at a quarter of the volume (a million runs of ``full`` need ~100 GB of disk here).

About 90 % of runs complete, 10 % fail in a random step; 5 % of train tasks fail once and succeed
on a retry; 10 % of runs carry Argo string ids. The artifacts point at a datastore root that does
not exist (``--root``): the mirror copies their rows; it reads no blobs. Deterministic for a
``--seed`` and ``--now``. Secondary indexes are built after the load, as a migration would have.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg2

from bench.mf_source.schema import NEWEST, Names, create_indexes, create_source, create_triggers

DAY_MS = 86_400_000
DEFAULT_NAMES = Names()
SYSINFO = ("runtime", "python_version", "user", "metaflow_version", "script-name")


@dataclass
class Options:
    runs: int
    tasks_per_run: int = 8
    profile: str = "lean"
    seed: int = 42
    now_ms: int = 0
    flows: int = 40
    days: int = 365
    live: int = 5              # the newest runs are still running
    root: str = "/nonexistent/metaflow-datastore/.metaflow"


@dataclass
class Tables:
    buffers: dict[str, io.StringIO] = field(default_factory=dict)
    count: dict[str, int] = field(default_factory=dict)

    def add(self, table: str, values: Sequence[Any]) -> None:
        buf = self.buffers.setdefault(table, io.StringIO())
        buf.write("\t".join(_copy_text(v) for v in values))
        buf.write("\n")
        self.count[table] = self.count.get(table, 0) + 1


def _copy_text(v: Any) -> str:
    if v is None:
        return "\\N"
    if isinstance(v, bool):
        return "t" if v else "f"
    s = v if isinstance(v, str) else str(v)
    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


COLUMNS = {
    "flows": "flow_id, user_name, ts_epoch, tags, system_tags",
    "runs": "flow_id, run_number, run_id, user_name, ts_epoch, tags, system_tags, last_heartbeat_ts",
    "steps": "flow_id, run_number, run_id, step_name, user_name, ts_epoch, tags, system_tags",
    "tasks": "flow_id, run_number, run_id, step_name, task_id, task_name, user_name, ts_epoch, tags, "
             "system_tags, last_heartbeat_ts",
    "metadata": "flow_id, run_number, run_id, step_name, task_id, task_name, id, field_name, value, type, "
                "user_name, ts_epoch, tags, system_tags",
    "artifact": "flow_id, run_number, run_id, step_name, task_id, task_name, name, location, ds_type, sha, "
                "type, content_type, user_name, attempt_id, ts_epoch, tags, system_tags",
}


class Generator:
    def __init__(self, opts: Options) -> None:
        self.o = opts
        self.rng = random.Random(opts.seed)
        self.flows = [f"{self.rng.choice(['Train', 'Score', 'Etl', 'Report', 'Tune'])}Flow{i:02d}"
                      for i in range(opts.flows)]
        self.users = [f"user{i:02d}" for i in range(30)]
        self.task_id = 0
        self.md_id = 0
        self.rows = 0

    def batches(self, size: int = 2000) -> Any:
        o = self.o
        start = o.now_ms - o.days * DAY_MS
        step_ms = (o.days * DAY_MS) / max(o.runs, 1)
        t = Tables()
        for f in self.flows:
            t.add("flows", (f, None, start - DAY_MS, None, None))
        for n in range(1, o.runs + 1):
            self._run(t, n, int(start + (n - 1) * step_ms + self.rng.random() * step_ms * 0.5),
                      live=n > o.runs - o.live)
            if n % size == 0:
                yield t, n
                t = Tables()
        yield t, o.runs

    def _run(self, t: Tables, n: int, ts: int, live: bool) -> None:
        rng, o = self.rng, self.o
        flow = self.flows[int(rng.paretovariate(1.2)) % len(self.flows)]
        user = rng.choice(self.users)
        argo = rng.random() < 0.10
        run_id = f"argo-{flow.lower()}-{rng.getrandbits(40):010x}" if argo else None
        runtime = "argo-workflows" if argo else "dev"
        tags = json.dumps(rng.sample(["nightly", "prod", "exp", "ab-test", "backfill"], rng.randint(0, 2)))
        system = json.dumps([f"runtime:{runtime}", f"user:{user}", "python_version:3.11.7",
                             "metaflow_version:2.19.39"])
        fails_at = rng.choice(["start", "train", "join", "end"]) if rng.random() < 0.10 else None
        width = max(1, o.tasks_per_run - 3)
        plan = [("_parameters", 1), ("start", 1), ("train", width), ("join", 1), ("end", 1)]
        clock = ts + 50
        last_beat = clock // 1000
        for step, count in plan:
            if live and step == "end":
                break
            t.add("steps", (flow, n, run_id or str(n), step, user, clock, tags, system))
            for i in range(count):
                self.task_id += 1
                tid = self.task_id
                name = f"t-{rng.getrandbits(32):08x}" if argo else None
                created = clock + i * 3
                duration = int(rng.lognormvariate(9, 1))
                running = live and step == "join"
                beat = o.now_ms // 1000 if running else (created + duration) // 1000
                t.add("tasks", (flow, n, run_id, step, tid, name, user, created, tags, system, beat))
                attempts = 2 if step == "train" and rng.random() < 0.05 else 1
                failed = step == fails_at and i == 0
                for a in range(attempts):
                    ok = (a == attempts - 1) and not failed
                    at = created + 200 + a * (duration + 500)
                    self._metadata(t, flow, n, run_id, step, tid, name, user, at, a, ok, i if step == "train" else None,
                                   done=not running, ts_end=at + duration)
                    if not running:
                        self._artifacts(t, flow, n, run_id, step, tid, name, user, a, at + duration + 5)
                last_beat = max(last_beat, beat)
                if failed:
                    break
            clock += 4000 + int(rng.lognormvariate(8, 1))
            if step == fails_at:
                break
        # The run's heartbeat: its last task's (a task beat also beats its run).
        t.add("runs", (flow, n, run_id, user, ts, tags, system, last_beat))

    def _metadata(self, t: Tables, flow: str, n: int, run_id: str | None, step: str, tid: int, name: str | None,
                  user: str, at: int, attempt: int, ok: bool, index: int | None, done: bool, ts_end: int) -> None:
        tag = json.dumps([f"attempt_id:{attempt}"])
        fields: list[tuple[str, str, str]] = []
        if step == "_parameters":
            fields = [("attempt-done", "0", "attempt-done")]
            if self.o.profile == "full":
                fields = [*((f, v, f) for f, v in zip(SYSINFO, ("dev", "3.11.7", user, "2.19.39", "flow.py"))),
                          ("start_step", "start", "graph_structure"), ("end_step", "end", "graph_structure"),
                          *fields]
        else:
            start = [("attempt", str(attempt), "attempt"), ("ds-root", self.o.root, "ds-root")]
            if self.o.profile == "full":
                sysinfo = [(f, v, f) for f, v in zip(SYSINFO, ("dev", "3.11.7", user, "2.19.39", "flow.py"))]
                start = [*sysinfo, *sysinfo, ("attempt", str(attempt), "attempt"),
                         ("origin-run-id", "None", "origin-run-id"), ("ds-type", "local", "ds-type"),
                         ("ds-root", self.o.root, "ds-root")]
                if index is not None:
                    start.append(("foreach-stack", f"{{items={index}}}", "foreach-stack"))
            if index is not None:
                start.append(("foreach-execution-path", f"start:{index}", "foreach-execution-path"))
            fields = start
            if done:
                fields += [("attempt_ok", "True" if ok else "False", "internal_attempt_status"),
                           ("attempt-done", str(attempt), "attempt-done")]
        for i, (f, v, kind) in enumerate(fields):
            self.md_id += 1
            when = at if f not in ("attempt_ok", "attempt-done") else ts_end + i
            t.add("metadata", (flow, n, run_id, step, tid, name, self.md_id, f, v, kind, user, when,
                               tag if step != "_parameters" or f == "attempt-done" else "[]", None))

    def _artifacts(self, t: Tables, flow: str, n: int, run_id: str | None, step: str, tid: int, name: str | None,
                   user: str, attempt: int, at: int) -> None:
        names = ["name", "_task_ok", "_success", "_transition"]
        if self.o.profile == "full":
            names += ["_current_step", "_foreach_stack", "_foreach_var", "_foreach_num_splits", "_exception",
                      "_iteration_stack", "_graph_info", "model"]
        if step == "_parameters":
            names = ["_graph_info", "alpha", "name"]
        for a in names:
            sha = f"{self.rng.getrandbits(160):040x}"
            t.add("artifact", (flow, n, run_id, step, tid, name, a, f":root:{self.o.root}", "local", sha,
                               "metaflow.artifact", "gzip+pickle-v4", user, attempt, at, "[]", None))


def load(conn: Any, gen: Generator, names: Names, quiet: bool = False) -> dict[str, int]:
    totals: dict[str, int] = {}
    t0 = time.monotonic()
    with conn.cursor() as cur:
        for tables, done in gen.batches():
            for key in ("flows", "runs", "steps", "tasks", "metadata", "artifact"):
                buf = tables.buffers.get(key)
                if buf is None:
                    continue
                buf.seek(0)
                cur.copy_expert(f"COPY {names.q(key)} ({COLUMNS[key]}) FROM STDIN", buf)
                totals[key] = totals.get(key, 0) + tables.count[key]
            conn.commit()
            if not quiet:
                rows = sum(totals.values())
                el = time.monotonic() - t0
                sys.stderr.write(f"\rgenerate {done / gen.o.runs * 100:5.1f}%  {done:,} runs  {rows:,} rows  "
                                 f"{rows / max(el, 1e-6):,.0f} rows/s ")
                sys.stderr.flush()
        # Move the serial columns past the generated keys, as if the service had written them.
        cur.execute(f"SELECT setval(pg_get_serial_sequence('{names.q('runs')}', 'run_number'), %s)",
                    (max(gen.o.runs, 1),))
        cur.execute(f"SELECT setval(pg_get_serial_sequence('{names.q('tasks')}', 'task_id'), %s)",
                    (max(gen.task_id, 1),))
        cur.execute(f"SELECT setval(pg_get_serial_sequence('{names.q('metadata')}', 'id'), %s)",
                    (max(gen.md_id, 1),))
    conn.commit()
    if not quiet:
        sys.stderr.write("\n")
    return totals


def generate(dsn: str, opts: Options, names: Names = DEFAULT_NAMES, triggers: bool = False,
             quiet: bool = False, version: int = NEWEST) -> dict[str, Any]:
    """Create the schema (as of goose ``version``) in an empty database, load, index, ANALYZE."""
    conn = psycopg2.connect(dsn)
    try:
        t0 = time.monotonic()
        create_source(conn, names, version, with_indexes=False)
        gen = Generator(opts)
        totals = load(conn, gen, names, quiet)
        t1 = time.monotonic()
        create_indexes(conn, names, version)
        if triggers:
            create_triggers(conn, names)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("ANALYZE")
            cur.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
            size = cur.fetchone()[0]
        t2 = time.monotonic()
    finally:
        conn.close()
    return {"rows": totals, "total_rows": sum(totals.values()), "database_size": size,
            "seconds": {"load": round(t1 - t0, 1), "indexes_and_analyze": round(t2 - t1, 1)}}


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.mf_source.generate", description=__doc__.splitlines()[0])
    p.add_argument("--dsn", required=True, help="an empty database (owner role): the source to create")
    p.add_argument("--runs", type=int, default=10_000)
    p.add_argument("--tasks-per-run", type=int, default=8)
    p.add_argument("--profile", choices=["lean", "full"], default="lean")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--now", type=int, default=None, metavar="EPOCH_MS")
    p.add_argument("--triggers", action="store_true", help="also create Metaflow UI's notify triggers")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    if args.runs < 1 or args.tasks_per_run < 4:
        p.error("--runs must be positive and --tasks-per-run at least 4")
    opts = Options(runs=args.runs, tasks_per_run=args.tasks_per_run, profile=args.profile, seed=args.seed,
                   now_ms=args.now if args.now is not None else int(time.time() * 1000))
    try:
        summary = generate(args.dsn, opts, triggers=args.triggers, quiet=args.quiet)
    except psycopg2.Error as exc:
        print(f"generate: the database refused the load: {str(exc).strip()}", file=sys.stderr)
        return 1
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
