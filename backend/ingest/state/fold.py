"""What each Metaflow record does to Flowscope's rows: run, task and attempt status (§8).

The one translation of "a run that Metaflow wrote", whichever way it arrived: the ingest
service applies one HTTP call's records at a time, the mirror applies whole runs read from a
metaflow-service database. Pure functions on the in-memory rows of ``model``; no I/O.

The client never says "finished": an attempt starts with ``attempt`` metadata and ends with
``attempt_ok``; the run is completed when its end step's task ends ok, and failed when a task
fails with no retry left. Heartbeats only keep a running status alive (readers turn a stale one
into "heartbeat lost").
"""

from __future__ import annotations

from typing import Any

from backend.ingest.enrich import Enrichment
from backend.ingest.state.model import ArtifactRecord, AttemptState, MetadataRecord, RunState, TaskState
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


# -- creation and liveness ------------------------------------------------------------------

def run_created(run: RunState, ts: int) -> None:
    run.set("started_at", ts)
    run.set("heartbeat_at", ts)


def run_heartbeat(run: RunState, ts: int) -> None:
    if ts > (run.heartbeat_at or 0):
        run.set("heartbeat_at", ts)


def task_created(task: TaskState, ts: int) -> None:
    # The official service refreshes the run's heartbeat when a task is created.
    run_heartbeat(task.run, ts)


def task_heartbeat(task: TaskState, ts: int) -> None:
    """A beat marks a pending task running; a beat after the end never reopens it."""
    if ts > (task.heartbeat_at or 0):
        task.set("heartbeat_at", ts)
    if task.status == "pending":
        task.set("status", "running")
    if task.started_at is None:
        task.set("started_at", ts)
    current = task.attempts.get(task.attempt)
    if current is not None:
        current.set("heartbeat_at", ts)
    run_heartbeat(task.run, ts)


# -- metadata ----------------------------------------------------------------------------------

# The metadata fields ``apply_metadata`` acts on; rows of other fields change no status (the
# mirror's backfill copies those without replaying them, backend/mirror/bulk.py).
FOLD_FIELDS = ("attempt", "attempt_ok", "attempt-done", "origin-run-id", "origin-task-id",
               "foreach-execution-path", "end_step")


def apply_metadata(task: TaskState, rows: list[MetadataRecord]) -> None:
    """Update statuses for one call's metadata rows of one task, in order."""
    run = task.run
    origin_run = next((r.value for r in rows if r.field_name == "origin-run-id"), None)
    starting = False      # an "attempt" row in the call (noted in the loop: a second pass cost 4 % of a backfill)
    for r in rows:
        field, value, ts = r.field_name, r.value, r.ts
        n = r.attempt if r.attempt is not None else task.attempt
        if field == "attempt":
            starting = True
            if is_numeric(value):
                n = int(value)
                _start_attempt(task, n, ts)
                if n > 0:
                    # a retry of a step we had given up on: the run goes on after all
                    _reopen_run(run, task.step_name)
        elif field == "attempt_ok":
            _attempt_ended(task, n, value.strip().lower() == "true", ts)
        elif field == "attempt-done":
            if n not in task.attempts and task.internal:
                # _parameters gets no attempt/attempt_ok metadata: done means done
                _finish_attempt(task, n, "completed", None, ts)
                _finish_task(task, n, "completed", None, ts)
        elif field == "origin-run-id" and value not in ("None", ""):
            if run.origin_run_id is None:
                run.set("origin_run_id", value)
        elif field == "origin-task-id" and origin_run and origin_run != "None":
            task.set("cloned_from", f"{run.flow_id}/{origin_run}/{task.step_name}/{value}")
        elif field == "foreach-execution-path":
            task.foreach_path = value
            last = value.split(",")[-1].rsplit(":", 1)[-1]
            if is_numeric(last):
                task.set("foreach_index", int(last))
        elif field == "end_step":
            run.end_step_meta = value
    if starting and not task.internal and not task.parent_task_ids:
        # The task is starting: its parents have all finished and registered their paths.
        task.needs_parents = True


def _start_attempt(task: TaskState, n: int, ts: int) -> None:
    if n not in task.attempts:
        task.attempts[n] = AttemptState(attempt=n, status="running", started_at=ts)
    for earlier in task.attempts.values():
        if earlier.attempt < n and earlier.status == "running":
            earlier.set("status", "failed")
            if earlier.finished_at is None:
                earlier.set("finished_at", ts)
            if earlier.status_reason is None:
                earlier.set("status_reason", f"superseded by attempt {n}")
    if task.attempt <= n:
        task.set("attempt", n)
        task.set("status", "running")
        task.set("status_reason", None)
        task.set("finished_at", None)
        if task.started_at is None:
            task.set("started_at", ts)


def _finish_attempt(task: TaskState, n: int, status: str, reason: str | None, ts: int) -> None:
    att = task.attempts.get(n)
    if att is None:
        task.attempts[n] = AttemptState(attempt=n, status=status, started_at=ts, finished_at=ts,
                                        status_reason=reason)
        return
    att.set("status", status)
    att.set("finished_at", ts)
    if att.status_reason is None:
        att.set("status_reason", reason)


def _finish_task(task: TaskState, n: int, status: str, reason: str | None, ts: int) -> None:
    if task.attempt > n:
        return
    task.set("status", status)
    task.set("status_reason", reason)
    task.set("finished_at", ts)
    task.set("attempt", max(task.attempt, n))
    if task.started_at is None:
        task.set("started_at", ts)


def _finish_run(run: RunState, status: str, reason: str | None, failed_step: str | None, ts: int) -> None:
    run.set("status", status)
    run.set("status_reason", reason)
    run.set("failed_step", failed_step)
    run.set("finished_at", ts)


def _reopen_run(run: RunState, step: str) -> None:
    if run.status == "failed" and run.failed_step == step:
        run.set("status", "running")
        run.set("status_reason", None)
        run.set("failed_step", None)
        run.set("finished_at", None)


def _attempt_ended(task: TaskState, n: int, ok: bool, ts: int) -> None:
    run, step = task.run, task.step_name
    if ok:
        _finish_attempt(task, n, "completed", None, ts)
        _finish_task(task, n, "completed", None, ts)
        if step == run.end_step:
            _finish_run(run, "completed", None, None, ts)
        return
    retries = retries_allowed(run.decorators(step))
    _finish_attempt(task, n, "failed", f"attempt {n} failed", ts)
    if n < retries:
        task.set("status_reason", f"attempt {n} failed; retrying (attempt {n + 1} of {retries + 1})")
        return
    _finish_task(task, n, "failed", f"attempt {n} failed", ts)
    if run.status == "running" and not task.internal:
        _finish_run(run, "failed", f"step {step} failed", step, ts)


# -- artifacts ---------------------------------------------------------------------------------

def describe_artifacts(rows: list[ArtifactRecord], info: Enrichment | None) -> None:
    """Types, sizes and previews from the datastore onto the artifact records."""
    if info is None:
        return
    for r in rows:
        r.type, r.size = info.types.get(r.name, (None, None))
        r.preview = info.previews.get(r.name)


def apply_artifacts(task: TaskState, attempt: int, info: Enrichment | None) -> None:
    """What an attempt's artifacts tell: the DAG, parameters, foreach position, loop iteration, its error."""
    if info is None:
        return
    run = task.run
    if info.dag is not None:
        run.set("dag", info.dag)
    if info.parameters is not None:
        run.set("parameters", info.parameters)
    if info.foreach_stack:
        last = info.foreach_stack[-1]
        value = last.get("value")
        task.set("foreach_stack", info.foreach_stack)
        task.set("foreach_index", last.get("index") if isinstance(last.get("index"), int) else None)
        task.set("foreach_value", None if value is None else str(value)[:200])
    if info.iteration_stack:
        task.set("iteration_stack", info.iteration_stack)
    exc = info.exception
    if exc is None:
        return
    exc_type = exc.type.removeprefix("builtins.")
    what = f"{exc_type}: {exc.message}" if exc.message else exc_type
    reason = f"@catch caught {what}" if info.caught else what
    att = task.attempts.get(attempt)
    if att is not None:
        att.set("exception_type", exc_type)
        att.set("exception_message", exc.message)
        att.set("traceback", exc.stacktrace)
        att.set("status_reason", reason)
    if task.attempt == attempt and (info.caught or task.status == "failed"):
        task.set("status_reason", reason)
    if not info.caught and run.status == "failed" and run.failed_step == task.step_name:
        run.set("status_reason", f"step {task.step_name} failed: {what}")
