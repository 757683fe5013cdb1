"""The ``flowscope`` command: serve the UI backend, record the demo runs, watch a run live.

Errors a user can cause (bad settings, unreachable database, a busy port) print one line on
stderr and exit non-zero; no tracebacks.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from backend.settings import backend_settings
from core_runtime.settings import Settings, SettingsError


def _fail(message: str) -> int:
    sys.stderr.write(f"error: {message}\n")
    return 1


def _prepare_database(settings: Settings) -> None:
    """With a writer DSN (or the embedded server): migrate and make sure the reader role exists."""
    from core_runtime.pg import connect_writer, resolve_dsns

    if resolve_dsns(settings).writer is not None:
        connect_writer(settings).close()


def serve(settings: Settings, *, announce: str = "") -> int:
    import asyncio

    from aiohttp import web

    from backend.app import create_app

    _prepare_database(settings)
    host, port = settings.host, int(settings.port)
    url = f"http://{host}:{port}/"

    async def announce_url(_app: web.Application) -> None:
        print(f"{announce}Flowscope is serving at {url}  (API: {url}api/, Ctrl-C to stop)", flush=True)

    app = create_app(settings)
    app.on_startup.append(announce_url)
    try:
        web.run_app(app, host=host, port=port, print=None, shutdown_timeout=5)
    except OSError as exc:
        return _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    except asyncio.CancelledError:
        pass
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="flowscope", description="Flowscope: monitor flow runs live.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_serve = sub.add_parser("serve", help="start the UI backend and print its URL")
    p_demo = sub.add_parser("demo", help="start Postgres, record the example runs, then serve")
    for p in (p_serve, p_demo):
        p.add_argument("--host", help="address to listen on (FLOWSCOPE_HOST, default 127.0.0.1)")
        p.add_argument("--port", type=int, help="port to listen on (FLOWSCOPE_PORT, default 8083)")
    p_demo.add_argument("--examples", default=None, help="directory of example flows (default: examples/)")
    p_demo.add_argument("--no-serve", action="store_true", help="record the example runs and exit")
    p_watch = sub.add_parser("watch", help="follow a run (Flow/Run) or a task's logs (Flow/Run/Step/Task)")
    p_watch.add_argument("pathspec", help="Flow, Flow/Run or Flow/Run/Step/Task")
    p_watch.add_argument("--url", default=None, help="backend URL (default http://FLOWSCOPE_HOST:FLOWSCOPE_PORT)")
    args = parser.parse_args(argv)
    try:
        settings = backend_settings(host=getattr(args, "host", None), port=getattr(args, "port", None))
    except SettingsError as exc:
        return _fail(str(exc))
    from core_runtime.datastore import DatastoreError
    from core_runtime.pg import DatabaseError

    try:
        if args.command == "serve":
            return serve(settings)
        if args.command == "demo":
            from backend.demo import record_examples

            ok = record_examples(settings, args.examples)
            if args.no_serve:
                return 0 if ok else 1
            return serve(settings, announce="demo ready: ")
        from backend.watch import watch

        return watch(settings, args.pathspec, args.url)
    except (DatabaseError, DatastoreError) as exc:
        return _fail(str(exc))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
