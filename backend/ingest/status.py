"""Run, task and attempt status from Metaflow metadata, the way Metaflow users expect (§8).

The client never says "finished": an attempt starts with ``attempt`` metadata and ends with
``attempt_ok``; the run is completed when its end step's task ends ok, and failed when a task
fails with no retry left. Heartbeats only keep a running status alive (readers turn a stale
one into "heartbeat lost").
"""

from __future__ import annotations

from typing import Any

from backend.ingest.db import status as db
from backend.ingest.db.pool import Cursor
from backend.ingest.parents import fill_parents
from backend.ingest.wire import is_numeric

MAX_RETRIES = 5   # Metaflow caps a task at 6 attempts
DEFAULT_RETRY_TIMES = 3


def retries_allowed(decorators: Any) -> int:
    """Retries the step may take, from its decorators in the run's DAG (``@retry(times=N)``)."""
    if not isinstance(decorators, list):
        return 0
    for deco in decorators:
        if isinstance(deco, dict) and deco.get("name") == "retry":
            attrs = deco.get("attributes") or {}
            try:
                times = int(attrs.get("times", DEFAULT_RETRY_TIMES))
            except (TypeError, ValueError):
                times = DEFAULT_RETRY_TIMES
            return max(0, min(times, MAX_RETRIES))
    return 0


def has_decorator(decorators: Any, name: str) -> bool:
    return isinstance(decorators, list) and any(
        isinstance(d, dict) and d.get("name") == name for d in decorators)


async def apply_metadata(cur: Cursor, task_pk: int, rows: list[dict[str, Any]], ts: int) -> None:
    """Update statuses for a batch of metadata rows just stored for one task."""
    task = await db.lock_task(cur, task_pk)
    if task is None:
        return
    step = task["step_name"]
    ctx = await db.run_context(cur, task["run_pk"], step)
    origin_run = next((r["value"] for r in rows if r["field_name"] == "origin-run-id"), None)
    for r in rows:
        field, value = r["field_name"], r["value"]
        n = r["attempt"] if r["attempt"] is not None else task["attempt"]
        if field == "attempt" and is_numeric(value):
            n = int(value)
            await db.start_attempt(cur, task, n, ts)
            task["attempt"] = max(task["attempt"], n)
            if n > 0:
                # a retry of a step we had given up on: the run goes on after all
                await db.reopen_run(cur, task["run_pk"], step)
        elif field == "attempt_ok":
            await _attempt_ended(cur, task, ctx, n, value.strip().lower() == "true", ts)
        elif field == "attempt-done":
            if await db.attempt_status(cur, task_pk, n) is None and step.startswith("_"):
                # _parameters gets no attempt/attempt_ok metadata: done means done
                await db.finish_attempt(cur, task, n, "completed", None, ts)
                await db.finish_task(cur, task, n, "completed", None, ts)
        elif field == "origin-run-id" and value not in ("None", ""):
            await db.set_origin_run(cur, task["run_pk"], value)
        elif field == "origin-task-id" and origin_run and origin_run != "None":
            await db.set_cloned_from(cur, task_pk, f"{ctx['flow_id']}/{origin_run}/{step}/{value}")
        elif field == "foreach-execution-path":
            last = value.split(",")[-1].rsplit(":", 1)[-1]
            if is_numeric(last):
                await db.set_foreach_index(cur, task_pk, int(last))
    if any(r["field_name"] == "attempt" for r in rows):
        # The task is starting: its parents have all finished and registered their paths.
        await fill_parents(cur, task)


async def _attempt_ended(cur: Cursor, task: dict[str, Any], ctx: dict[str, Any], n: int, ok: bool,
                         ts: int) -> None:
    step = task["step_name"]
    if ok:
        await db.finish_attempt(cur, task, n, "completed", None, ts)
        await db.finish_task(cur, task, n, "completed", None, ts)
        if step == ctx["end_step"]:
            await db.finish_run(cur, task["run_pk"], "completed", None, None, ts)
        return
    retries = retries_allowed(ctx["decorators"])
    await db.finish_attempt(cur, task, n, "failed", f"attempt {n} failed", ts)
    if n < retries:
        await db.set_task_reason(cur, task["task_pk"],
                                 f"attempt {n} failed; retrying (attempt {n + 1} of {retries + 1})")
        return
    await db.finish_task(cur, task, n, "failed", f"attempt {n} failed", ts)
    if ctx["status"] == "running" and not step.startswith("_"):
        await db.finish_run(cur, task["run_pk"], "failed", f"step {step} failed", step, ts)
        ctx["status"] = "failed"
