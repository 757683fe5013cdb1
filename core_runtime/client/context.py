"""Where the client reads from: settings, one reader connection and the datastore, made lazily.

Metaflow's client is configured globally (``metadata()``, ``namespace()``); this mirrors it with
``configure(settings)``. Without it, settings come from the environment (``load_settings()``).
"""

from __future__ import annotations

import threading
from typing import Any

import psycopg2
import psycopg2.extensions

from contract.datastore import Datastore, open_datastore
from contract.pg.connect import DatabaseError, redact_dsn, resolve_dsns
from contract.settings import Settings, load_settings
from core_runtime.client.errors import FlowscopeClientError

_lock = threading.RLock()
_settings: Settings | None = None
_conn: Any = None
_datastore: Datastore | None = None


def configure(settings: Settings | None) -> None:
    """Read from the database and datastore these settings name (None: from the environment)."""
    global _settings, _datastore
    with _lock:
        _close()
        _settings = settings
        _datastore = None


def current_settings() -> Settings:
    global _settings
    with _lock:
        if _settings is None:
            _settings = load_settings()
        return _settings


def _close() -> None:
    global _conn
    if _conn is not None:
        try:
            _conn.close()
        except psycopg2.Error:
            pass
    _conn = None


def _connect() -> Any:
    settings = current_settings()
    try:
        dsn = resolve_dsns(settings).reader
    except DatabaseError as exc:
        raise FlowscopeClientError(str(exc)) from None
    try:
        conn = psycopg2.connect(dsn, connect_timeout=10)
    except psycopg2.Error as exc:
        first = (str(exc).strip().splitlines() or ["connection failed"])[0]
        raise FlowscopeClientError(f"cannot connect to the database at {redact_dsn(dsn)}: {first}") from None
    conn.autocommit = True
    conn.set_session(readonly=True, autocommit=True)
    return conn


def query(sql: str, args: Any = None) -> list[tuple[Any, ...]]:
    """Run one read query on the shared connection; reconnect once if the connection dropped."""
    global _conn
    with _lock:
        for retry in (False, True):
            if _conn is None or _conn.closed:
                _conn = _connect()
            try:
                with _conn.cursor() as cur:
                    cur.execute(sql, args)
                    return list(cur.fetchall())
            except (psycopg2.OperationalError, psycopg2.InterfaceError):
                _close()
                if retry:
                    raise
    raise AssertionError("unreachable")


def datastore() -> Datastore:
    global _datastore
    with _lock:
        if _datastore is None:
            _datastore = open_datastore(current_settings())
        return _datastore
