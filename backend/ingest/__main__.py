"""``python -m backend.ingest [--host H] [--port P]``: the ingest service on its own."""

from __future__ import annotations

import argparse
import logging
import sys

from aiohttp import web

from backend.ingest.app import create_ingest_app
from contract.pg import DatabaseError
from contract.settings import SettingsError, load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backend.ingest",
                                     description="Metaflow metadata-service API writing into Flowscope.")
    parser.add_argument("--host", help="listen address (default FLOWSCOPE_INGEST_HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default FLOWSCOPE_INGEST_PORT or 8084)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings(ingest_host=args.host, ingest_port=args.port)
    except SettingsError as exc:   # a bad --port is the option's fault, not the variable's
        message = str(exc)
        for option, value, variable in (("--host", args.host, "FLOWSCOPE_INGEST_HOST"),
                                         ("--port", args.port, "FLOWSCOPE_INGEST_PORT")):
            if value is not None and message.startswith(f"{variable}="):
                message = f"{option} {value}: {message.split(': ', 1)[1]}"
        print(f"flowscope ingest: {message}", file=sys.stderr)
        return 2
    try:
        app = create_ingest_app(settings)
        web.run_app(app, host=settings.ingest_host, port=settings.ingest_port,
                    print=lambda msg: print(msg, flush=True), access_log=None)
    except (SettingsError, DatabaseError) as exc:
        print(f"flowscope ingest: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:   # the port is in use, or the address is not this machine's
        print(f"flowscope ingest: cannot listen on {settings.ingest_host}:{settings.ingest_port}: "
              f"{exc.strerror or exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

