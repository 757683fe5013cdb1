"""Status bookkeeping of Metaflow runs, tasks and attempts (derived from metadata, §8)."""

from __future__ import annotations

import json
from typing import Any

from backend.ingest.db.pool import Cursor, one

LOCK_TASK = ("SELECT task_pk, run_pk, step_name, task_id, status, attempt FROM tasks "
             "WHERE task_pk = %s FOR UPDATE")
RUN_CONTEXT = (
    "SELECT r.flow_id, r.run_id, r.status, r.failed_step, r.dag IS NOT NULL AS has_dag, "
    "r.dag -> 'steps' -> %s -> 'decorators' AS decorators, "
    "COALESCE(r.dag ->> 'end_step', (SELECT m.value FROM metadata m WHERE m.run_pk = r.run_pk "
    "AND m.field_name = 'end_step' ORDER BY m.id DESC LIMIT 1), 'end') AS end_step "
    "FROM runs r WHERE r.run_pk = %s"
)
START_ATTEMPT = ("INSERT INTO attempts (task_pk, attempt, run_pk, status, started_at) "
                 "VALUES (%s, %s, %s, 'running', %s) ON CONFLICT (task_pk, attempt) DO NOTHING")
SUPERSEDE_ATTEMPTS = (
    "UPDATE attempts SET status = 'failed', finished_at = COALESCE(finished_at, %s), "
    "status_reason = COALESCE(status_reason, %s) WHERE task_pk = %s AND attempt < %s AND status = 'running'"
)
TASK_RUNNING = (
    "UPDATE tasks SET attempt = %s, status = 'running', status_reason = NULL, finished_at = NULL, "
    "started_at = COALESCE(started_at, %s) WHERE task_pk = %s AND attempt <= %s"
)
FINISH_ATTEMPT = (
    "INSERT INTO attempts AS a (task_pk, attempt, run_pk, status, started_at, finished_at, status_reason) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (task_pk, attempt) DO UPDATE "
    "SET status = EXCLUDED.status, finished_at = EXCLUDED.finished_at, "
    "status_reason = COALESCE(a.status_reason, EXCLUDED.status_reason)"
)
ATTEMPT_STATUS = "SELECT status FROM attempts WHERE task_pk = %s AND attempt = %s"
FINISH_TASK = (
    "UPDATE tasks SET status = %s, status_reason = %s, finished_at = %s, attempt = GREATEST(attempt, %s), "
    "started_at = COALESCE(started_at, %s) WHERE task_pk = %s AND attempt <= %s"
)
TASK_REASON = "UPDATE tasks SET status_reason = %s WHERE task_pk = %s"
FINISH_RUN = ("UPDATE runs SET status = %s, status_reason = %s, failed_step = %s, finished_at = %s "
              "WHERE run_pk = %s")
REOPEN_RUN = ("UPDATE runs SET status = 'running', status_reason = NULL, failed_step = NULL, "
              "finished_at = NULL WHERE run_pk = %s AND status = 'failed' AND failed_step = %s")
RUN_REASON = ("UPDATE runs SET status_reason = %s WHERE run_pk = %s AND status = 'failed' "
              "AND failed_step = %s")
SET_ORIGIN_RUN = "UPDATE runs SET origin_run_id = %s WHERE run_pk = %s AND origin_run_id IS NULL"
SET_CLONED_FROM = "UPDATE tasks SET cloned_from = %s WHERE task_pk = %s"
SET_FOREACH_INDEX = "UPDATE tasks SET foreach_index = %s WHERE task_pk = %s"
SET_FOREACH = ("UPDATE tasks SET foreach_stack = %s, foreach_index = %s, foreach_value = %s "
               "WHERE task_pk = %s")
SET_DAG = "UPDATE runs SET dag = %s WHERE run_pk = %s"
SET_PARAMETERS = "UPDATE runs SET parameters = %s WHERE run_pk = %s"
SET_EXCEPTION = (
    "UPDATE attempts SET exception_type = %s, exception_message = %s, traceback = %s, "
    "status_reason = %s WHERE task_pk = %s AND attempt = %s"
)
TASK_ATTEMPT_FAILED = "SELECT attempt, status FROM tasks WHERE task_pk = %s"


async def lock_task(cur: Cursor, task_pk: int) -> dict[str, Any] | None:
    return await one(cur, LOCK_TASK, (task_pk,))


async def run_context(cur: Cursor, run_pk: int, step: str) -> dict[str, Any]:
    row = await one(cur, RUN_CONTEXT, (step, run_pk))
    assert row is not None
    return row


async def start_attempt(cur: Cursor, task: dict[str, Any], attempt: int, ts: int) -> None:
    await cur.execute(START_ATTEMPT, (task["task_pk"], attempt, task["run_pk"], ts))
    await cur.execute(SUPERSEDE_ATTEMPTS, (ts, f"superseded by attempt {attempt}", task["task_pk"], attempt))
    await cur.execute(TASK_RUNNING, (attempt, ts, task["task_pk"], attempt))


async def finish_attempt(cur: Cursor, task: dict[str, Any], attempt: int, status: str,
                         reason: str | None, ts: int) -> None:
    await cur.execute(FINISH_ATTEMPT, (task["task_pk"], attempt, task["run_pk"], status, ts, ts, reason))


async def attempt_status(cur: Cursor, task_pk: int, attempt: int) -> str | None:
    row = await one(cur, ATTEMPT_STATUS, (task_pk, attempt))
    return row["status"] if row else None


async def finish_task(cur: Cursor, task: dict[str, Any], attempt: int, status: str,
                      reason: str | None, ts: int) -> None:
    await cur.execute(FINISH_TASK, (status, reason, ts, attempt, ts, task["task_pk"], attempt))


async def set_task_reason(cur: Cursor, task_pk: int, reason: str) -> None:
    await cur.execute(TASK_REASON, (reason, task_pk))


async def finish_run(cur: Cursor, run_pk: int, status: str, reason: str | None,
                     failed_step: str | None, ts: int) -> None:
    await cur.execute(FINISH_RUN, (status, reason, failed_step, ts, run_pk))


async def reopen_run(cur: Cursor, run_pk: int, step: str) -> None:
    await cur.execute(REOPEN_RUN, (run_pk, step))


async def set_run_reason(cur: Cursor, run_pk: int, step: str, reason: str) -> None:
    await cur.execute(RUN_REASON, (reason, run_pk, step))


async def set_origin_run(cur: Cursor, run_pk: int, origin: str) -> None:
    await cur.execute(SET_ORIGIN_RUN, (origin, run_pk))


async def set_cloned_from(cur: Cursor, task_pk: int, pathspec: str) -> None:
    await cur.execute(SET_CLONED_FROM, (pathspec, task_pk))


async def set_foreach_index(cur: Cursor, task_pk: int, index: int) -> None:
    await cur.execute(SET_FOREACH_INDEX, (index, task_pk))


async def set_foreach(cur: Cursor, task_pk: int, stack: list[dict[str, Any]], index: int | None,
                      value: str | None) -> None:
    await cur.execute(SET_FOREACH, (json.dumps(stack), index, value, task_pk))


async def set_dag(cur: Cursor, run_pk: int, dag: dict[str, Any]) -> None:
    await cur.execute(SET_DAG, (json.dumps(dag), run_pk))


async def set_parameters(cur: Cursor, run_pk: int, params: dict[str, Any]) -> None:
    await cur.execute(SET_PARAMETERS, (json.dumps(params), run_pk))


async def set_exception(cur: Cursor, task_pk: int, attempt: int, exc_type: str, message: str,
                        traceback: str, reason: str) -> None:
    await cur.execute(SET_EXCEPTION, (exc_type, message, traceback, reason, task_pk, attempt))


async def task_state(cur: Cursor, task_pk: int) -> dict[str, Any] | None:
    return await one(cur, TASK_ATTEMPT_FAILED, (task_pk,))
