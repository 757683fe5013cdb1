"""The ``flowscope`` command: serve the UI backend, record the demo runs, watch a run live,
print a run's summary.

Errors a user can cause (bad settings, unreachable database, a busy port) print one line on
stderr and exit non-zero; no tracebacks.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from contract.settings import Settings, SettingsError, env_name, load_settings

if TYPE_CHECKING:
    from backend.workers import Workers


def _fail(message: str) -> int:
    sys.stderr.write(f"error: {message}\n")
    return 1


def _prepare_database(settings: Settings) -> None:
    """With a writer DSN (or the embedded server): migrate and make sure the reader role exists."""
    from contract.pg import connect_writer, resolve_dsns

    if resolve_dsns(settings).writer is not None:
        connect_writer(settings).close()


def serve(settings: Settings, *, announce: str = "", ingest: bool = True, reuse_port: bool = False) -> int:
    """Serve the UI API (and, with a writer DSN, the Metaflow ingest service) until Ctrl-C.

    With FLOWSCOPE_WORKERS > 1 this process also starts the other workers (backend/workers.py),
    which serve the UI API on the same port; the ingest service and the mirror run here only.
    """
    import asyncio

    from backend.sandbox.probe import make_undumpable
    from contract.pg import resolve_dsns

    if settings.mirror_source:
        from backend.mirror.source import check_source_dsn

        try:
            check_source_dsn(settings.mirror_source)
        except ValueError as exc:
            return _fail(str(exc))
    _prepare_database(settings)
    # Same-uid processes (an artifact sandbox without its own uid, a compromised neighbour) can
    # then no longer read this process's environment or memory through /proc or ptrace.
    make_undumpable()
    with_ingest = ingest and resolve_dsns(settings).writer is not None
    if settings.mirror_source and resolve_dsns(settings).writer is None:
        return _fail("FLOWSCOPE_MIRROR_SOURCE is set: the mirror writes into Flowscope's database, set "
                     "FLOWSCOPE_DSN (the writer role) too, or run `flowscope mirror` where it is set")
    workers = None
    if settings.workers > 1 and not reuse_port:   # --reuse-port: one of the workers (or run by hand)
        from backend.workers import Workers

        workers = Workers(settings)
        reuse_port = True
    from backend.event_loop import loop_factory

    try:
        with asyncio.Runner(loop_factory=loop_factory(settings.uvloop)) as runner:
            runner.run(_serve_forever(settings, announce, with_ingest, reuse_port, workers))
    except OSError as exc:
        return _fail(f"cannot listen: {exc.strerror or exc}")
    except (asyncio.CancelledError, KeyboardInterrupt):
        pass
    finally:
        if workers is not None:
            workers.stop()
    return 0


def _freeze_startup() -> None:
    """What start-up made (modules, the app, routes, pools) lives as long as the process: collected
    once, then moved out of the collector's generations (``gc.freeze``), so a full collection while
    serving walks only what serving made since, with the event loop stopped: 20-47 ms instead of
    51-65 at 32 clients (docs/benchmarks.md, "cpu19"). ``/api/-/status`` shows the count
    (``process.gc_frozen``)."""
    import gc

    gc.collect()
    gc.freeze()


async def _serve_forever(settings: Settings, announce: str, with_ingest: bool, reuse_port: bool = False,
                         workers: Workers | None = None) -> None:
    """One event loop, two sites: the read-only UI API and the ingest service on its own port.

    They are separate aiohttp applications so the UI app never holds the writer pool.
    """
    import asyncio
    import signal

    from aiohttp import web

    from backend.app import create_app

    runners: list[web.AppRunner] = []
    mirror: asyncio.Task[int] | None = None
    try:
        ui = web.AppRunner(create_app(settings), handle_signals=False, shutdown_timeout=5)
        # Listed before setup: a start-up that fails half-way (an unreachable FLOWSCOPE_LIVE_DSN
        # after the reader pool is open) is cleaned up too; cleanup() closes what setup opened.
        runners.append(ui)
        await ui.setup()
        _freeze_startup()     # before the first request
        await web.TCPSite(ui, settings.host, settings.port, reuse_port=reuse_port or None).start()
        url = f"http://{settings.host}:{settings.port}/"
        if workers is not None:
            await workers.start()   # once this process listens: a busy port fails here first
            announce += f"{settings.workers} processes: "
        print(f"{announce}Flowscope is serving at {url}  (API: {url}api/, Ctrl-C to stop)", flush=True)
        if with_ingest:
            from backend.ingest import create_ingest_app

            ingest = web.AppRunner(create_ingest_app(settings), handle_signals=False, access_log=None)
            runners.append(ingest)
            await ingest.setup()
            await web.TCPSite(ingest, settings.ingest_host, settings.ingest_port).start()
            print(f"Metaflow ingest service at http://{settings.ingest_host}:{settings.ingest_port}/"
                  "  (METAFLOW_SERVICE_URL, see docs/metaflow.md)", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        orphan_watch = None
        if reuse_port and workers is None:
            from backend.workers import exit_with_parent

            orphan_watch = asyncio.create_task(exit_with_parent(stop), name="worker-parent")
        if settings.mirror_source:
            # In this event loop, beside the sites: its state goes to /api/-/status like a
            # separate `flowscope mirror` process's would.
            from backend.mirror.mirror import Mirror

            mirror = asyncio.create_task(Mirror(settings).run(stop), name="mirror")
            print(f"Mirroring the metaflow-service database {_where(settings.mirror_source)}", flush=True)
        await stop.wait()
        if orphan_watch is not None:
            orphan_watch.cancel()
    finally:
        if mirror is not None:
            await asyncio.wait({mirror}, timeout=15)
        for runner in reversed(runners):
            await runner.cleanup()


def _where(dsn: str) -> str:
    from contract.pg.connect import redact_dsn

    return redact_dsn(dsn)


def migrate(settings: Settings) -> int:
    """Apply the schema migrations and create the reader role, then exit (for deployments)."""
    from contract.pg import connect_writer, resolve_dsns

    if resolve_dsns(settings).writer is None:
        return _fail("flowscope migrate needs FLOWSCOPE_DSN (the writer role)")
    connect_writer(settings).close()
    print("schema is up to date", flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="flowscope", description="Flowscope: monitor flow runs live.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_serve = sub.add_parser("serve", help="start the UI backend and print its URL")
    p_demo = sub.add_parser("demo", help="start Postgres, record the example runs, then serve")
    for p in (p_serve, p_demo):
        p.add_argument("--host", help="address to listen on (FLOWSCOPE_HOST, default 127.0.0.1)")
        p.add_argument("--port", type=int, help="port to listen on (FLOWSCOPE_PORT, default 8083)")
    p_serve.add_argument("--no-ingest", action="store_true",
                         help="do not start the Metaflow ingest service (FLOWSCOPE_INGEST_PORT)")
    p_serve.add_argument("--workers", type=int, default=None,
                         help="UI backend processes sharing the port (FLOWSCOPE_WORKERS, default 1)")
    p_serve.add_argument("--reuse-port", action="store_true",
                         help="listen with SO_REUSEPORT, so that other `serve --reuse-port` processes "
                              "can share the port (what --workers does for you)")
    p_demo.add_argument("--examples", default=None, help="directory of example flows (default: the shipped examples/)")
    p_demo.add_argument("--no-serve", action="store_true", help="record the example runs and exit")
    p_watch = sub.add_parser("watch", help="follow a run (Flow/Run) or a task's logs (Flow/Run/Step/Task)")
    p_watch.add_argument("pathspec", help="Flow, Flow/Run or Flow/Run/Step/Task")
    p_watch.add_argument("--url", default=None, help="backend URL (default http://FLOWSCOPE_HOST:FLOWSCOPE_PORT)")
    p_summary = sub.add_parser("summary", help="print a run's summary (Flow/Run) as Markdown")
    p_summary.add_argument("pathspec", help="the run, as Flow/RunId")
    p_summary.add_argument("--url", default=None, help="backend URL (default http://FLOWSCOPE_HOST:FLOWSCOPE_PORT)")
    p_summary.add_argument("--json", action="store_true", help="print the JSON summary instead")
    sub.add_parser("migrate", help="apply the schema migrations and create the reader role")
    p_mirror = sub.add_parser("mirror", help="mirror an existing metaflow-service database (read-only) into "
                                             "Flowscope: backfill, then follow it live")
    p_mirror.add_argument("--source", default=None,
                          help="DSN of the metaflow-service database (default FLOWSCOPE_MIRROR_SOURCE)")
    p_mirror.add_argument("--backfill-only", action="store_true", help="stop once the history is copied")
    p_mirror.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    options = {name: getattr(args, name, None) for name in ("host", "port", "workers")}
    try:
        settings = load_settings(**options)
    except SettingsError as exc:
        message = str(exc)
        for name, value in options.items():   # a bad --port is the option's fault, not the variable's
            if value is not None and message.startswith(f"{env_name(name)}="):
                message = f"--{name} {value}: {message.split(': ', 1)[1]}"
        return _fail(message)
    from contract.datastore import DatastoreError
    from contract.pg import DatabaseError

    try:
        if args.command == "serve":
            return serve(settings, ingest=not args.no_ingest, reuse_port=args.reuse_port)
        if args.command == "migrate":
            return migrate(settings)
        if args.command == "mirror":
            from backend.mirror.cli import run_mirror

            if not (args.source or settings.mirror_source):
                return _fail("flowscope mirror needs --source DSN (or FLOWSCOPE_MIRROR_SOURCE)")
            try:
                return run_mirror(settings, args.source, backfill_only=args.backfill_only, quiet=args.quiet)
            except ValueError as exc:
                return _fail(str(exc))
        if args.command == "demo":
            from backend.demo import record_examples

            ok = record_examples(settings, args.examples)
            if args.no_serve:
                return 0 if ok else 1
            return serve(settings, announce="demo ready: ")
        if args.command == "summary":
            from backend.summary_cli import summary

            return summary(settings, args.pathspec, args.url, args.json)
        from backend.watch import watch

        return watch(settings, args.pathspec, args.url)
    except (DatabaseError, DatastoreError) as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
