"""``python -m bench.seed``: a large, realistic, deterministic dataset.

Writes straight into the schema with COPY (triggers off, denormalized columns computed here),
log chunks and artifact blobs into the datastore, then checks the counts and ANALYZEs.
Generation runs in a thread while the main thread streams the previous batch to Postgres, so the
two cores both work: Python builds rows while the server parses and indexes them.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import queue
import random
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psycopg2

from bench.artifact_pool import build_pools
from bench.catalogue import make_world
from bench.copy_text import Tables
from bench.generate import Generator, SeedOptions
from bench.loader import Loader, SeedError
from bench.progress import Progress
from contract.datastore import DatastoreError, open_datastore
from contract.pg import DatabaseError, connect_writer
from contract.settings import SettingsError, load_settings


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.seed", description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=10_000, help="ordinary runs (default 10,000)")
    p.add_argument("--tasks-per-run", type=int, default=8, help="average tasks per run (default 8)")
    p.add_argument("--huge-run", type=int, default=0, metavar="N",
                   help="add one run with an N-task foreach (0: none)")
    p.add_argument("--log-lines", type=int, default=None, metavar="N",
                   help="lines of the very long stdout log in the huge run (default 1,000,000 when "
                        "--huge-run is set)")
    p.add_argument("--huge-failures", type=int, default=0, metavar="N",
                   help="the huge run fails with N failed foreach tasks, each with a traceback on stderr "
                        "(the triage benchmark's run: 100,000 tasks, 5,000 failures)")
    p.add_argument("--artifacts-per-task", type=int, default=2)
    p.add_argument("--recent-logs", type=int, default=100, metavar="N",
                   help="the newest N runs get short logs on every task (default 100)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--now", type=int, default=None, metavar="EPOCH_MS",
                   help="the generator's 'now' (default: the current time); fix it to reproduce a dataset")
    p.add_argument("--dsn", help="writer DSN (default: the settings', i.e. FLOWSCOPE_DSN or the embedded server)")
    p.add_argument("--datastore", help="datastore root (default: the settings')")
    p.add_argument("--batch-runs", type=int, default=2000, help=argparse.SUPPRESS)
    p.add_argument("--keep-indexes", action="store_true",
                   help="maintain indexes row by row even on an empty database (slower)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    args = p.parse_args(argv)
    for name in ("runs", "huge_run", "artifacts_per_task", "recent_logs", "huge_failures"):
        if getattr(args, name) < 0:
            p.error(f"--{name.replace('_', '-')} must not be negative")
    if args.tasks_per_run < 2:
        p.error("--tasks-per-run must be at least 2 (a start and an end step)")
    if args.batch_runs < 1:
        p.error("--batch-runs must be positive")
    if args.huge_failures and not args.huge_run:
        p.error("--huge-failures needs --huge-run")
    if args.log_lines is None:
        args.log_lines = 1_000_000 if args.huge_run else 0
    if args.log_lines and not args.huge_run:
        p.error("--log-lines needs --huge-run (the long log belongs to the huge run's start task)")
    return args


def run_seed(args: argparse.Namespace) -> dict[str, Any]:
    settings = load_settings(dsn=args.dsn, datastore=args.datastore)
    opts = SeedOptions(runs=args.runs, tasks_per_run=args.tasks_per_run, huge_run=args.huge_run,
                       log_lines=args.log_lines, seed=args.seed,
                       now_ms=args.now if args.now is not None else int(time.time() * 1000),
                       artifacts_per_task=args.artifacts_per_task, recent_logs=args.recent_logs,
                       batch_runs=args.batch_runs, huge_failures=args.huge_failures)
    t0 = time.monotonic()
    rng = random.Random(opts.seed)
    world = make_world(rng, opts.tasks_per_run)
    ds = open_datastore(settings)
    conn = connect_writer(settings)   # migrates a fresh database
    loader = Loader(conn)
    flows = [*world.flows, world.huge]
    ids = loader.prepare([f.flow_id for f in flows])
    if not args.keep_indexes:
        loader.drop_indexes()
    pools = build_pools(rng, ds, flows, opts.artifacts_per_task)
    gen = Generator(opts, world, rng, ds, pools, ids)
    progress = Progress(opts.runs + opts.huge_run / opts.tasks_per_run, "seed",
                        stream=io.StringIO() if args.quiet else None)
    rows = _pump(gen, loader, progress)
    progress.close()
    t_load = time.monotonic()
    loader.finish(ids, gen.manifest)
    t_check = time.monotonic()
    loader.analyze()
    t_end = time.monotonic()
    with conn.cursor() as cur:
        cur.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = cur.fetchone()[0]
    conn.close()
    m = gen.manifest
    return {"rows": rows, "runs": opts.runs, "huge_run": m.huge_run, "huge_run_pk": m.huge_run_pk,
            "log_task": m.log_task, "log_task_pk": m.log_task_pk, "seed": opts.seed, "now": opts.now_ms,
            "datastore": ds.root, "database_size": size,
            "seconds": {"generate_and_copy": round(t_load - t0, 1), "check_and_commit": round(t_check - t_load, 1),
                        "analyze": round(t_end - t_check, 1), "total": round(t_end - t0, 1)}}


_DONE = object()


def _pump(gen: Generator, loader: Loader, progress: Progress) -> int:
    """Generate in a thread, COPY here; a bounded queue keeps memory to a couple of batches."""
    q: queue.Queue[Any] = queue.Queue(maxsize=2)

    def produce() -> None:
        try:
            for item in gen.batches():
                q.put(item)
            q.put(_DONE)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread, which re-raises it
            q.put(exc)

    th = threading.Thread(target=produce, name="bench-generate", daemon=True)
    th.start()
    done, total_rows = 0.0, 0
    while True:
        item = q.get()
        if item is _DONE:
            break
        if isinstance(item, BaseException):
            raise item
        tables, units = item
        assert isinstance(tables, Tables)
        loader.copy(tables)
        n = tables.count()
        done += units
        total_rows += n
        progress.update(done, n)
    th.join()
    return total_rows


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        summary = run_seed(args)
    except (SeedError, DatabaseError, DatastoreError, SettingsError) as exc:
        print(f"bench.seed: {exc}", file=sys.stderr)
        return 1
    except psycopg2.Error as exc:   # the load is one transaction: nothing was committed
        print(f"bench.seed: the database refused the load (nothing committed): "
              f"{str(exc).strip()}", file=sys.stderr)
        return 1
    text = json.dumps(summary, indent=2)
    print(text)
    home = os.environ.get("FLOWSCOPE_HOME")
    if home:   # where bench.api, bench.browser and bench.cache_memory look for it
        Path(home, "seed.json").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
