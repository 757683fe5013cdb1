"""The metaflow-service database, read-only: connections, the schema check, typed reads.

Every session is opened read-only (``default_transaction_read_only``) with a statement timeout,
on top of the SELECT-only role the operator grants: a write, a ``FOR UPDATE``, DDL or a temp
table is refused by Postgres itself. Statements are the SELECTs of ``source_sql`` and LISTEN.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiopg
import orjson
import psycopg2
import psycopg2.extensions
import psycopg2.extras

from backend.mirror.source_sql import REQUIRED_COLUMNS, SUPPORTED_VERSIONS, Names, SourceSql
from contract.pg.connect import redact_dsn

log = logging.getLogger(__name__)
Row = dict[str, Any]
STATEMENT_TIMEOUT_MS = 30_000


class SchemaRefused(RuntimeError):
    """The source is not a metaflow-service database this mirror can read (never retried)."""


class SourceUnavailable(RuntimeError):
    """The source database cannot be reached right now (retried with backoff)."""


_DOWN = (psycopg2.OperationalError, psycopg2.InterfaceError, OSError, TimeoutError)


@dataclass(frozen=True)
class SourceInfo:
    version: int
    metadata_value_jsonb: bool
    triggers: tuple[str, ...]        # notify_ui_* triggers found on the source's tables


def check_source_dsn(dsn: str) -> None:
    """A ValueError naming the option and the variable when the source DSN cannot be parsed."""
    try:
        psycopg2.extensions.parse_dsn(dsn)
    except psycopg2.ProgrammingError as exc:
        raise ValueError("the source DSN (--source or FLOWSCOPE_MIRROR_SOURCE) is not a valid "
                         f"Postgres DSN: {exc}".strip()) from None


def session_dsn(dsn: str) -> str:
    """The DSN with the session settings every mirror connection uses."""
    params = psycopg2.extensions.parse_dsn(dsn)
    opts = params.get("options", "")
    params["options"] = (f"{opts} -c default_transaction_read_only=on "
                         f"-c statement_timeout={STATEMENT_TIMEOUT_MS}").strip()
    params.setdefault("application_name", "flowscope-mirror")
    params.setdefault("connect_timeout", "10")
    return str(psycopg2.extensions.make_dsn(**params))


async def _fast_jsonb(conn: Any) -> None:
    # tags and system_tags are jsonb on most rows: orjson decodes them several times faster.
    psycopg2.extras.register_default_jsonb(conn.raw, loads=orjson.loads)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def goose_version(rows: list[tuple[int, bool]]) -> int | None:
    """The applied version from goose_db_version rows (newest first), as goose reads it.

    A row with is_applied = false records a rollback of that version: older rows of the same
    version no longer count.
    """
    rolled_back: set[int] = set()
    for version, applied in rows:
        if version in rolled_back:
            continue
        if applied:
            return version
        rolled_back.add(version)
    return None


class Source:
    def __init__(self, dsn: str, names: Names) -> None:
        self.dsn = dsn
        self.names = names
        self.where = redact_dsn(dsn)
        self.sql = SourceSql(names)
        self.info: SourceInfo | None = None
        self._pool: aiopg.Pool | None = None
        self.queries = 0          # statements issued (the mirror's load on the source)

    async def open(self) -> None:
        try:
            self._pool = await aiopg.create_pool(session_dsn(self.dsn), minsize=1, maxsize=3, timeout=60.0,
                                                 on_connect=_fast_jsonb)
        except _DOWN as exc:
            raise SourceUnavailable(f"cannot connect to {self.where}: {_first_line(exc)}") from None

    async def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            await self._pool.wait_closed()
            self._pool = None

    async def all(self, sql: str, params: tuple[Any, ...] = ()) -> list[Row]:
        if self._pool is None:
            raise SourceUnavailable(f"not connected to {self.where}")
        self.queries += 1
        try:
            async with self._pool.acquire() as conn, conn.cursor() as cur:
                await cur.execute(sql, params)
                if cur.description is None:
                    return []
                names = [d[0] for d in cur.description]
                # Plain tuples zipped with the names: RealDictCursor builds rows item by item.
                return [dict(zip(names, r)) for r in await cur.fetchall()]
        except _DOWN as exc:
            raise SourceUnavailable(f"{self.where}: {_first_line(exc)}") from None

    async def one(self, sql: str, params: tuple[Any, ...] = ()) -> Row | None:
        rows = await self.all(sql, params)
        return rows[0] if rows else None

    @asynccontextmanager
    async def listener(self) -> AsyncIterator[Any]:
        """A connection LISTENing on the 'notify' channel of Metaflow UI's triggers."""
        try:
            conn = await aiopg.connect(session_dsn(self.dsn), timeout=60.0)
            async with conn.cursor() as cur:
                await cur.execute("LISTEN notify")
        except _DOWN as exc:
            raise SourceUnavailable(f"cannot LISTEN on {self.where}: {_first_line(exc)}") from None
        self.queries += 1
        try:
            yield conn
        except _DOWN as exc:
            raise SourceUnavailable(f"{self.where}: {_first_line(exc)}") from None
        finally:
            conn.close()

    # -- the schema check -------------------------------------------------------------------

    async def check(self) -> SourceInfo:
        """Refuse anything but a known metaflow-service schema (SchemaRefused names what was found)."""
        n = self.names
        found = await self._goose_version()
        if found not in SUPPORTED_VERSIONS:
            raise SchemaRefused(
                f"the metaflow-service database at {self.where} has schema version {found} "
                f"(goose_db_version); this mirror reads versions {', '.join(map(str, SUPPORTED_VERSIONS))}. "
                "Nothing was mirrored.")
        cols = await self.all(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = ANY(%s)",
            (n.schema, [getattr(n, t) for t in REQUIRED_COLUMNS]))
        have: dict[str, dict[str, str]] = {}
        for c in cols:
            have.setdefault(c["table_name"], {})[c["column_name"]] = c["data_type"]
        for key, needed in REQUIRED_COLUMNS.items():
            table = getattr(n, key)
            if table not in have:
                raise SchemaRefused(f"table {n.schema}.{table} not found (or not readable) in {self.where}; "
                                    f"set FLOWSCOPE_MIRROR_SCHEMA / FLOWSCOPE_MIRROR_TABLE_{key.upper()} if the "
                                    "deployment renamed it")
            missing = [c for c in needed if c not in have[table]]
            if missing:
                raise SchemaRefused(f"table {n.schema}.{table} in {self.where} lacks column(s) "
                                    f"{', '.join(missing)}: not a metaflow-service schema this mirror reads")
        jsonb_value = have[n.metadata]["value"] == "jsonb"
        self.sql = SourceSql(n, metadata_value_jsonb=jsonb_value)
        triggers = await self.all(
            "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = %s AND c.relname = ANY(%s) "
            "AND t.tgname LIKE 'notify\\_ui\\_%%' AND NOT t.tgisinternal",
            (n.schema, [n.runs, n.tasks, n.metadata]))
        self.info = SourceInfo(found, jsonb_value, tuple(sorted(r["tgname"] for r in triggers)))
        return self.info

    async def _goose_version(self) -> int | None:
        for schema in dict.fromkeys((self.names.schema, "public")):
            try:
                rows = await self.all(f'SELECT version_id, is_applied FROM "{schema}".goose_db_version '
                                      "ORDER BY id DESC")
            except psycopg2.errors.UndefinedTable:
                continue
            except psycopg2.errors.InsufficientPrivilege as exc:
                raise SchemaRefused(f"cannot read {schema}.goose_db_version in {self.where}: "
                                    f"{str(exc).strip()} (grant SELECT on it to the mirror's role)") from None
            return goose_version([(int(r["version_id"]), bool(r["is_applied"])) for r in rows])
        raise SchemaRefused(f"no goose_db_version table in schema {self.names.schema} (or public) of "
                            f"{self.where}: is this a metaflow-service database?")
