"""Finding the database: DSN resolution and the errors a user sees."""

from __future__ import annotations

import socket
from pathlib import Path

import psycopg2
import pytest

from contract.pg.connect import DatabaseError, connect_writer, redact_dsn, resolve_dsns
from contract.settings import load_settings


def test_bad_dsn_is_named():
    settings = load_settings({}, dsn="this is = not a dsn ===")
    with pytest.raises(DatabaseError, match="FLOWSCOPE_DSN is not a valid Postgres DSN"):
        resolve_dsns(settings)


def test_bad_live_dsn_is_named() -> None:
    """FLOWSCOPE_LIVE_DSN is checked with the others at start-up (it was a psycopg2 traceback from
    the live feed's first connection, after the server had started)."""
    settings = load_settings({}, dsn="postgresql://u@db/fs", live_dsn="x y")
    with pytest.raises(DatabaseError, match="^FLOWSCOPE_LIVE_DSN is not a valid Postgres DSN: invalid dsn"):
        resolve_dsns(settings)


def test_home_that_is_a_file_is_named(tmp_path: Path) -> None:
    """No DSN, and FLOWSCOPE_HOME is a file: a DatabaseError naming the variable (the CLI prints it
    as one error line) instead of a FileExistsError traceback from the embedded server's mkdir."""
    home = tmp_path / "a-file"
    home.write_text("")
    settings = load_settings({"FLOWSCOPE_HOME": str(home)})
    with pytest.raises(DatabaseError) as info:
        resolve_dsns(settings)
    assert str(info.value) == (f"cannot start the embedded Postgres under FLOWSCOPE_HOME={home}: "
                               f"File exists: {home}")


def test_unreachable_server_is_a_clear_error(tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = load_settings({}, dsn=f"postgresql://u:secret@127.0.0.1:{port}/db")
    with pytest.raises(DatabaseError) as info:
        connect_writer(settings)
    message = str(info.value)
    assert "cannot connect to the Postgres (writer)" in message
    assert f"port={port}" in message
    assert "secret" not in message  # the password is redacted


def test_reader_only_deployment_has_no_writer():
    settings = load_settings({}, reader_dsn="postgresql://flowscope_reader@db/flowscope")
    dsns = resolve_dsns(settings)
    assert dsns.writer is None and dsns.reader.endswith("db/flowscope")
    with pytest.raises(DatabaseError, match="set FLOWSCOPE_DSN"):
        connect_writer(settings)


def test_single_dsn_derives_reader_with_same_password():
    settings = load_settings({}, dsn="postgresql://writer:pw@db:5432/fs")
    reader = psycopg2.extensions.parse_dsn(resolve_dsns(settings).reader)
    assert reader["user"] == "flowscope_reader" and reader["password"] == "pw"
    assert reader["dbname"] == "fs"


def test_redact_dsn_hides_password():
    assert "***" in redact_dsn("postgresql://a:hunter2@h/d")
    assert "hunter2" not in redact_dsn("postgresql://a:hunter2@h/d")


def test_connect_writer_migrates_and_makes_reader(settings, pg_reader_dsn):
    conn = connect_writer(settings)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM schema_migrations")
            assert cur.fetchone()[0] >= 1
    finally:
        conn.close()
    reader = psycopg2.connect(pg_reader_dsn)
    try:
        with reader.cursor() as cur:
            cur.execute("SHOW default_transaction_read_only")
            assert cur.fetchone()[0] == "on"
    finally:
        reader.close()
