"""Inserts take change_seq and notify per statement (migration 0010), with 0004's guarantees.

A multi-row INSERT gets a distinct, increasing change_seq per row from the column default; the
transaction's horizon token is taken before them (an open inserting transaction holds the
horizon below its rows); each run is notified; tasks inserted already finished widen their
steps' spans and counts in the same statement.
"""

from __future__ import annotations

import select
import time
from typing import Any

import psycopg2


def _run(cur: Any, flow: str, run_id: str) -> int:
    cur.execute("INSERT INTO flows (flow_id, created_at) VALUES (%s, 1) ON CONFLICT DO NOTHING", (flow,))
    cur.execute("INSERT INTO runs (flow_id, run_id, created_at) VALUES (%s, %s, 1) RETURNING run_pk", (flow, run_id))
    return int(cur.fetchone()[0])


def _horizon(dsn: str) -> int:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT horizon FROM change_horizon()")
        return int(cur.fetchone()[0])


def test_multi_row_insert_seqs_horizon_and_notify(db: Any, pg_dsn: str, pg_reader_dsn: str) -> None:
    with db.cursor() as cur:
        r1, r2 = _run(cur, "StmtFlow", "1"), _run(cur, "StmtFlow", "2")
    listener = psycopg2.connect(pg_dsn)
    listener.autocommit = True
    writer = psycopg2.connect(pg_dsn)
    try:
        with listener.cursor() as lc:
            lc.execute("LISTEN flowscope_changes")
        with writer.cursor() as cur:
            cur.execute("SELECT last_value FROM change_seq")
            before = int(cur.fetchone()[0])
            cur.execute(
                "INSERT INTO tasks (run_pk, step_name, task_id, status, created_at, started_at, finished_at) "
                "SELECT r, 'work', i::text, 'completed', 10, 100 + i, 200 + i "
                "FROM unnest(%s::bigint[]) r, generate_series(1, 3) i RETURNING change_seq", ([r1, r2],))
            seqs = [int(r[0]) for r in cur.fetchall()]
        assert len(seqs) == len(set(seqs)) == 6
        assert min(seqs) > before + 1                 # the token came first
        assert _horizon(pg_reader_dsn) < min(seqs)    # open: its rows are not safe yet
        writer.commit()
        assert _horizon(pg_reader_dsn) >= max(seqs)
        wanted = (f"run:{r1}", f"run:{r2}")
        deadline = time.monotonic() + 10
        while len({n.payload for n in listener.notifies} & set(wanted)) < 2 and time.monotonic() < deadline:
            select.select([listener], [], [], 0.5)    # delivered after the commit, asynchronously
            listener.poll()
        runs = [n.payload for n in listener.notifies if n.payload in wanted]
        assert sorted(runs) == sorted(wanted)          # both runs told, once (payloads fold per transaction)
        with db.cursor() as cur:
            cur.execute("SELECT n_tasks, n_completed, started_at, finished_at FROM steps "
                        "WHERE run_pk = %s AND step_name = 'work'", (r1,))
            assert cur.fetchone() == (3, 3, 101, 203)
            cur.execute("UPDATE tasks SET finished_at = 500 WHERE run_pk = %s AND task_id = '1' "
                        "RETURNING change_seq", (r1,))
            assert int(cur.fetchone()[0]) > max(seqs)  # updates still take a new seq per row
            cur.execute("SELECT finished_at FROM steps WHERE run_pk = %s AND step_name = 'work'", (r1,))
            assert cur.fetchone()[0] == 500
    finally:
        listener.close()
        writer.close()
