"""Tasks and their attempts: JSON shapes, schemas, and the live feed of a run's (or a step's) tasks."""

from __future__ import annotations

from typing import Any

from backend.db import tasks as tasks_db
from backend.db.query import Row
from backend.live.events import Batch, Event, Feed, FeedContext, Target
from backend.params import get_list
from backend.resources.schema import ANY, INT, STATUS, STR, arr, nullable, obj, ref

TASKS_LIMIT = 5000     # rows per fetch of a task list feed

SCHEMAS = {
    "Attempt": obj({
        "attempt": INT, "status": STATUS, "status_reason": nullable(STR), "started_at": nullable(INT),
        "finished_at": nullable(INT), "duration_ms": nullable(INT), "exit_code": nullable(INT),
        "exception_type": nullable(STR), "exception_message": nullable(STR), "traceback": nullable(STR),
    }, description="One attempt of a task (retries make more)."),
    "ForeachFrame": obj({}, optional={"step": STR, "var": nullable(STR), "num_splits": nullable(INT),
                                      "index": nullable(INT), "value": ANY}, extra=True),
    "Task": obj({
        "flow_id": STR, "run_id": STR, "step_name": STR, "task_id": STR, "pathspec": STR,
        "status": STATUS, "status_reason": nullable(STR), "attempt": INT,
        "foreach_index": nullable(INT), "foreach_value": nullable(STR),
        "foreach_stack": nullable(arr(ref("ForeachFrame"))), "iteration_stack": arr(INT),
        "parent_task_ids": arr(STR),
        "cloned_from": nullable(STR), "created_at": INT, "started_at": nullable(INT),
        "finished_at": nullable(INT), "duration_ms": nullable(INT), "heartbeat_at": nullable(INT),
        "attempts": arr(ref("Attempt")), "seq": INT,
    }, description="A task with its attempts; status is the latest attempt's, effective."),
}


def attempt_shape(row: Row) -> dict[str, Any]:
    return {k: row[k] for k in ("attempt", "status", "status_reason", "started_at", "finished_at",
                                "duration_ms", "exit_code", "exception_type", "exception_message",
                                "traceback")}


def task_shape(row: Row, attempts: list[Row] | None) -> dict[str, Any]:
    pathspec = f"{row['flow_id']}/{row['run_id']}/{row['step_name']}/{row['task_id']}"
    return {
        "flow_id": row["flow_id"], "run_id": row["run_id"], "step_name": row["step_name"],
        "task_id": row["task_id"], "pathspec": pathspec, "status": row["status"],
        "status_reason": row["status_reason"], "attempt": row["attempt"],
        "foreach_index": row["foreach_index"], "foreach_value": row["foreach_value"],
        "foreach_stack": row["foreach_stack"],
        # [k] for the k-th (0-based) iteration of a recursive step, [] elsewhere
        "iteration_stack": list(row["iteration_stack"] or []),
        "parent_task_ids": list(row["parent_task_ids"] or []),
        "cloned_from": row["cloned_from"], "created_at": row["created_at"],
        "started_at": row["started_at"], "finished_at": row["finished_at"],
        "duration_ms": row["duration_ms"], "heartbeat_at": row["heartbeat_at"],
        "attempts": [attempt_shape(a) for a in attempts or []], "seq": row["change_seq"],
    }


def prepare_tasks(target: Target) -> None:
    """A task list's filters (?step=, ?status=), or the one task its path names."""
    p = target.path
    if "task" in p:
        target.extra.update(steps=[p["step"]], statuses=[], task_id=p["task"])
        return
    target.extra["steps"] = [p["step"]] if "step" in p else get_list(target.query, "step")
    target.extra["statuses"] = get_list(target.query, "status", tasks_db.TASK_STATUSES)


async def tasks_feed(target: Target, since: int, ctx: FeedContext) -> Batch:
    assert target.run_pk is not None
    rows, complete = await tasks_db.tasks_changed(
        ctx.db, ctx.live, target.run_pk, since, TASKS_LIMIT, steps=target.extra["steps"],
        statuses=target.extra["statuses"], task_id=target.extra.get("task_id"))
    attempts = await tasks_db.attempts_of(ctx.db, ctx.live, [r["task_pk"] for r in rows])
    return Batch([Event("update", f"{r['step_name']}/{r['task_id']}", r["change_seq"],
                        task_shape(r, attempts[r["task_pk"]]), r["created_at"]) for r in rows], complete)


FEEDS = (Feed("tasks", "run", tasks_feed, "Task", prepare_tasks),)
