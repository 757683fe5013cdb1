"""Fixtures of a fresh, migrated database, reusable per test directory.

The root conftest installs one set for the whole suite; a directory whose tests assert on the
whole database's contents (the browser tests: "no runs yet", "exactly these two tagged runs")
installs its own set, so runs recorded by other directories cannot leak into its views.
Each set has its own fixture definitions, hence its own session cache.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg2
import psycopg2.extensions
import pytest

from contract.pg.migrate import READER_ROLE, ensure_reader_role, migrate
from contract.settings import Settings, load_settings

REPO = Path(__file__).resolve().parent.parent


def _with_db(dsn: str, dbname: str) -> str:
    params = psycopg2.extensions.parse_dsn(dsn)
    params["dbname"] = dbname
    return psycopg2.extensions.make_dsn(**params)


def database_fixtures(label: str) -> dict[str, Callable[..., Any]]:
    """pg_dsn, pg_reader_dsn, flowscope_home, settings, flowscope_env and db for one database."""

    @pytest.fixture(scope="session")
    def pg_dsn(pg_server_dsn: str) -> Iterator[str]:
        """Writer DSN of a fresh, migrated database."""
        dbname = f"flowscope_{label}_{uuid.uuid4().hex[:8]}"
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
        return tmp_path_factory.mktemp(f"flowscope-home-{label}")

    @pytest.fixture(scope="session")
    def settings(pg_dsn: str, pg_reader_dsn: str, flowscope_home: Path) -> Settings:
        """Settings pointing at this database and a temporary local datastore."""
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
        """Environment for subprocesses (python flow.py run …) that should use this database."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWSCOPE_")}
        env.update(
            FLOWSCOPE_HOME=settings.home,
            FLOWSCOPE_DSN=settings.dsn,
            FLOWSCOPE_READER_DSN=settings.reader_dsn,
            FLOWSCOPE_DATASTORE=settings.datastore,
            FLOWSCOPE_USER="tester",
            # spin keeps its results under the current directory by default: not in the repo
            FLOWSCOPE_SPIN_DIR=str(Path(settings.home) / "spin"),
            PYTHONPATH=str(REPO) + os.pathsep + env.get("PYTHONPATH", ""),
        )
        return env

    @pytest.fixture()
    def db(pg_dsn: str) -> Iterator[Any]:
        """A writer connection (autocommit) to this database."""
        conn = psycopg2.connect(pg_dsn)
        conn.autocommit = True
        yield conn
        conn.close()

    return {"pg_dsn": pg_dsn, "pg_reader_dsn": pg_reader_dsn, "flowscope_home": flowscope_home,
            "settings": settings, "flowscope_env": flowscope_env, "db": db}
