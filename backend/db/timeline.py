"""Timeline level of detail, aggregated in SQL.

Tasks are numbered into rows (step order from the DAG, then the sort key, then task_pk) with one
window function over the run's tasks; only rows in the asked range are joined with attempts.
In aggregated mode each attempt's span is snapped to bucket boundaries and grouped per
(lane, start bucket, end bucket, status), so a 100,000-task run returns at most a few rows per
lane and bucket instead of one per task.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from backend.db.liveness import end_expr, status_expr, status_filter
from backend.db.query import Db, Row

SORT_KEYS = {"start": "t.started_at", "end": "t.finished_at", "duration": "t.duration_ms"}
# The host a task ran on: its latest "host" metadata row (the runtime writes one per attempt; a
# retry may land on another node). metadata_task (task_pk, id) serves the lookup.
TASK_HOST = """LEFT JOIN LATERAL (SELECT m.value AS host FROM metadata m
                                  WHERE m.task_pk = t.task_pk AND m.field_name = 'host'
                                  ORDER BY m.id DESC LIMIT 1) h ON true"""
# Where an attempt's bar ends: its finish; a stale one's last heartbeat (a killed task's bar does not
# grow with every later read); a running one's now.
ATTEMPT_END = f"COALESCE({end_expr('a', False)}, %(now)s)"
# The innermost loop iteration of a task of a recursive step (NULL outside a loop).
ITERATION = "t.iteration_stack[cardinality(t.iteration_stack)]"


def _numbered(steps_order: Sequence[str], sort: str, group: str, statuses: Sequence[str],
              steps: Sequence[str], params: dict[str, Any]) -> str:
    params["step_order"] = list(steps_order)
    # Metaflow's _parameters pseudo-step (any _-prefixed step) is bookkeeping: never drawn
    where = ["t.run_pk = %(run_pk)s", "left(t.step_name, 1) <> '_'"]
    if statuses:
        where.append(status_filter("t", statuses))
    if steps:
        where.append("t.step_name = ANY(%(steps)s)")
        params["steps"] = list(steps)
    step_rank = "COALESCE(array_position(%(step_order)s::text[], t.step_name), 1000000)"
    order = f"{SORT_KEYS[sort]} NULLS LAST, t.task_pk"
    if group == "step":
        order = f"{step_rank}, {order}"
    elif group == "host":
        order = f"h.host NULLS LAST, {order}"
    return f"""
    SELECT t.task_pk, t.step_name, t.task_id, t.foreach_value, {ITERATION} AS iteration,
           {status_expr('t')} AS status,
           {'h.host' if group == 'host' else 'NULL::text'} AS host,
           (row_number() OVER (ORDER BY {order}) - 1) AS rn
    FROM tasks t {TASK_HOST if group == 'host' else ''} WHERE {' AND '.join(where)}"""


# (step_name, host) of a group's row, per grouping
GROUP_KEYS = {"step": ("step_name", "NULL::text"), "host": ("''", "host")}


async def group_rows(db: Db, live: dict[str, Any], run_pk: int, steps_order: Sequence[str], sort: str,
                     group: str, statuses: Sequence[str], steps: Sequence[str]) -> list[Row]:
    """(step_name, host, row_start, row_count) per step or host, or one flat group; also gives total rows."""
    params: dict[str, Any] = {**live, "run_pk": run_pk}
    numbered = _numbered(steps_order, sort, group, statuses, steps, params)
    step_key, host_key = GROUP_KEYS.get(group, ("''", "NULL::text"))
    sql = f"""SELECT {step_key} AS step_name, {host_key} AS host, min(rn) AS row_start, count(*) AS row_count
              FROM ({numbered}) n GROUP BY 1, 2 ORDER BY 3"""
    return await db.all(sql, params)


async def task_lanes(db: Db, live: dict[str, Any], run_pk: int, steps_order: Sequence[str], sort: str,
                     group: str, statuses: Sequence[str], steps: Sequence[str], row_start: int,
                     row_end: int) -> list[Row]:
    """One row per attempt of the tasks in [row_start, row_end)."""
    params: dict[str, Any] = {**live, "run_pk": run_pk, "r0": row_start, "r1": row_end}
    numbered = _numbered(steps_order, sort, group, statuses, steps, params)
    sql = f"""
    SELECT n.rn, n.task_id, n.step_name, n.foreach_value, n.iteration, n.status AS task_status, n.host,
           a.attempt, a.started_at, {end_expr('a', False)} AS finished_at, {status_expr('a', False)} AS status
    FROM ({numbered}) n LEFT JOIN attempts a ON a.task_pk = n.task_pk
    WHERE n.rn >= %(r0)s AND n.rn < %(r1)s ORDER BY n.rn, a.attempt"""
    return await db.all(sql, params)


async def lane_segments(db: Db, live: dict[str, Any], run_pk: int, steps_order: Sequence[str], sort: str,
                        group: str, statuses: Sequence[str], steps: Sequence[str], row_start: int,
                        row_end: int, per_lane: int, start: int, end: int, bucket_ms: float) -> list[Row]:
    """Attempt spans snapped to buckets, counted per (lane, bucket span, status), within [start, end]."""
    params: dict[str, Any] = {**live, "run_pk": run_pk, "r0": row_start, "r1": row_end,
                              "per_lane": per_lane, "w0": start, "w1": end, "bucket": bucket_ms}
    numbered = _numbered(steps_order, sort, group, statuses, steps, params)
    sql = f"""
    WITH spans AS (
        SELECT (n.rn - %(r0)s) / %(per_lane)s AS lane, {status_expr('a', False)} AS status,
               GREATEST(a.started_at, %(w0)s) AS s, LEAST({ATTEMPT_END}, %(w1)s) AS e
        FROM ({numbered}) n JOIN attempts a ON a.task_pk = n.task_pk
        WHERE n.rn >= %(r0)s AND n.rn < %(r1)s
          AND a.started_at <= %(w1)s AND {ATTEMPT_END} >= %(w0)s)
    SELECT lane, status, floor((s - %(w0)s) / %(bucket)s)::bigint AS b0,
           ceil((e - %(w0)s) / %(bucket)s)::bigint AS b1, count(*) AS n
    FROM spans GROUP BY 1, 2, 3, 4 ORDER BY 1, 3"""
    return await db.all(sql, params)


RUN_SPAN = f"""SELECT min(a.started_at) AS first, max({ATTEMPT_END}) AS last
               FROM attempts a WHERE a.run_pk = %(run_pk)s"""


async def run_span(db: Db, live: dict[str, Any], run_pk: int) -> Row | None:
    return await db.one(RUN_SPAN, {**live, "run_pk": run_pk})
