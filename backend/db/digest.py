"""Failure rows for the digest: a run's failed tasks, its retried attempts, and a sample of the
failures of the flow's other recent runs (for "first seen in run N").

Messages are cut to 500 characters and tracebacks to their last 2,000 (the innermost frames are
at the end), so 5,000 failures stay a few megabytes on the wire.
"""

from __future__ import annotations

from typing import Any

from backend.db.liveness import reason_expr, status_filter
from backend.db.query import Db, Row

_WHEN = "COALESCE(a.finished_at, t.finished_at, t.heartbeat_at, t.started_at, t.created_at)"
_FIELDS = f"""
    t.task_pk, t.step_name, t.task_id, t.foreach_value, {reason_expr('t')} AS task_reason,
    COALESCE(a.attempt, t.attempt) AS attempt, a.status_reason AS attempt_reason, a.exit_code,
    a.exception_type, left(a.exception_message, 500) AS exception_message,
    right(a.traceback, 2000) AS traceback, {_WHEN} AS at, a.finished_at IS NOT NULL AS ended
"""

# Tasks whose effective status is failed (a lost heartbeat counts), with their last attempt.
FAILED_TASKS = f"""
SELECT {_FIELDS}, true AS final
FROM tasks t LEFT JOIN attempts a ON a.task_pk = t.task_pk AND a.attempt = t.attempt
WHERE t.run_pk = %(run_pk)s AND left(t.step_name, 1) <> '_' AND {status_filter('t', ['failed'])}
ORDER BY t.task_pk
"""

# Failed attempts that a later attempt followed (whatever became of the task).
RETRIED_ATTEMPTS = f"""
SELECT {_FIELDS}, false AS final
FROM attempts a JOIN tasks t ON t.task_pk = a.task_pk
WHERE a.run_pk = %(run_pk)s AND a.status = 'failed' AND a.attempt < t.attempt
  AND left(t.step_name, 1) <> '_'
ORDER BY a.task_pk, a.attempt
"""

# The flow's most recent other runs with failed tasks (by the trigger-kept count).
RECENT_FAILED_RUNS = """
SELECT r.run_pk, r.run_id, r.created_at FROM runs r
WHERE r.flow_id = %(flow)s AND r.run_pk <> %(run_pk)s AND r.n_failed > 0
ORDER BY r.created_at DESC, r.run_pk DESC LIMIT %(limit)s
"""

# Up to ``per_run`` failed tasks of each of those runs: enough to see every signature a run had
# unless it failed in more distinct ways than that.
FAILURE_SAMPLE = """
SELECT rp.run_pk, x.* FROM unnest(%(run_pks)s::bigint[]) AS rp(run_pk)
CROSS JOIN LATERAL (
    SELECT t.step_name, t.task_id, t.status_reason AS task_reason, a.status_reason AS attempt_reason,
           a.exception_type, left(a.exception_message, 500) AS exception_message,
           right(a.traceback, 2000) AS traceback
    FROM tasks t LEFT JOIN attempts a ON a.task_pk = t.task_pk AND a.attempt = t.attempt
    WHERE t.run_pk = rp.run_pk AND t.status = 'failed' AND left(t.step_name, 1) <> '_'
    ORDER BY t.task_pk LIMIT %(per_run)s
) x
"""


async def failed_tasks(db: Db, live: dict[str, Any], run_pk: int) -> list[Row]:
    return await db.all(FAILED_TASKS, {**live, "run_pk": run_pk})


async def retried_attempts(db: Db, live: dict[str, Any], run_pk: int) -> list[Row]:
    return await db.all(RETRIED_ATTEMPTS, {**live, "run_pk": run_pk})


async def recent_failed_runs(db: Db, flow: str, run_pk: int, limit: int) -> list[Row]:
    return await db.all(RECENT_FAILED_RUNS, {"flow": flow, "run_pk": run_pk, "limit": limit})


async def failure_sample(db: Db, run_pks: list[int], per_run: int) -> list[Row]:
    if not run_pks:
        return []
    return await db.all(FAILURE_SAMPLE, {"run_pks": run_pks, "per_run": per_run})
