"""Faults: the source or Flowscope's database restarting, a schema version the mirror does not
know, a row it cannot interpret, renamed tables; and the proof that it never writes to the source.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg2
import pytest

from backend.mirror.mirror import Mirror
from backend.mirror.source import Source, session_dsn
from backend.mirror.source_sql import Names as MirrorNames
from bench.mf_source.schema import Names
from bench.mf_source.writer import Writer
from tests.mirror.conftest import backfill, live_mirror, wait_for
from tests.mirror.source_harness import (
    REPO,
    RO_ROLE,
    SourceServer,
    admin,
    fresh_flowscope,
    make_source,
    with_db,
)


def count(dsn: str, sql: str) -> int:
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            return int(cur.fetchone()[0])
    finally:
        conn.close()


def mirrored_counts(dsn: str) -> tuple[int, int, int]:
    return (count(dsn, "SELECT count(*) FROM runs"), count(dsn, "SELECT count(*) FROM tasks"),
            count(dsn, "SELECT count(*) FROM metadata"))


def source_counts(w: Writer) -> tuple[int, int, int]:
    return w.count("runs"), w.count("tasks"), w.count("metadata")


async def test_unknown_schema_version_is_refused(source_server: SourceServer, make_settings: Any,
                                                 tmp_path: Path) -> None:
    source = make_source(source_server, triggers=False, label="newer")
    Writer(source.admin_dsn, source.names).run("RefusedFlow")
    with admin(source.admin_dsn) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO goose_db_version (version_id, is_applied) VALUES (20990101000000, true)")
    settings = make_settings(source)
    mirror = Mirror(settings)
    assert await mirror.run(asyncio.Event()) == 2
    assert mirror.status.phase == "refused"
    message = mirror.status.error or ""
    assert "20990101000000" in message and "20260706000003" in message and "Nothing was mirrored" in message
    assert count(settings.dsn, "SELECT count(*) FROM runs") == 0
    assert count(settings.dsn, "SELECT count(*) FROM mirror_state WHERE phase = 'refused'") == 1

    # The command says the same on stderr, exits 2, and prints no traceback.
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "FLOWSCOPE_DSN": settings.dsn,
           "FLOWSCOPE_HOME": str(tmp_path / "home")}
    proc = await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "backend.cli", "mirror", "--source",
                                                    source.reader_dsn], env=env, capture_output=True, text=True,
                                   timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "schema version 20990101000000" in proc.stderr and "Traceback" not in proc.stderr


async def test_an_older_schema_is_refused_too(source_server: SourceServer, make_settings: Any) -> None:
    source = make_source(source_server, triggers=False, label="older", version=20201002000616)
    mirror = Mirror(make_settings(source))
    assert await mirror.run(asyncio.Event()) == 2
    assert "20201002000616" in (mirror.status.error or "")


async def test_select_only_role_issues_no_write(source_server: SourceServer, make_settings: Any) -> None:
    source = make_source(source_server, triggers=True, label="ro")
    writer = Writer(source.admin_dsn, source.names)
    writer.run("ReadOnlyFlow")
    # The role holds SELECT and nothing else (what docs/metaflow.md tells operators to grant).
    rights = source.rows(
        "SELECT c.relname, p.priv FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "CROSS JOIN unnest(ARRAY['INSERT','UPDATE','DELETE','TRUNCATE','REFERENCES','TRIGGER']) AS p(priv) "
        "WHERE n.nspname = 'public' AND c.relkind = 'r' AND has_table_privilege(%s, c.oid, p.priv)", RO_ROLE)
    assert rights == []
    assert source.rows("SELECT has_schema_privilege(%s, 'public', 'CREATE') AS c, "
                       "(SELECT rolsuper OR rolcreaterole OR rolcreatedb FROM pg_roles WHERE rolname = %s) AS s",
                       RO_ROLE, RO_ROLE) == [{"c": False, "s": False}]
    settings = make_settings(source)
    log_start = source_server.log.stat().st_size
    async with live_mirror(settings) as mirror:
        await wait_for(lambda: mirror.status.phase == "live", 60, "live")
        writer.run("ReadOnlyFlow", finish=False)
        await wait_for(lambda: mirrored_counts(settings.dsn) == source_counts(writer), 30, "the new run")
        await asyncio.sleep(2 * mirror.liveness_interval)     # heartbeat and tag reads too
    with source_server.log.open(errors="replace") as f:
        f.seek(log_start)
        lines = [ln for ln in f if f"{RO_ROLE}@{source.dbname} LOG:  statement:" in ln]
    statements = [ln.split("statement:", 1)[1].strip() for ln in lines]
    assert len(statements) > 10
    # WITH: the backfill's bulk statements are SELECTs with CTEs (a data-modifying CTE would be
    # caught below by its INSERT/UPDATE/DELETE).
    allowed = re.compile(r"^(SELECT|WITH|LISTEN|SET|SHOW|BEGIN|COMMIT|ROLLBACK)\b", re.IGNORECASE)
    forbidden = re.compile(r"\b(INSERT|UPDATE|DELETE|TRUNCATE|CREATE|ALTER|DROP|LOCK|GRANT|COPY|"
                           r"FOR\s+(UPDATE|SHARE|NO KEY|KEY)|pg_advisory\w*|nextval|setval|TEMP(ORARY)?)\b",
                           re.IGNORECASE)
    bad = [s for s in statements if not allowed.match(s) or forbidden.search(s)]
    assert bad == [], bad[:5]
    # And the sessions themselves are read-only: even a role with write rights could not write.
    src = Source(source.admin_dsn, MirrorNames())
    await src.open()
    try:
        with pytest.raises(psycopg2.errors.ReadOnlySqlTransaction):
            await src.all("INSERT INTO flows_v3 (flow_id, ts_epoch) VALUES ('X', 1) RETURNING flow_id")
    finally:
        await src.close()
    assert "default_transaction_read_only=on" in session_dsn(source.reader_dsn)


async def test_source_restart_mid_tail(source_server: SourceServer, make_settings: Any) -> None:
    source = make_source(source_server, triggers=True, label="restart")
    writer = Writer(source.admin_dsn, source.names)
    writer.run("RestartFlow")
    settings = make_settings(source)
    seen: list[str] = []
    async with live_mirror(settings) as mirror:
        mirror.on_progress = lambda st: seen.append(f"{st.phase}:{st.unreachable}")
        await wait_for(lambda: mirror.status.phase == "live", 60, "live")
        writer.run("RestartFlow", finish=False)
        await wait_for(lambda: mirrored_counts(settings.dsn) == source_counts(writer), 30, "the first runs")
        await asyncio.to_thread(source_server.restart)
        for _ in range(3):          # written while the mirror is cut off or reconnecting
            await asyncio.to_thread(writer.run, "RestartFlow")
        await wait_for(lambda: "disconnected:source" in seen, 30, "the state to say disconnected")
        await wait_for(lambda: mirrored_counts(settings.dsn) == source_counts(writer), 90, "catch-up")
        await wait_for(lambda: mirror.status.phase == "live", 60, "live again")
        assert mirrored_counts(settings.dsn) == source_counts(writer)      # nothing twice
        assert count(settings.dsn, "SELECT count(*) FROM runs WHERE status = 'completed'") == 4


@pytest.fixture()
def private_flowscope_pg() -> Iterator[Any]:
    """A Postgres for Flowscope's database of this test only (it gets restarted)."""
    import pgserver

    server = pgserver.get_server(Path(tempfile.mkdtemp(prefix="fsmdst-")), cleanup_mode="delete")
    yield server
    server.cleanup()


async def test_flowscope_database_restart(source_server: SourceServer, private_flowscope_pg: Any,
                                          make_settings: Any) -> None:
    source = make_source(source_server, triggers=False, label="fsrestart")
    writer = Writer(source.admin_dsn, source.names)
    writer.run("FsRestartFlow")
    writer_dsn, reader_dsn = fresh_flowscope(private_flowscope_pg.get_uri(), "restart")
    settings = make_settings(source).replace(dsn=writer_dsn, reader_dsn=reader_dsn)
    seen: list[str] = []
    async with live_mirror(settings) as mirror:
        mirror.on_progress = lambda st: seen.append(f"{st.phase}:{st.unreachable}")
        await wait_for(lambda: mirror.status.phase == "live", 60, "live")
        from pgserver._commands import pg_ctl

        def ctl(*args: str) -> None:
            pg_ctl(["-w", *args], pgdata=private_flowscope_pg.pgdata, user=private_flowscope_pg.system_user,
                   timeout=60)

        # Down until the mirror notices (an idle mirror touches Flowscope's database only for its
        # heartbeat reads, every mirror_liveness_interval), then up again (pg_ctl restart reuses
        # the server's options and starts a stopped server).
        await asyncio.to_thread(ctl, "stop", "-m", "fast")
        try:
            await wait_for(lambda: "disconnected:flowscope" in seen, 60, "the state: disconnected from Flowscope")
        finally:
            await asyncio.to_thread(ctl, "restart")
        for _ in range(2):
            await asyncio.to_thread(writer.run, "FsRestartFlow")
        await wait_for(lambda: mirrored_counts(writer_dsn) == source_counts(writer), 90, "catch-up")
        assert "disconnected:flowscope" in seen
        await wait_for(lambda: mirror.status.phase == "live", 60, "live again")
        assert mirrored_counts(writer_dsn) == source_counts(writer)


async def test_uninterpretable_rows_are_skipped_and_logged(source_server: SourceServer, make_settings: Any,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    source = make_source(source_server, triggers=False, label="bad")
    writer = Writer(source.admin_dsn, source.names)
    number = writer.run("BadRowsFlow")
    # Metadata of a task the tasks table does not have (the table has no foreign key).
    writer.metadata("BadRowsFlow", number, "start", 987654321, [("attempt", "0", "attempt")])
    writer.run("BadRowsFlow")
    mirror = await backfill(make_settings(source))
    assert mirror.status.skipped == 1
    (what,) = mirror.status.last_skipped
    assert "987654321" in what and "BadRowsFlow" in what
    assert any("987654321" in r.getMessage() for r in caplog.records)
    assert count(mirror.writer_dsn, "SELECT count(*) FROM runs WHERE status = 'completed'") == 2


async def test_renamed_tables_in_another_schema(source_server: SourceServer, make_settings: Any) -> None:
    names = Names(schema="metaflow", flows="mf_flows", runs="mf_runs", steps="mf_steps", tasks="mf_tasks",
                  metadata="mf_metadata", artifact="mf_artifacts")
    source = make_source(source_server, triggers=True, names=names, label="renamed")
    writer = Writer(source.admin_dsn, source.names)
    writer.run("RenamedFlow")
    settings = make_settings(source)
    async with live_mirror(settings) as mirror:
        await wait_for(lambda: mirror.status.phase == "live", 60, "live")
        assert mirror.status.listening
        writer.run("RenamedFlow")
        await wait_for(lambda: mirrored_counts(settings.dsn) == source_counts(writer), 30, "both runs")
    assert with_db(source.admin_dsn, source.dbname)
