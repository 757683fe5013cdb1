"""Finding the database: a DSN from the settings, or the embedded server; clear errors when not."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg2
import psycopg2.extensions

from contract.pg.embedded import embedded_dsn
from contract.pg.migrate import READER_ROLE, ensure_reader_role, migrate
from contract.settings import Settings


class DatabaseError(RuntimeError):
    """The database cannot be used; the message says which DSN and why (password redacted)."""


@dataclass(frozen=True)
class Dsns:
    writer: str | None      # None: a reader-only deployment (the UI backend holds no writer DSN)
    reader: str
    embedded: bool


def redact_dsn(dsn: str) -> str:
    """The DSN with any password replaced, for error messages and /api/-/settings."""
    try:
        params = psycopg2.extensions.parse_dsn(dsn)
    except psycopg2.ProgrammingError:
        return "<unparseable DSN>"
    if "password" in params:
        params["password"] = "***"
    return " ".join(f"{k}={v}" for k, v in params.items())


def _reader_from_writer(writer: str) -> str:
    """The reader role on the writer's server and database.

    It keeps the writer's password (if any): connect_writer gives the role that password when
    it creates it, so one DSN is enough for a server where the writer may create roles.
    """
    params = psycopg2.extensions.parse_dsn(writer)
    params["user"] = READER_ROLE
    return str(psycopg2.extensions.make_dsn(**params))


def resolve_dsns(settings: Settings) -> Dsns:
    """Where the writer and the reader connect. Starts the embedded server when no DSN is set."""
    if settings.live_dsn:
        _check_parse(settings.live_dsn, "FLOWSCOPE_LIVE_DSN")
    if not settings.dsn and settings.reader_dsn:
        _check_parse(settings.reader_dsn, "FLOWSCOPE_READER_DSN")
        return Dsns(writer=None, reader=settings.reader_dsn, embedded=False)
    if settings.dsn:
        _check_parse(settings.dsn)
        reader = settings.reader_dsn or _reader_from_writer(settings.dsn)
        return Dsns(writer=settings.dsn, reader=reader, embedded=False)
    try:
        writer = embedded_dsn(settings.home)
    except OSError as exc:     # FLOWSCOPE_HOME is a file, or not writable
        where = f": {exc.filename}" if exc.filename else ""
        raise DatabaseError(f"cannot start the embedded Postgres under FLOWSCOPE_HOME={settings.home}: "
                            f"{exc.strerror or exc}{where}") from None
    reader = settings.reader_dsn or _reader_from_writer(writer)
    return Dsns(writer=writer, reader=reader, embedded=True)


def _check_parse(dsn: str, name: str = "FLOWSCOPE_DSN") -> None:
    try:
        psycopg2.extensions.parse_dsn(dsn)
    except psycopg2.ProgrammingError as exc:
        raise DatabaseError(f"{name} is not a valid Postgres DSN: {exc}".strip()) from None


def connect(dsn: str, *, what: str = "database") -> Any:
    try:
        return psycopg2.connect(dsn, connect_timeout=10)
    except psycopg2.OperationalError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "connection failed"
        raise DatabaseError(f"cannot connect to the {what} at {redact_dsn(dsn)}: {first}") from None
    except psycopg2.ProgrammingError as exc:
        raise DatabaseError(f"invalid DSN for the {what}: {exc}".strip()) from None


def connect_writer(settings: Settings, *, prepare: bool = True) -> Any:
    """A psycopg2 connection as the writer, with the schema migrated (and the reader role made)."""
    dsns = resolve_dsns(settings)
    if dsns.writer is None:
        raise DatabaseError("this command writes to the database: set FLOWSCOPE_DSN (the writer role)")
    conn = connect(dsns.writer, what="Postgres (writer)")
    conn.autocommit = True
    if prepare:
        migrate(conn)
        reader = psycopg2.extensions.parse_dsn(dsns.reader)
        if reader.get("user") == READER_ROLE:
            try:
                ensure_reader_role(conn, password=reader.get("password"))
            except psycopg2.Error:
                # No CREATEROLE on an external server: the operator provides FLOWSCOPE_READER_DSN.
                conn.rollback()
    return conn
