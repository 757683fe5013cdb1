"""The UI backend's role can read and nothing else, checked at the database itself."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg2
import pytest

ATTEMPTS = [
    "INSERT INTO flows (flow_id, created_at) VALUES ('Evil', 0)",
    "UPDATE runs SET status = 'failed'",
    "DELETE FROM tasks",
    "TRUNCATE log_chunks",
    "CREATE TABLE evil (x int)",
    "CREATE FUNCTION evil() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    "ALTER TABLE runs ADD COLUMN evil int",
    "DROP TABLE cards",
    "SELECT nextval('change_seq')",
    "SELECT setval('change_seq', 1)",
    "CREATE ROLE evil",
    "COPY flows FROM STDIN",
]


@pytest.fixture()
def reader(pg_reader_dsn: str) -> Iterator[Any]:
    conn = psycopg2.connect(pg_reader_dsn)
    conn.autocommit = True
    yield conn
    conn.close()


@pytest.mark.parametrize("sql", ATTEMPTS)
def test_reader_cannot_write(reader: Any, sql: str) -> None:
    # Layer 1: the role's sessions are read-only by default (25006)...
    with reader.cursor() as cur, pytest.raises(psycopg2.Error) as first:
        cur.execute(sql)
    assert first.value.pgcode in ("25006", "42501"), (sql, first.value.pgcode, first.value)
    # ...layer 2: a session that switches that off still lacks the privileges (42501).
    with reader.cursor() as cur:
        cur.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE")
    with reader.cursor() as cur, pytest.raises(psycopg2.Error) as failure:
        cur.execute(sql)
    assert failure.value.pgcode == "42501" or "must be owner" in str(failure.value), \
        (sql, failure.value.pgcode, failure.value)


def test_reader_can_read_and_is_not_privileged(reader: Any) -> None:
    with reader.cursor() as cur:
        cur.execute("SELECT count(*) FROM runs")
        assert cur.fetchone()[0] >= 0
        cur.execute("SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls FROM pg_roles "
                    "WHERE rolname = current_user")
        assert cur.fetchone() == (False, False, False, False)
        cur.execute("SELECT count(*) FROM information_schema.table_privileges "
                    "WHERE grantee = current_user AND privilege_type <> 'SELECT'")
        assert cur.fetchone()[0] == 0


def test_reader_cannot_grant(reader: Any) -> None:
    """GRANT without grant option is only a warning in Postgres: check that nothing was granted."""
    with reader.cursor() as cur:
        cur.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE")
        try:
            cur.execute("GRANT SELECT, INSERT ON runs TO PUBLIC")
        except psycopg2.Error:
            pass
        cur.execute("SELECT count(*) FROM information_schema.table_privileges "
                    "WHERE grantee = 'PUBLIC' AND table_name = 'runs'")
        assert cur.fetchone()[0] == 0
