"""The embedded Postgres: a private server from the ``pgserver`` wheel.

The data directory lives under FLOWSCOPE_HOME/pgdata and is reused by every command. pgserver
shares one running server between the processes that use the same directory and stops it when
the last of them exits, so a flow run, the UI backend and the tests can use it side by side.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

_servers: dict[str, Any] = {}


def embedded_dsn(home: str) -> str:
    """Start (or attach to) the embedded server and return a superuser DSN for it."""
    pgdata = Path(home) / "pgdata"
    key = str(pgdata)
    if key not in _servers:
        try:
            with warnings.catch_warnings():
                # platformdirs warns when XDG_RUNTIME_DIR is unset; pgserver does not need it
                warnings.simplefilter("ignore")
                import pgserver  # imported lazily: only the embedded mode needs it
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise RuntimeError(
                "no FLOWSCOPE_DSN is set and the pgserver package is not installed; "
                "install it (pip install pgserver) or set FLOWSCOPE_DSN"
            ) from exc
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        _servers[key] = pgserver.get_server(pgdata, cleanup_mode="stop")  # type: ignore[attr-defined]
    uri: str = _servers[key].get_uri()
    return uri
