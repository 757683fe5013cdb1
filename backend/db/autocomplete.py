"""Autocomplete queries: prefix matches, each bounded so it stays fast on a million runs."""

from __future__ import annotations

from typing import Any

from backend.db.query import Db

FLOWS = """SELECT flow_id AS value FROM flows WHERE flow_id ILIKE %(contains)s
           ORDER BY (flow_id ILIKE %(prefix)s) DESC, flow_id LIMIT %(limit)s"""
RUNS = """SELECT r.flow_id || '/' || r.run_id AS value FROM runs r
          WHERE (%(flow)s::text IS NULL OR r.flow_id = %(flow)s) AND r.run_id LIKE %(prefix)s
          ORDER BY r.created_at DESC, r.run_pk DESC LIMIT %(limit)s"""
# Steps and tags: from the most recent runs (bounded scan), not a distinct over every row.
STEPS = """SELECT DISTINCT s.step_name AS value FROM steps s
           WHERE s.run_pk IN (SELECT r.run_pk FROM runs r
                              WHERE (%(flow)s::text IS NULL OR r.flow_id = %(flow)s)
                                AND (%(run)s::text IS NULL OR r.run_id = %(run)s)
                              ORDER BY r.created_at DESC LIMIT 200)
             AND s.step_name ILIKE %(prefix)s
           ORDER BY 1 LIMIT %(limit)s"""
TAGS = """SELECT DISTINCT tag AS value FROM (
            SELECT unnest(r.tags) AS tag FROM (SELECT tags FROM runs r
                WHERE (%(flow)s::text IS NULL OR r.flow_id = %(flow)s)
                ORDER BY created_at DESC LIMIT 5000) r) t
          WHERE tag ILIKE %(prefix)s ORDER BY 1 LIMIT %(limit)s"""
# Users by a loose index scan of runs_user_created starting at the prefix.
USERS = """WITH RECURSIVE u(value) AS (
             (SELECT user_name FROM runs WHERE user_name >= %(q)s ORDER BY user_name LIMIT 1)
             UNION ALL
             SELECT (SELECT user_name FROM runs WHERE user_name > u.value ORDER BY user_name LIMIT 1)
             FROM u WHERE u.value IS NOT NULL AND u.value LIKE %(prefix)s)
           SELECT value FROM u WHERE value IS NOT NULL AND value LIKE %(prefix)s LIMIT %(limit)s"""

# Task ids of one run (flow and run required), optionally of one step: numeric ids sort as
# numbers. Served by the (run_pk, step_name, task_id) unique index.
TASKS = """SELECT t.task_id AS value FROM tasks t JOIN runs r ON r.run_pk = t.run_pk
           WHERE r.flow_id = %(flow)s AND r.run_id = %(run)s
             AND (%(step)s::text IS NULL OR t.step_name = %(step)s) AND t.task_id LIKE %(prefix)s
           ORDER BY length(t.task_id), t.task_id LIMIT %(limit)s"""

QUERIES = {"flows": FLOWS, "runs": RUNS, "steps": STEPS, "tags": TAGS, "users": USERS, "tasks": TASKS}


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def complete(db: Db, kind: str, q: str, limit: int, flow: str | None, run: str | None,
                   step: str | None = None) -> list[str]:
    params: dict[str, Any] = {"q": q, "prefix": _like(q) + "%", "contains": "%" + _like(q) + "%",
                              "limit": limit, "flow": flow, "run": run, "step": step}
    return [r["value"] for r in await db.all(QUERIES[kind], params)]
