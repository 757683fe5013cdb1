"""A 1,000-way foreach of trivial tasks with the local executor and with Ray (2 nodes on this machine).

    .venv/bin/python bench/executor_local_vs_ray.py [--splits 1000] [--samples 3] [--max-workers 16]
                                                    [--no-write]

Both sides run the same flow file with the same --max-workers, against a private Postgres
(pgserver, started before the clock) and a local datastore directory (every node of a cluster on
one machine sees it). The Ray cluster is real: a head and one more node, each a `ray start`
process with --max-workers/2 logical CPUs (so both sides run at most --max-workers tasks at once),
started before any timing and always stopped. Each side gets one untimed warm-up run of the full
size (Postgres caches, Ray's runtime environment on each node); then the sides alternate,
--samples runs each. Per run: wall time of `python flow.py run`; per-task overhead = the mean
attempt duration the driver recorded for the trivial `work` tasks (attempt start → attempt end:
for Ray, submission, scheduling, process start on the node and result back; the step body
itself takes microseconds); Postgres writes = rows inserted/updated/deleted and transactions
committed in the run's database (pg_stat_* counters, read after the command exits), divided by
the run's tasks. `uptime` load averages are recorded around every run.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DOC = REPO / "docs" / "benchmarks.md"
START, END = "<!-- executor_local_vs_ray:start -->", "<!-- executor_local_vs_ray:end -->"

FLOW = '''from core_runtime import FlowSpec, step


class TrivialForeachFlow(FlowSpec):
    @step
    def start(self):
        self.items = list(range({splits}))
        self.next(self.work, foreach="items")

    @step
    def work(self):
        self.doubled = self.input * 2
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.doubled for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        print("total", self.total)


if __name__ == "__main__":
    TrivialForeachFlow()
'''

COUNTERS = """SELECT (SELECT sum(n_tup_ins + n_tup_upd + n_tup_del) FROM pg_stat_user_tables),
                     (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database())"""


def _log(text: str) -> None:
    sys.stderr.write(f"[{time.strftime('%H:%M:%S')}] {text}\n")
    sys.stderr.flush()


def _counters(dsn: str) -> tuple[int, int]:
    import psycopg2

    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_stat_clear_snapshot()")
            cur.execute(COUNTERS)
            rows, xacts = cur.fetchone()
        return int(rows or 0), int(xacts or 0)
    finally:
        conn.close()


def _work_attempts(dsn: str, run_id: str) -> list[float]:
    import psycopg2

    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("""SELECT a.finished_at - a.started_at FROM attempts a JOIN tasks t ON t.task_pk = a.task_pk
                           JOIN runs r ON r.run_pk = t.run_pk
                           WHERE r.flow_id = 'TrivialForeachFlow' AND r.run_id = %s AND t.step_name = 'work'""",
                        (run_id,))
            return [float(r[0]) for r in cur.fetchall()]
    finally:
        conn.close()


def _one_run(side: str, env: dict[str, str], cwd: Path, workers: int, dsn: str, tasks: int) -> dict[str, Any]:
    args = [sys.executable, "flow.py", "--quiet", "run", "--max-workers", str(workers), "--run-id-file", "run-id"]
    if side == "ray":
        args += ["--with", "ray"]
    before = _counters(dsn)
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    proc = subprocess.run(args, check=False, env=env, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    load_after = os.getloadavg()
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
        raise SystemExit(f"benchmark run failed ({side})")
    time.sleep(1.0)   # backends flush their statistics at most once a second
    after = _counters(dsn)
    durations = _work_attempts(dsn, (cwd / "run-id").read_text().strip())
    return {"side": side, "wall": wall, "overhead_ms": statistics.mean(durations),
            "overhead_p50": statistics.median(durations),
            "rows_per_task": (after[0] - before[0]) / tasks, "xacts_per_task": (after[1] - before[1]) / tasks,
            "load": (load_before[0], load_after[0])}


def main() -> None:
    from tests.ray_cluster import LocalRayCluster

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--splits", type=int, default=1000)
    ap.add_argument("--samples", type=int, default=3)
    ap.add_argument("--max-workers", type=int, default=16)
    ap.add_argument("--no-write", action="store_true", help="print the table only")
    args = ap.parse_args()
    tasks = args.splits + 3
    base = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWSCOPE_", "METAFLOW_"))}
    base["RAY_USAGE_STATS_ENABLED"] = "0"
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="fsbench-ray-") as tmp:
        root = Path(tmp)
        os.environ.setdefault("XDG_RUNTIME_DIR", str(root))
        import pgserver

        _log("starting a private Postgres")
        server = pgserver.get_server(root / "pg", cleanup_mode="delete")  # type: ignore[attr-defined]
        dsn = server.get_uri()
        cluster = LocalRayCluster(dict(base))
        try:
            per_node = max(1, args.max_workers // 2)
            _log(f"starting a 2-node Ray cluster ({per_node} logical CPUs per node)")
            cluster.start([(per_node, {"head": 1}), (per_node, {"worker": 1})], memory_mb=1024)
            env = {**base, "FLOWSCOPE_DSN": dsn, "FLOWSCOPE_HOME": str(root / "home"),
                   "FLOWSCOPE_DATASTORE": str(root / "datastore"), "FLOWSCOPE_USER": "bench",
                   "FLOWSCOPE_RAY_ADDRESS": cluster.address, "PYTHONPATH": str(REPO)}
            flow_dir = root / "flow"
            flow_dir.mkdir()
            (flow_dir / "flow.py").write_text(FLOW.format(splits=args.splits))
            for side in ("local", "ray"):
                _log(f"warm-up: {side}")
                _one_run(side, env, flow_dir, args.max_workers, dsn, tasks)
            for i in range(args.samples):
                for side in ("local", "ray"):
                    _log(f"sample {i + 1}/{args.samples}: {side}")
                    r = _one_run(side, env, flow_dir, args.max_workers, dsn, tasks)
                    _log(f"  {r['wall']:.1f} s, {r['overhead_ms']:.0f} ms/task, load {r['load'][1]:.1f}")
                    results.append(r)
        finally:
            cluster.stop()
            server.cleanup()
    table = render(results, args)
    print(table)
    if not args.no_write:
        write_section(table)
        print(f"written to {DOC.relative_to(REPO)}")


def _side(results: list[dict[str, Any]], side: str) -> dict[str, Any]:
    rs = [r for r in results if r["side"] == side]
    walls = [r["wall"] for r in rs]
    return {"wall": statistics.median(walls), "wall_min": min(walls), "wall_max": max(walls),
            "overhead": statistics.median(r["overhead_ms"] for r in rs),
            "overhead_p50": statistics.median(r["overhead_p50"] for r in rs),
            "rows": statistics.median(r["rows_per_task"] for r in rs),
            "xacts": statistics.median(r["xacts_per_task"] for r in rs)}


def render(results: list[dict[str, Any]], args: argparse.Namespace) -> str:
    tasks = args.splits + 3
    loc, ray_ = _side(results, "local"), _side(results, "ray")
    import ray

    loads = ", ".join(f"{r['side']} {r['load'][0]:.1f}→{r['load'][1]:.1f}" for r in results)
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    rows = []
    for name, s in (("local executor (forked task processes)", loc),
                    (f"Ray {ray.__version__}, 2 nodes on this machine", ray_)):
        rows.append(f"| {name} | {s['wall']:.1f} s ({s['wall_min']:.1f}–{s['wall_max']:.1f}) | "
                    f"{tasks / s['wall']:.1f} | {s['overhead']:.0f} ms ({s['overhead_p50']:.0f}) | "
                    f"{s['rows']:.1f} | {s['xacts']:.1f} |")
    return "\n".join([
        "## Local executor vs Ray",
        "",
        (f"A {args.splits}-way foreach of trivial tasks (start → {args.splits} × work → join → end, "
         f"{tasks} tasks), `--max-workers {args.max_workers}`, the same flow file; Ray: `run --with ray` "
         f"on a real 2-node cluster on this machine ({max(1, args.max_workers // 2)} logical CPUs per "
         "node, so both sides run at most the same number of tasks at once). Private Postgres "
         "(pgserver) and a local datastore directory; one untimed full-size warm-up run per side, then "
         f"{args.samples} samples per side, alternating."),
        "",
        "```",
        ".venv/bin/python bench/executor_local_vs_ray.py",
        "```",
        "",
        (f"Machine: {os.cpu_count()} CPUs (nproc), {platform.system()} {platform.machine()}, "
         f"Python {platform.python_version()}; {when}."),
        "",
        "| executor | wall time: median (min–max) | tasks/s | per-task overhead: mean (median) | "
        "Postgres rows written / task | transactions / task |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        *rows,
        f"| **Ray / local** | **{ray_['wall'] / loc['wall']:.1f}× the wall time** | | "
        f"**{ray_['overhead'] / max(loc['overhead'], 0.001):.1f}×** | | |",
        "",
        ("Per-task overhead is the mean attempt duration the driver recorded for the `work` tasks (their "
         "body takes microseconds): for the local executor a fork plus the task process's own work "
         "(load the parent's artifact records, pickle and store one artifact, write the result file); "
         "for Ray additionally the task's submission and scheduling, a fresh Python interpreter on the "
         "node importing core_runtime and the flow file, and the streamed result. Rows written count "
         "inserts, updates and deletes in every table (triggers included) over the whole run, divided by "
         "its tasks; a Ray attempt adds one transaction (the 4 metadata rows saying where it was "
         "placed) that a local attempt folds into the task's first metadata statement."),
        "",
        ("**Where Ray loses:** on one 2-core machine there is nothing to gain from a cluster — the "
         "nodes share the same two cores, and each Ray attempt pays a new interpreter's start-up "
         "(about the cost of the whole local task, several times over) plus Ray's own scheduling. Ray "
         "is for steps that need more CPUs, memory or GPUs than the driver's machine has, or foreach "
         "fan-outs wide enough to use many machines."),
        "",
        f"Load average (1 min) before→after each timed run: {loads}. Figures taken on a loaded, "
        "shared machine spread and are slower on both sides; re-run on a quiet one for figures to quote.",
    ])


def write_section(table: str) -> None:
    section = f"{START}\n{table}\n{END}"
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    if START in text and END in text:
        text = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _m: section, text, flags=re.DOTALL)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    DOC.write_text(text)


if __name__ == "__main__":
    main()
