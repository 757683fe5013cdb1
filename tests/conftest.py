"""The test harness: a real, throwaway Postgres for the whole session.

Starts a private server from the pgserver wheel in a temporary directory, unless
FLOWSCOPE_TEST_DSN names a server to use (it must allow CREATE DATABASE). Either way the
session gets a fresh database with the schema migrated and the reader role granted.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path
from typing import Any, Iterator

import psycopg2
import psycopg2.extensions
import pytest

from core_runtime.pg.migrate import READER_ROLE, ensure_reader_role, migrate
from core_runtime.settings import Settings, load_settings

REPO = Path(__file__).resolve().parent.parent


def _with_db(dsn: str, dbname: str, **extra: str) -> str:
    params = psycopg2.extensions.parse_dsn(dsn)
    params["dbname"] = dbname
    params.update(extra)
    return psycopg2.extensions.make_dsn(**params)


@pytest.fixture(scope="session")
def pg_server_dsn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A superuser DSN of the session's Postgres server."""
    given = os.environ.get("FLOWSCOPE_TEST_DSN")
    if given:
        yield given
        return
    import pgserver

    # Unix socket paths are limited to ~100 bytes: keep the data dir short.
    pgdata = Path(tempfile.mkdtemp(prefix="fspg-"))
    server = pgserver.get_server(pgdata, cleanup_mode="delete")
    yield server.get_uri()
    server.cleanup()


@pytest.fixture(scope="session")
def pg_dsn(pg_server_dsn: str) -> Iterator[str]:
    """Writer DSN of a fresh, migrated database for this test session."""
    dbname = f"flowscope_test_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(pg_server_dsn)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{dbname}"')
    dsn = _with_db(pg_server_dsn, dbname)
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    migrate(conn)
    ensure_reader_role(conn)
    conn.close()
    yield dsn
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
    admin.close()


@pytest.fixture(scope="session")
def pg_reader_dsn(pg_dsn: str) -> str:
    params = psycopg2.extensions.parse_dsn(pg_dsn)
    params["user"] = READER_ROLE
    params.pop("password", None)
    return psycopg2.extensions.make_dsn(**params)


@pytest.fixture(scope="session")
def flowscope_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("flowscope-home")


@pytest.fixture(scope="session")
def settings(pg_dsn: str, pg_reader_dsn: str, flowscope_home: Path) -> Settings:
    """Settings pointing at the session database and a temporary local datastore."""
    return load_settings(
        {},
        home=str(flowscope_home),
        dsn=pg_dsn,
        reader_dsn=pg_reader_dsn,
        datastore=str(flowscope_home / "datastore"),
        user="tester",
    )


@pytest.fixture(scope="session")
def flowscope_env(settings: Settings) -> dict[str, str]:
    """Environment for subprocesses (python flow.py run …) that should use the test database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWSCOPE_")}
    env.update(
        FLOWSCOPE_HOME=settings.home,
        FLOWSCOPE_DSN=settings.dsn,
        FLOWSCOPE_READER_DSN=settings.reader_dsn,
        FLOWSCOPE_DATASTORE=settings.datastore,
        FLOWSCOPE_USER="tester",
        PYTHONPATH=str(REPO) + os.pathsep + env.get("PYTHONPATH", ""),
    )
    return env


@pytest.fixture()
def db(pg_dsn: str) -> Iterator[Any]:
    """A writer connection (autocommit) to the session database."""
    conn = psycopg2.connect(pg_dsn)
    conn.autocommit = True
    yield conn
    conn.close()
