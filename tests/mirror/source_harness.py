"""A metaflow-service source for the mirror's tests: its own Postgres, databases, roles, service.

The source server is private to the mirror tests (they restart it) and logs every statement of
the mirror's role with the role's name (``log_line_prefix`` with ``%u``), so a test can read back
exactly what the mirror sent. The role ``mirror_ro`` gets SELECT on the source's tables and
nothing else, as docs/metaflow.md tells operators to grant.
"""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2
import psycopg2.extensions

from bench.mf_source.schema import NEWEST, Names, create_source, create_triggers
from contract.pg.migrate import ensure_reader_role, migrate
from tests.server_procs import free_port, start_server, stop_server

REPO = Path(__file__).resolve().parents[2]
RO_ROLE = "mirror_ro"
RO_PASSWORD = "mirror-ro-pw"


def with_db(dsn: str, dbname: str, **more: str) -> str:
    params = psycopg2.extensions.parse_dsn(dsn)
    params["dbname"] = dbname
    params.update(more)
    return psycopg2.extensions.make_dsn(**params)


@contextmanager
def admin(dsn: str) -> Iterator[Any]:
    """An autocommit connection, closed afterwards (``with psycopg2.connect()`` would open a transaction)."""
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    try:
        yield conn
    finally:
        conn.close()


class SourceServer:
    """A private pgserver; ``restart()`` drops every connection (pg_ctl restart -m fast)."""

    def __init__(self) -> None:
        import pgserver

        self.pgdata = Path(tempfile.mkdtemp(prefix="fsmsrc-"))
        self.server = pgserver.get_server(self.pgdata, cleanup_mode="delete")
        self.dsn = self.server.get_uri()
        with admin(self.dsn) as conn, conn.cursor() as cur:
            cur.execute("ALTER SYSTEM SET log_line_prefix = '%m [%p] %u@%d '")
            cur.execute("SELECT pg_reload_conf()")
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (RO_ROLE,))
            if cur.fetchone() is None:
                cur.execute(f"CREATE ROLE {RO_ROLE} LOGIN PASSWORD %s NOSUPERUSER NOCREATEDB NOCREATEROLE",
                            (RO_PASSWORD,))
            # Every statement the mirror's role sends goes to the server log, with the role's name.
            cur.execute(f"ALTER ROLE {RO_ROLE} SET log_statement = 'all'")

    @property
    def log(self) -> Path:
        return self.pgdata / "log"

    def restart(self) -> None:
        from pgserver._commands import pg_ctl

        pg_ctl(["-w", "restart", "-m", "fast"], pgdata=self.server.pgdata, user=self.server.system_user,
               timeout=60)

    def stop(self) -> None:
        self.server.cleanup()


@dataclass
class SourceDb:
    dbname: str
    admin_dsn: str       # the service's role (it owns and writes the tables)
    reader_dsn: str      # the mirror's SELECT-only role
    names: Names

    def rows(self, sql: str, *params: Any) -> list[dict[str, Any]]:
        with admin(self.admin_dsn) as conn, conn.cursor() as cur:
            cur.execute(sql, params)
            if cur.description is None:
                return []
            cols = [c.name for c in cur.description]
            return [dict(zip(cols, r)) for r in cur.fetchall()]


def make_source(server: SourceServer, *, triggers: bool, names: Names | None = None,
                version: int = NEWEST, label: str = "src") -> SourceDb:
    names = names or Names()
    dbname = f"mf_{label}_{uuid.uuid4().hex[:8]}"
    with admin(server.dsn) as conn, conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{dbname}"')
    dsn = with_db(server.dsn, dbname)
    conn = psycopg2.connect(dsn)
    try:
        create_source(conn, names, version)
        if triggers:
            create_triggers(conn, names)
        with conn.cursor() as cur:
            cur.execute(f'GRANT CONNECT ON DATABASE "{dbname}" TO {RO_ROLE}')
            for schema in dict.fromkeys((names.schema, "public")):
                cur.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO {RO_ROLE}')
                cur.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA "{schema}" TO {RO_ROLE}')
        conn.commit()
    finally:
        conn.close()
    return SourceDb(dbname, dsn, with_db(server.dsn, dbname, user=RO_ROLE, password=RO_PASSWORD), names)


def generated_source(server: SourceServer, runs: int, *, label: str = "gen", version: int = NEWEST,
                     seed: int = 7) -> SourceDb:
    """A source filled by bench.mf_source.generate (COPY), readable by the mirror's role."""
    import time

    from bench.mf_source.generate import Options, generate

    dbname = f"mf_{label}_{uuid.uuid4().hex[:8]}"
    with admin(server.dsn) as conn, conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{dbname}"')
    dsn = with_db(server.dsn, dbname)
    generate(dsn, Options(runs=runs, seed=seed, now_ms=int(time.time() * 1000)), quiet=True, version=version)
    with admin(dsn) as conn, conn.cursor() as cur:
        cur.execute(f'GRANT CONNECT ON DATABASE "{dbname}" TO {RO_ROLE}')
        cur.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {RO_ROLE}")
    return SourceDb(dbname, dsn, with_db(server.dsn, dbname, user=RO_ROLE, password=RO_PASSWORD), Names())


def fresh_flowscope(pg_server_dsn: str, label: str = "mirror") -> tuple[str, str]:
    """A new, migrated Flowscope database: (writer DSN, reader DSN)."""
    from contract.pg.migrate import READER_ROLE

    dbname = f"flowscope_{label}_{uuid.uuid4().hex[:8]}"
    with admin(pg_server_dsn) as conn, conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{dbname}"')
    writer = with_db(pg_server_dsn, dbname)
    with admin(writer) as conn:
        migrate(conn)
        ensure_reader_role(conn)
    params = psycopg2.extensions.parse_dsn(writer)
    params["user"] = READER_ROLE
    params.pop("password", None)
    return writer, psycopg2.extensions.make_dsn(**params)


class V3Service:
    """tests/mirror/v3_service.py as a process: the metadata-service API on a source database."""

    def __init__(self, source: SourceDb, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, PYTHONPATH=str(REPO))
        self.proc = start_server([sys.executable, "-m", "tests.mirror.v3_service", "--dsn", source.admin_dsn,
                                  "--port", str(self.port), "--schema", source.names.schema], env, log,
                                 self.url + "/ping")

    def stop(self) -> None:
        stop_server(self.proc)


def metaflow_env(service: V3Service, sysroot: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("METAFLOW_", "FLOWSCOPE_", "AWS_"))}
    env.update(METAFLOW_DEFAULT_METADATA="service", METAFLOW_SERVICE_URL=service.url,
               METAFLOW_DEFAULT_DATASTORE="local", METAFLOW_DATASTORE_SYSROOT_LOCAL=str(sysroot),
               METAFLOW_USER="tester", USERNAME="tester", PYTHONPATH=str(REPO))
    env.update(extra or {})
    return env
