"""Aggregates for comparing two runs, each computed in SQL so a 100k-task run costs one scan.

Counts come from the trigger-kept ``steps`` rows; durations are percentiles over the tasks of a
run grouped by step (the ``tasks_run_step`` index); artifacts are aggregated per (step, name)
over the latest attempt of each task, so a foreach step compares as one digest per name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from backend.db.liveness import reason_expr, status_expr
from backend.db.query import Db, Row

DURATIONS = """
SELECT t.run_pk, t.step_name, count(*) AS n_timed, sum(t.duration_ms) AS task_total_ms,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY t.duration_ms) AS p50_ms,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY t.duration_ms) AS p95_ms
FROM tasks t
WHERE t.run_pk = ANY(%(run_pks)s) AND t.duration_ms IS NOT NULL
GROUP BY t.run_pk, t.step_name
"""

# The digest is a sum of per-artifact hashes: order-free, so the same values in other tasks
# compare equal without sorting 100k shas (md5 first, so any sha text is valid input). The
# preview is the first task's (lowest task_pk), fetched by key after the aggregate.
ARTIFACTS = """
WITH agg AS (
    SELECT t.step_name, a.name, count(*) AS n_tasks, min(t.task_pk) AS first_pk,
           count(*)::text || ':' || sum(('x' || substr(md5(a.sha), 1, 15))::bit(60)::bigint)::text AS digest
    FROM tasks t JOIN artifacts a ON a.task_pk = t.task_pk AND a.attempt = t.attempt
    WHERE t.run_pk = %(run_pk)s AND t.step_name = ANY(%(steps)s)
    GROUP BY t.step_name, a.name
    ORDER BY t.step_name, a.name
    LIMIT %(limit)s
)
SELECT agg.step_name, agg.name, agg.n_tasks, agg.digest, fa.sha, fa.type, fa.size, fa.preview, ft.task_id
FROM agg
JOIN tasks ft ON ft.task_pk = agg.first_pk
JOIN artifacts fa ON fa.task_pk = ft.task_pk AND fa.attempt = ft.attempt AND fa.name = agg.name
ORDER BY agg.step_name, agg.name
"""

FIRST_FAILURE = f"""
SELECT t.step_name, t.task_id, t.attempt, {reason_expr('t')} AS status_reason,
       COALESCE(t.finished_at, t.heartbeat_at, t.started_at, t.created_at) AS failed_at,
       at.exception_type, at.exception_message
FROM tasks t
LEFT JOIN attempts at ON at.task_pk = t.task_pk AND at.attempt = t.attempt
WHERE t.run_pk = %(run_pk)s AND {status_expr('t')} = 'failed'
ORDER BY COALESCE(t.finished_at, t.heartbeat_at, t.started_at, t.created_at), t.task_pk
LIMIT 1
"""

# A failed attempt that a retry made good is not a failure of the run: only tasks whose
# (effective) status is failed count.


async def step_durations(db: Db, run_pks: Sequence[int]) -> dict[tuple[int, str], Row]:
    rows = await db.all(DURATIONS, {"run_pks": list(run_pks)})
    return {(r["run_pk"], r["step_name"]): r for r in rows}


async def step_artifacts(db: Db, run_pk: int, steps: Sequence[str], limit: int) -> list[Row]:
    return await db.all(ARTIFACTS, {"run_pk": run_pk, "steps": list(steps), "limit": limit})


async def first_failure(db: Db, live: dict[str, Any], run_pk: int) -> Row | None:
    return await db.one(FIRST_FAILURE, {**live, "run_pk": run_pk})
