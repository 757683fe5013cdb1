"""Rows behind a status explanation: the task that decided a run's status, a task's stored
status, and the attempt metadata Metaflow's rules read (``attempt``, ``attempt_ok``)."""

from __future__ import annotations

from typing import Any

from backend.db.liveness import status_filter
from backend.db.query import Db, Row
from backend.db.tasks import TASK_COLUMNS

# The end step's newest task (a completed run), or the run's first failed task, failed step first.
END_TASK = f"""
SELECT {TASK_COLUMNS}, t.status AS stored_status FROM tasks t JOIN runs r ON r.run_pk = t.run_pk
WHERE t.run_pk = %(run_pk)s AND t.step_name = %(step)s ORDER BY t.task_pk DESC LIMIT 1
"""
FAILED_TASK = f"""
SELECT {TASK_COLUMNS}, t.status AS stored_status FROM tasks t JOIN runs r ON r.run_pk = t.run_pk
WHERE t.run_pk = %(run_pk)s AND left(t.step_name, 1) <> '_' AND {status_filter('t', ['failed'])}
ORDER BY (t.step_name = %(step)s) DESC, COALESCE(t.finished_at, t.heartbeat_at, t.started_at, t.created_at),
         t.task_pk
LIMIT 1
"""
STORED_STATUS = "SELECT status FROM tasks WHERE task_pk = %(task_pk)s"
ATTEMPT_METADATA = """
SELECT m.attempt, m.field_name, m.value, m.created_at FROM metadata m
WHERE m.task_pk = %(task_pk)s AND m.field_name IN ('attempt', 'attempt_ok', 'attempt-done')
ORDER BY m.id
"""


# A task's parents ("step/task_id") that are tasks of the run (Metaflow's _parameters is not one):
# how many, how many finished, the last finish. One index lookup each (a join's 100,000 parents too).
PARENTS_FINISHED = """
SELECT count(p.task_pk) AS found, count(p.finished_at) AS done, max(p.finished_at) AS ready
FROM unnest(%(parents)s::text[]) AS x(key)
JOIN tasks p ON p.run_pk = %(run_pk)s AND p.step_name = split_part(x.key, '/', 1)
            AND p.task_id = substr(x.key, strpos(x.key, '/') + 1)
WHERE left(p.step_name, 1) <> '_'
"""


async def parents_finished(db: Db, run_pk: int, parents: list[str]) -> Row | None:
    """None for a task without parents (a root)."""
    if not parents:
        return None
    return await db.one(PARENTS_FINISHED, {"run_pk": run_pk, "parents": list(parents)})


async def end_task(db: Db, live: dict[str, Any], run_pk: int, step: str) -> Row | None:
    return await db.one(END_TASK, {**live, "run_pk": run_pk, "step": step})


async def failed_task(db: Db, live: dict[str, Any], run_pk: int, failed_step: str | None) -> Row | None:
    return await db.one(FAILED_TASK, {**live, "run_pk": run_pk, "step": failed_step or ""})


async def stored_status(db: Db, task_pk: int) -> str | None:
    value = await db.scalar(STORED_STATUS, {"task_pk": task_pk})
    return None if value is None else str(value)


async def attempt_metadata(db: Db, task_pk: int) -> list[Row]:
    return await db.all(ATTEMPT_METADATA, {"task_pk": task_pk})
