"""``python -m bench.mfmatrix METAFLOW_SRC``: run Metaflow's core matrix and report pass/fail.

Prints one line per pair as it finishes, then the count and the failures grouped by reason.
``--json PATH`` writes every pair's outcome; ``--keep DIR`` keeps the failing pairs' directories
(flow, checker, and a log of every command).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from bench.mfmatrix.execute import Outcome, Target, prepare_package, run_pair
from bench.mfmatrix.pairs import CONTEXT, generate, load_context
from bench.mfmatrix.source import commit_of, core_dir


def _database_factory(root: Path) -> tuple[Any, Any]:
    """(new_database, cleanup): one private Postgres server, a fresh database per pair."""
    import uuid

    import psycopg2
    import psycopg2.errors
    import psycopg2.extensions

    dsn = os.environ.get("FLOWSCOPE_TEST_DSN")
    server = None
    if not dsn:
        os.environ.setdefault("XDG_RUNTIME_DIR", str(root))   # quiets platformdirs
        import pgserver

        server = pgserver.get_server(root / "pg", cleanup_mode="delete")  # type: ignore[attr-defined]
        dsn = server.get_uri()

    lock = threading.Lock()

    def new_database() -> str:
        # Made, migrated and granted one at a time: concurrent role grants on one server fail.
        from contract.pg.migrate import ensure_reader_role, migrate

        name = f"mfmatrix_{uuid.uuid4().hex[:10]}"
        params = psycopg2.extensions.parse_dsn(dsn)
        params["dbname"] = name
        db_dsn = str(psycopg2.extensions.make_dsn(**params))
        with lock:
            admin = psycopg2.connect(dsn)
            admin.autocommit = True
            with admin.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{name}"')
            admin.close()
            conn = psycopg2.connect(db_dsn)
            conn.autocommit = True
            migrate(conn)
            for attempt in range(5):
                try:      # a flow of another pair may be granting the same role right now
                    ensure_reader_role(conn)
                    break
                except psycopg2.errors.InternalError:
                    if attempt == 4:
                        raise
                    time.sleep(0.2)
            conn.close()
        return db_dsn

    return new_database, (server.cleanup if server is not None else (lambda: None))


def _nothing() -> None:
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.mfmatrix", description=__doc__.splitlines()[0])
    ap.add_argument("metaflow_src", help="a Metaflow checkout, or a bare git repository of one")
    ap.add_argument("--runtime", choices=("core_runtime", "metaflow"), default="core_runtime",
                    help="run the flows on core_runtime (imports rewritten) or on pip metaflow")
    ap.add_argument("--tests", default="", help="comma-separated test class names (default: all)")
    ap.add_argument("--graphs", default="", help="comma-separated graph names (default: all)")
    ap.add_argument("--jobs", type=int, default=2, help="pairs run at once (default 2)")
    ap.add_argument("--checks", default="metadata",
                    help="Metaflow's checkers to run, comma-separated: metadata (MetadataCheck, through "
                         "the client; the default) and/or cli (CliCheck, through dump/logs/card)")
    ap.add_argument("--json", dest="json_path", help="write every pair's outcome here")
    ap.add_argument("--keep", help="copy failing pairs' directories here")
    args = ap.parse_args(argv)

    def pick(text: str) -> set[str]:
        return {t.strip().lower() for t in text.split(",") if t.strip()}

    scratch = Path(tempfile.mkdtemp(prefix="mfm-"))
    cleanup: Callable[[], None] = _nothing
    try:
        core = core_dir(args.metaflow_src, scratch / "src")
        context = load_context(core)
        pairs = generate(core, context, pick(args.tests), pick(args.graphs))
        if not pairs:
            print("error: no pair matches --tests/--graphs", file=sys.stderr)
            return 2
        target = Target(args.runtime, core, prepare_package(core, scratch / "pkg", args.runtime),
                        context, {})
        names = {"metadata": "MetadataCheck", "cli": "CliCheck"}
        unknown = pick(args.checks) - set(names)
        if unknown:
            print(f"error: --checks: unknown checker {', '.join(sorted(unknown))} (metadata, cli)", file=sys.stderr)
            return 2
        target.checkers = tuple(names[c] for c in args.checks.split(",") if c.strip())
        if args.runtime == "core_runtime":
            target.new_database, cleanup = _database_factory(scratch)
        print(f"{len(pairs)} pairs of context {CONTEXT}, runtime {args.runtime}, "
              f"{args.jobs} at a time (Metaflow {commit_of(args.metaflow_src)})", flush=True)
        outcomes = _run_all(pairs, target, scratch / "runs", args.jobs, args.keep)
    finally:
        cleanup()
        shutil.rmtree(scratch, ignore_errors=True)
    _summary(outcomes, args)
    return 0 if all(o.ok for o in outcomes) else 1


def _run_all(pairs: list[Any], target: Target, runs: Path, jobs: int, keep: str | None) -> list[Outcome]:
    outcomes: list[Outcome] = []
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(run_pair, p, target, runs / f"{i:03d}"): i for i, p in enumerate(pairs)}
        for fut in as_completed(futures):
            i = futures[fut]
            out = fut.result()
            outcomes.append(out)
            mark = "pass" if out.ok else f"FAIL ({out.phase})"
            print(f"[{len(outcomes):3d}/{len(pairs)} {time.monotonic() - t0:6.0f}s] {mark:14s} "
                  f"{out.pair.label} ({out.seconds:.1f} s)" + ("" if out.ok else f": {out.reason}"),
                  flush=True)
            workdir = runs / f"{i:03d}"
            if not out.ok and keep:
                dest = Path(keep) / f"{out.pair.test}.{out.pair.graph}"
                shutil.rmtree(dest, ignore_errors=True)
                shutil.copytree(workdir, dest, ignore=shutil.ignore_patterns(".datastore", ".flowscope"))
                (dest / "commands.log").write_text(out.log, encoding="utf-8")
            shutil.rmtree(workdir, ignore_errors=True)
    order = {id(p): n for n, p in enumerate(pairs)}
    return sorted(outcomes, key=lambda o: order[id(o.pair)])


def _summary(outcomes: list[Outcome], args: argparse.Namespace) -> None:
    passed = sum(o.ok for o in outcomes)
    total = len(outcomes)
    print(f"\n{passed}/{total} pairs pass ({100.0 * passed / total:.1f} %) on {args.runtime}; "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    reasons = Counter(f"{o.phase}: {o.reason}" for o in outcomes if not o.ok)
    for reason, n in reasons.most_common():
        print(f"{n:4d}  {reason}")
    if args.json_path:
        Path(args.json_path).write_text(json.dumps({
            "runtime": args.runtime, "passed": passed, "total": total,
            "python": platform.python_version(), "load": os.getloadavg(),
            "pairs": [{"test": o.pair.test, "graph": o.pair.graph, "ok": o.ok, "phase": o.phase,
                       "reason": o.reason, "seconds": round(o.seconds, 2)} for o in outcomes],
        }, indent=1), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
