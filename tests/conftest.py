"""The test harness: a real, throwaway Postgres for the whole session.

Starts a private server from the pgserver wheel in a temporary directory, unless
FLOWSCOPE_TEST_DSN names a server to use (it must allow CREATE DATABASE). The suite gets a
fresh database with the schema migrated and the reader role granted (fixtures from
pg_harness.py: pg_dsn, pg_reader_dsn, flowscope_home, settings, flowscope_env, db).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from pg_harness import database_fixtures


@pytest.fixture(scope="session")
def pg_server_dsn() -> Iterator[str]:
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


globals().update(database_fixtures("test"))
