"""Checks on a seeded database: denormalized counts agree with the rows, and content checksums."""

from __future__ import annotations

from typing import Any

# Runs (from run_pk >= %(first)s) whose task counts differ from their tasks.
RUN_COUNT_MISMATCHES = """
WITH t AS (
    SELECT run_pk, count(*) AS n, count(*) FILTER (WHERE status = 'running') AS r,
           count(*) FILTER (WHERE status = 'completed') AS c, count(*) FILTER (WHERE status = 'failed') AS f
      FROM tasks WHERE run_pk >= %(first)s GROUP BY run_pk)
SELECT count(*) FROM runs r LEFT JOIN t USING (run_pk)
 WHERE r.run_pk >= %(first)s
   AND (r.n_tasks, r.n_running, r.n_completed, r.n_failed)
       IS DISTINCT FROM (coalesce(t.n, 0), coalesce(t.r, 0), coalesce(t.c, 0), coalesce(t.f, 0))
"""

# Steps whose counts or time span differ from their tasks, or steps/tasks without the other.
STEP_MISMATCHES = """
WITH t AS (
    SELECT run_pk, step_name, count(*) AS n, count(*) FILTER (WHERE status = 'running') AS r,
           count(*) FILTER (WHERE status = 'completed') AS c, count(*) FILTER (WHERE status = 'failed') AS f,
           min(started_at) AS s, max(finished_at) AS e
      FROM tasks WHERE run_pk >= %(first)s GROUP BY run_pk, step_name)
SELECT count(*) FROM (SELECT * FROM steps WHERE run_pk >= %(first)s) s FULL JOIN t USING (run_pk, step_name)
 WHERE (s.n_tasks, s.n_running, s.n_completed, s.n_failed, s.started_at, s.finished_at)
       IS DISTINCT FROM (t.n, t.r, t.c, t.f, t.s, t.e)
"""

# Log chunks that do not continue the previous chunk's line range.
LOG_GAPS = """
SELECT count(*) FROM (
    SELECT first_line, seq,
           lag(first_line + n_lines) OVER w AS expected, lag(seq) OVER w AS prev_seq
      FROM log_chunks WHERE run_pk >= %(first)s
    WINDOW w AS (PARTITION BY task_pk, attempt, stream ORDER BY seq)) x
 WHERE (prev_seq IS NULL AND (seq <> 0 OR first_line <> 1))
    OR (prev_seq IS NOT NULL AND (seq <> prev_seq + 1 OR first_line <> expected))
"""

# Runs whose run_tags rows (migration 0008) differ from their tags: set differences both ways,
# hashed in one pass each (run_tags' key leads with the tag, so a per-run lookup would scan the
# whole table for every run: hours at 1M runs).
RUN_TAG_MISMATCHES = """
WITH want AS (SELECT DISTINCT r.run_pk, r.created_at, t.tag
                FROM runs r CROSS JOIN LATERAL unnest(r.tags) AS t(tag) WHERE r.run_pk >= %(first)s),
     have AS (SELECT rt.run_pk, rt.created_at, rt.tag FROM run_tags rt WHERE rt.run_pk >= %(first)s)
SELECT count(DISTINCT d.run_pk) FROM ((TABLE want EXCEPT ALL TABLE have)
                                      UNION ALL (TABLE have EXCEPT ALL TABLE want)) d
"""

CHECKS = {"run task counts": RUN_COUNT_MISMATCHES, "step counts and spans": STEP_MISMATCHES,
          "log line ranges": LOG_GAPS, "run tags": RUN_TAG_MISMATCHES}


def consistency_errors(conn: Any, first_run_pk: int = 0) -> dict[str, int]:
    """Mismatching rows per check; all zero on a consistent database."""
    out = {}
    with conn.cursor() as cur:
        for name, sql in CHECKS.items():
            cur.execute(sql, {"first": first_run_pk})
            out[name] = int(cur.fetchone()[0])
    return out


CHECKSUM_TABLES = {
    "flows": "flow_id", "runs": "run_pk", "run_sources": "run_pk", "steps": "run_pk, step_name",
    "tasks": "task_pk", "attempts": "task_pk, attempt", "artifacts": "task_pk, attempt, name",
    "metadata": "id", "log_chunks": "task_pk, attempt, stream, seq", "run_tags": "tag, created_at, run_pk",
}


def table_checksums(conn: Any) -> dict[str, str]:
    """md5 of every row of each table in key order (for determinism checks on small seeds)."""
    out = {}
    with conn.cursor() as cur:
        for table, key in CHECKSUM_TABLES.items():
            cur.execute(f"SELECT md5(coalesce(string_agg(x::text, E'\\n' ORDER BY {key}), '')) "
                        f"FROM (SELECT * FROM {table}) x")
            out[table] = cur.fetchone()[0]
    return out
