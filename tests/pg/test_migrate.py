"""The schema: migrations apply once, the reader role cannot write, triggers keep counts."""

from __future__ import annotations

import psycopg2
import pytest

from contract.pg.migrate import migrate, migration_files


def test_migrate_is_idempotent(db):
    assert migrate(db) == []
    with db.cursor() as cur:
        cur.execute("SELECT version FROM schema_migrations ORDER BY version")
        assert [r[0] for r in cur.fetchall()] == [v for v, _ in migration_files()]


def test_reader_role_cannot_write(pg_reader_dsn):
    conn = psycopg2.connect(pg_reader_dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM runs")
            assert cur.fetchone()[0] >= 0
        conn.rollback()
        with pytest.raises(psycopg2.Error) as info, conn.cursor() as cur:
            cur.execute(
                "INSERT INTO flows (flow_id, created_at) VALUES ('ReaderWrites', 0)"
            )
        assert info.value.pgcode in ("25006", "42501")  # read-only transaction / denied
    finally:
        conn.close()


def test_task_counts_follow_status(db):
    with db.cursor() as cur:
        cur.execute("INSERT INTO flows (flow_id, created_at) VALUES ('CountFlow', 1)")
        cur.execute(
            "INSERT INTO runs (flow_id, run_id, run_number, created_at) VALUES "
            "('CountFlow', '1', 1, 1) RETURNING run_pk"
        )
        run_pk = cur.fetchone()[0]
        for i in range(3):
            cur.execute(
                "INSERT INTO tasks (run_pk, step_name, task_id, created_at) VALUES (%s, 'a', %s, 1)",
                (run_pk, str(i)),
            )
        cur.execute("UPDATE tasks SET status = 'running' WHERE run_pk = %s", (run_pk,))
        cur.execute(
            "UPDATE tasks SET status = 'completed' WHERE run_pk = %s AND task_id = '0'", (run_pk,)
        )
        cur.execute(
            "UPDATE tasks SET status = 'failed' WHERE run_pk = %s AND task_id = '1'", (run_pk,)
        )
        cur.execute(
            "SELECT n_tasks, n_running, n_completed, n_failed FROM runs WHERE run_pk = %s", (run_pk,)
        )
        assert cur.fetchone() == (3, 1, 1, 1)
        cur.execute(
            "SELECT n_tasks, n_running, n_completed, n_failed FROM steps WHERE run_pk = %s", (run_pk,)
        )
        assert cur.fetchone() == (3, 1, 1, 1)


def test_change_seq_increases_and_notifies(db, pg_dsn):
    listener = psycopg2.connect(pg_dsn)
    listener.autocommit = True
    try:
        with listener.cursor() as lc:
            lc.execute("LISTEN flowscope_changes")
        with db.cursor() as cur:
            cur.execute("INSERT INTO flows (flow_id, created_at) VALUES ('SeqFlow', 1)")
            cur.execute(
                "INSERT INTO runs (flow_id, run_id, created_at) VALUES ('SeqFlow', '1', 1) "
                "RETURNING run_pk, change_seq"
            )
            run_pk, seq1 = cur.fetchone()
            cur.execute(
                "UPDATE runs SET status = 'completed' WHERE run_pk = %s RETURNING change_seq",
                (run_pk,),
            )
            assert cur.fetchone()[0] > seq1
        listener.poll()
        payloads = {n.payload for n in listener.notifies}
        assert f"run:{run_pk}" in payloads
    finally:
        listener.close()


def test_tasks_a_writer_counted_are_not_counted_again(db):
    """Migration 0013: with flowscope.tasks_counted on, the INSERT's counting trigger adds nothing;
    the setting ends with its transaction, and the next INSERT is counted again."""
    with db.cursor() as cur:
        cur.execute("INSERT INTO flows (flow_id, created_at) VALUES ('PrecountFlow', 1)")
        cur.execute("BEGIN")
        cur.execute(
            "INSERT INTO runs (flow_id, run_id, run_number, created_at, n_tasks, n_running) VALUES "
            "('PrecountFlow', '1', 1, 1, 2, 1) RETURNING run_pk"
        )
        run_pk = cur.fetchone()[0]
        cur.execute(
            "INSERT INTO steps (run_pk, step_name, created_at, started_at, n_tasks, n_running) "
            "VALUES (%s, 'a', 1, 5, 2, 1)", (run_pk,),
        )
        cur.execute("SELECT set_config('flowscope.tasks_counted', 'on', true)")
        cur.execute(
            "INSERT INTO tasks (run_pk, step_name, task_id, status, created_at, started_at) VALUES "
            "(%s, 'a', '0', 'running', 1, 5), (%s, 'a', '1', 'pending', 1, NULL)", (run_pk, run_pk),
        )
        cur.execute("COMMIT")
        counts = ("SELECT r.n_tasks, r.n_running, s.n_tasks, s.n_running, s.started_at FROM runs r "
                  "JOIN steps s USING (run_pk) WHERE r.run_pk = %s")
        cur.execute(counts, (run_pk,))
        assert cur.fetchone() == (2, 1, 2, 1, 5)
        cur.execute("SELECT coalesce(current_setting('flowscope.tasks_counted', true), '')")
        assert cur.fetchone()[0] in ("", "off")
        cur.execute(
            "INSERT INTO tasks (run_pk, step_name, task_id, status, created_at, started_at) "
            "VALUES (%s, 'a', '2', 'running', 2, 3)", (run_pk,),
        )
        cur.execute(counts, (run_pk,))
        assert cur.fetchone() == (3, 2, 3, 2, 3)
