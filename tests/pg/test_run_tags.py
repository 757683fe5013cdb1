"""run_tags (migration 0008) follows runs.tags through inserts (single and multi-row), tag
changes and deletes; the run list reads a tag's runs from it, newest first, with its cursor. The
migration applies on a database that already has runs, and again on one that has the table."""

from __future__ import annotations

from typing import Any

import aiopg
import psycopg2
import psycopg2.extensions
import pytest

from backend.db import runs as runs_db
from backend.db.query import Db
from backend.db.tag_stats import COMMON, tag_frequencies
from contract.pg.migrate import MIGRATIONS_DIR, migrate

RUN_TAGS_SQL = (MIGRATIONS_DIR / "0008_run_tags.sql").read_text()


def tags_of(cur: Any, run_pk: int) -> list[str]:
    cur.execute("SELECT tag FROM run_tags WHERE run_pk = %s ORDER BY tag", (run_pk,))
    return [r[0] for r in cur.fetchall()]


def test_run_tags_follow_the_runs(db: Any) -> None:
    with db.cursor() as cur:
        cur.execute("INSERT INTO flows (flow_id, created_at) VALUES ('TagTableFlow', 1)")
        cur.execute("INSERT INTO runs (flow_id, run_id, created_at, tags) VALUES "
                    "('TagTableFlow', '1', 10, '{a,b,b}'), ('TagTableFlow', '2', 20, '{}'), "
                    "('TagTableFlow', '3', 30, '{b}') RETURNING run_pk")
        one, two, three = (r[0] for r in cur.fetchall())
        assert tags_of(cur, one) == ["a", "b"] and tags_of(cur, two) == [] and tags_of(cur, three) == ["b"]
        cur.execute("UPDATE runs SET tags = '{c,a}' WHERE run_pk = %s", (one,))
        assert tags_of(cur, one) == ["a", "c"]
        cur.execute("UPDATE runs SET status = 'completed' WHERE run_pk = %s", (one,))   # tags untouched
        assert tags_of(cur, one) == ["a", "c"]
        cur.execute("UPDATE runs SET created_at = 11 WHERE run_pk = %s", (one,))
        cur.execute("SELECT DISTINCT created_at FROM run_tags WHERE run_pk = %s", (one,))
        assert [r[0] for r in cur.fetchall()] == [11]
        cur.execute("DELETE FROM runs WHERE run_pk = %s", (three,))
        assert tags_of(cur, three) == []
    db.commit()


def test_tag_pages_read_run_tags_in_order(db: Any, pg_reader_dsn: str) -> None:
    with db.cursor() as cur:
        cur.execute("INSERT INTO flows (flow_id, created_at) VALUES ('TagPageFlow', 1)")
        for i in range(25):
            tags = ["pagetag"] + (["second"] if i % 2 else []) + (["rare"] if i % 5 == 0 else [])
            # equal created_at for pairs: the run_pk breaks ties, as in the cursor
            cur.execute("INSERT INTO runs (flow_id, run_id, created_at, tags) VALUES (%s, %s, %s, %s)",
                        ("TagPageFlow", str(i), 1000 + i // 2, tags))
    db.commit()
    conn = psycopg2.connect(pg_reader_dsn)
    conn.autocommit = True
    try:
        # (tags, frequencies, the tag that should drive the run_tags scan or None for runs_created)
        cases = [(["pagetag"], {}, "pagetag"), (["pagetag", "second"], {}, "pagetag"),
                 (["rare", "pagetag"], {}, "rare"), (["pagetag"], {"pagetag": 0.9}, None),
                 (["pagetag", "second"], {"pagetag": 0.9, "second": 0.06}, None),
                 (["pagetag", "second"], {"pagetag": 0.9, "second": 0.01}, "second"),
                 (["pagetag", "rare"], {"pagetag": 0.01}, "rare")]
        for tags, freqs, driver in cases:
            for descending in (True, False):
                order = runs_db.make_order("created", descending)
                seen, cursor = [], None
                while True:
                    params: dict[str, Any] = {"now": 0, "stale_before": 0, "silence": ""}
                    sql = runs_db.list_runs_sql(runs_db.RunFilters(tags=tags, flows=["TagPageFlow"]), order,
                                                cursor, 4, params, tag_freqs=freqs)
                    assert ("run_tags rt" in sql) is (driver is not None) and params.get("f_tag0") == driver
                    with conn.cursor() as cur:
                        cur.execute(sql, params)
                        rows = cur.fetchall()   # tuples, as Db.tuples reads a page
                    seen += [r[0] for r in rows[:4]]
                    if len(rows) <= 4:
                        break
                    cursor = runs_db.sort_key(order, rows[3])
                with conn.cursor() as cur:   # the same runs through the GIN index, sorted
                    cur.execute("SELECT run_pk FROM runs WHERE flow_id = 'TagPageFlow' AND tags @> %s "
                                f"ORDER BY created_at {'DESC' if descending else 'ASC'}, "
                                f"run_pk {'DESC' if descending else 'ASC'}", (tags,))
                    assert seen == [r[0] for r in cur.fetchall()], (tags, freqs, descending)
    finally:
        conn.close()


def run_tag_rows(cur: Any) -> list[tuple[str, int, int]]:
    cur.execute("SELECT tag, created_at, run_pk FROM run_tags ORDER BY 1, 2, 3")
    return [tuple(r) for r in cur.fetchall()]


def runs_tag_rows(cur: Any) -> list[tuple[str, int, int]]:
    cur.execute("SELECT DISTINCT t.tag, r.created_at, r.run_pk FROM runs r, unnest(r.tags) AS t(tag) ORDER BY 1, 2, 3")
    return [tuple(r) for r in cur.fetchall()]


def test_migration_fills_the_table_from_existing_runs_and_can_run_again(pg_dsn: str) -> None:
    conn = psycopg2.connect(pg_dsn)   # one transaction, rolled back: the shared database keeps its table
    try:
        with conn.cursor() as cur:
            cur.execute("INSERT INTO flows (flow_id, created_at) VALUES ('TagMigrateFlow', 1)")
            cur.execute("INSERT INTO runs (flow_id, run_id, created_at, tags) VALUES "
                        "('TagMigrateFlow', '1', 5, '{x,y}'), ('TagMigrateFlow', '2', 6, '{y}')")
            cur.execute("DROP TABLE run_tags CASCADE")       # a database from before the migration
            cur.execute("DROP TRIGGER runs_tags_insert ON runs")
            cur.execute("DROP TRIGGER runs_tags_update ON runs")
            cur.execute("DROP TRIGGER runs_tags_delete ON runs")
            cur.execute("INSERT INTO runs (flow_id, run_id, created_at, tags) VALUES ('TagMigrateFlow', '3', 7, '{z}')")
            cur.execute(RUN_TAGS_SQL)
            filled = run_tag_rows(cur)
            assert filled == runs_tag_rows(cur) and ("z", 7) in [(t, c) for t, c, _ in filled]
            cur.execute(RUN_TAGS_SQL)   # again, as on a database that ran this change under its old number
            assert run_tag_rows(cur) == filled
            cur.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = 'runs'::regclass AND tgname LIKE 'runs_tags_%' "
                        "ORDER BY 1")
            assert [r[0] for r in cur.fetchall()] == ["runs_tags_delete", "runs_tags_insert", "runs_tags_update"]
            cur.execute("UPDATE runs SET tags = '{w}' WHERE flow_id = 'TagMigrateFlow' AND run_id = '1'")
            assert run_tag_rows(cur) == runs_tag_rows(cur)
    finally:
        conn.rollback()
        conn.close()


def test_a_version_recorded_under_another_name_is_an_error(db: Any) -> None:
    with db.cursor() as cur:
        cur.execute("UPDATE schema_migrations SET name = '0008_something_else.sql' WHERE version = 8")
    try:
        with pytest.raises(RuntimeError, match="version 8 as 0008_something_else.sql.*0008_run_tags.sql"):
            migrate(db)
    finally:
        with db.cursor() as cur:
            cur.execute("UPDATE schema_migrations SET name = '0008_run_tags.sql' WHERE version = 8")
    assert migrate(db) == []


async def test_tag_frequencies_come_from_the_statistics(db: Any, pg_reader_dsn: str) -> None:
    """In a schema of its own: ANALYZE on the shared database's runs (and 3000 more runs in it) would
    change the statistics, and so the plans and tag frequencies, of every test that runs after."""
    reader = psycopg2.extensions.parse_dsn(pg_reader_dsn)["user"]
    with db.cursor() as cur:
        cur.execute("CREATE SCHEMA tag_stats_probe")
        cur.execute("CREATE TABLE tag_stats_probe.runs (run_pk bigint PRIMARY KEY, tags text[] NOT NULL)")
        cur.execute("INSERT INTO tag_stats_probe.runs SELECT i, "
                    "CASE WHEN i % 500 = 0 THEN ARRAY['everywhere', 'seldom'] ELSE ARRAY['everywhere'] END "
                    "FROM generate_series(1, 3000) AS i")
        cur.execute("ANALYZE tag_stats_probe.runs")
        # pg_stats shows a table's statistics only to a role that may read the table
        cur.execute(f"GRANT USAGE ON SCHEMA tag_stats_probe TO {reader}; "
                    f"GRANT SELECT ON tag_stats_probe.runs TO {reader}")
    try:
        pool = await aiopg.create_pool(pg_reader_dsn, minsize=1, maxsize=1,
                                       options="-c search_path=tag_stats_probe")
        try:
            freqs = await tag_frequencies(Db(pool, 30.0))
        finally:
            pool.close()
            await pool.wait_closed()
    finally:
        with db.cursor() as cur:
            cur.execute("DROP SCHEMA tag_stats_probe CASCADE")
    assert freqs["everywhere"] >= COMMON                         # read through runs_created
    assert freqs.get("seldom", 0.0) < COMMON                     # read through run_tags
