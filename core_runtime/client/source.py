"""Where client objects read from: a ``Source`` answers the client's named queries and gives the
datastore that holds their artifacts and logs.

``PgSource`` is the normal one (Flowscope's Postgres through the SELECT-only role, and the
configured datastore). ``SpinSource`` (client/spin_source.py) reads what ``spin --persist`` kept in
a local directory. A client object keeps the source it was read from, and so do the objects it
hands out (``run["train"].task`` reads where ``run`` was read), like Metaflow's per-object
``_current_metadata``.
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import Any, Protocol

import psycopg2
import psycopg2.extensions

from contract.datastore import Datastore, open_datastore
from contract.pg.connect import DatabaseError, redact_dsn, resolve_dsns
from contract.settings import Settings
from core_runtime.client.errors import FlowscopeClientError


class Source(Protocol):
    def query(self, sql: str, args: Any = None) -> list[tuple[Any, ...]]:
        """Rows of one of the queries in client/queries.py."""
        ...

    def datastore(self) -> Datastore:
        ...

    def describe(self) -> str:
        """Metaflow's metadata string for this source (``flowscope@…``, ``spin@…``)."""
        ...

    def mutate_run_tags(self, flow: str, run_id: str, remove: list[str], add: list[str]) -> frozenset[str]:
        """Change a run's user tags (client/tags.py); returns the new user tags."""
        ...

    def close(self) -> None:
        ...


class PgSource:
    """Flowscope's Postgres (reader DSN) and datastore, as ``settings`` name them; connects lazily."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.RLock()
        self._conn: Any = None
        self._datastore: Datastore | None = None
        _SOURCES.add(self)

    def _forget_after_fork(self) -> None:
        """In a forked child (the runtime forks every task from the launcher, which may have read
        through the client, e.g. in a parameter's default or for --trigger): never use or close
        the parent's connection — two processes on one socket corrupt both sessions, and closing
        it would end the parent's — but keep it referenced so it is not closed when collected."""
        if self._conn is not None:
            _INHERITED.append(self._conn)
            self._conn = None
        self._lock = threading.RLock()

    def _dsn(self) -> str:
        try:
            return str(resolve_dsns(self.settings).reader)
        except DatabaseError as exc:
            raise FlowscopeClientError(str(exc)) from None

    def _connect(self) -> Any:
        dsn = self._dsn()
        try:
            conn = psycopg2.connect(dsn, connect_timeout=10)
        except psycopg2.Error as exc:
            first = (str(exc).strip().splitlines() or ["connection failed"])[0]
            raise FlowscopeClientError(f"cannot connect to the database at {redact_dsn(dsn)}: "
                                       f"{first}") from None
        conn.set_session(readonly=True, autocommit=True)
        return conn

    def query(self, sql: str, args: Any = None) -> list[tuple[Any, ...]]:
        """One read query on the source's connection; reconnects once if the connection dropped."""
        with self._lock:
            for retry in (False, True):
                if self._conn is None or self._conn.closed:
                    self._conn = self._connect()
                try:
                    with self._conn.cursor() as cur:
                        cur.execute(sql, args)
                        return list(cur.fetchall())
                except (psycopg2.OperationalError, psycopg2.InterfaceError):
                    self.close()
                    if retry:
                        raise
        raise AssertionError("unreachable")

    def datastore(self) -> Datastore:
        with self._lock:
            if self._datastore is None:
                self._datastore = open_datastore(self.settings)
            return self._datastore

    def describe(self) -> str:
        return f"flowscope@{redact_dsn(self._dsn())}"

    def mutate_run_tags(self, flow: str, run_id: str, remove: list[str], add: list[str]) -> frozenset[str]:
        from contract.pg.connect import connect
        from core_runtime.client.errors import FlowscopeTaggingError
        from core_runtime.client.tags import mutate_run_tags

        try:
            writer = resolve_dsns(self.settings).writer
        except DatabaseError as exc:
            raise FlowscopeClientError(str(exc)) from None
        if writer is None:
            raise FlowscopeTaggingError("changing a run's tags writes to the database: set FLOWSCOPE_DSN "
                                        "(the writer role); the client reads with the SELECT-only one")
        try:
            conn = connect(writer, what="Postgres (writer)")
        except DatabaseError as exc:
            raise FlowscopeClientError(str(exc)) from None
        try:
            return mutate_run_tags(conn, flow, run_id, remove, add)
        finally:
            conn.close()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                try:
                    self._conn.close()
                except psycopg2.Error:
                    pass
            self._conn = None


_SOURCES: weakref.WeakSet[PgSource] = weakref.WeakSet()
_INHERITED: list[Any] = []   # the parent's connections, in a forked child: kept, never used


def _after_fork_in_child() -> None:
    for source in list(_SOURCES):
        source._forget_after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)
