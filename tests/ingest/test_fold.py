"""The translation of Metaflow records (backend/ingest/state/fold.py), without a database.

The same functions serve the ingest service (one HTTP call at a time) and the mirror (whole runs
read from a metaflow-service database); these pin down the rules both rely on.
"""

from __future__ import annotations

from backend.ingest.enrich import Enrichment
from backend.ingest.state import fold
from backend.ingest.state.model import MetadataRecord, RunState, TaskState
from backend.ingest.state.parents import derive_parents
from backend.sandbox.safe_pickle import ExceptionRecord

DAG = {"end_step": "end", "steps": {
    "start": {"type": "split-foreach", "next": ["square"], "decorators": []},
    "square": {"type": "linear", "next": ["gather"],
               "decorators": [{"name": "retry", "attributes": {"times": 2}}]},
    "gather": {"type": "join", "next": ["risky"], "decorators": []},
    "risky": {"type": "linear", "next": ["end"], "decorators": [{"name": "catch", "attributes": {}}]},
    "end": {"type": "end", "next": [], "decorators": []}}}


def md(field: str, value: str, attempt: int, ts: int) -> MetadataRecord:
    return MetadataRecord(field_name=field, value=value, type=field, tags=[f"attempt_id:{attempt}"],
                          attempt=attempt, ts=ts)


def error(kind: str, message: str) -> ExceptionRecord:
    record = ExceptionRecord()
    record.__setstate__({"type": kind, "exception": message, "stacktrace": "Traceback ..."})
    return record


def new_run() -> RunState:
    run = RunState(flow_id="F", run_id="1", created_at=1000, dag=DAG)
    fold.run_created(run, 1000)
    return run


def task(run: RunState, step: str, task_id: str = "2") -> TaskState:
    t = TaskState(run=run, step_name=step, task_id=task_id, created_at=1100)
    fold.task_created(t, 1100)
    return t


def test_an_attempt_runs_then_completes_and_the_end_step_completes_the_run() -> None:
    run = new_run()
    end = task(run, "end")
    fold.apply_metadata(end, [md("attempt", "0", 0, 2000)])
    assert (end.status, end.started_at, end.attempts[0].status) == ("running", 2000, "running")
    assert run.status == "running"
    fold.apply_metadata(end, [md("attempt_ok", "True", 0, 3000)])
    assert (end.status, end.finished_at, end.attempts[0].status) == ("completed", 3000, "completed")
    assert (run.status, run.finished_at) == ("completed", 3000)


def test_a_retried_attempt_then_a_final_failure_fails_the_run_with_the_error() -> None:
    run = new_run()
    sq = task(run, "square")
    fold.apply_metadata(sq, [md("attempt", "0", 0, 2000)])
    fold.apply_metadata(sq, [md("attempt_ok", "False", 0, 2100)])
    assert sq.attempts[0].status == "failed" and run.status == "running"
    assert sq.status_reason == "attempt 0 failed; retrying (attempt 1 of 3)"
    fold.apply_metadata(sq, [md("attempt", "1", 1, 2200)])
    assert (sq.status, sq.attempt, sq.status_reason) == ("running", 1, None)
    fold.apply_metadata(sq, [md("attempt", "2", 2, 2300)])     # attempt 1 never reported: superseded
    assert sq.attempts[1].status == "failed" and sq.attempts[1].status_reason == "superseded by attempt 2"
    fold.apply_metadata(sq, [md("attempt_ok", "False", 2, 2400)])
    assert (sq.status, run.status, run.failed_step) == ("failed", "failed", "square")
    err = Enrichment(exception=error("builtins.ValueError", "bad"))
    fold.apply_artifacts(sq, 2, err)
    assert sq.attempts[2].exception_type == "ValueError" and sq.status_reason == "ValueError: bad"
    assert run.status_reason == "step square failed: ValueError: bad"


def test_catch_completes_the_task_with_the_caught_error_as_reason() -> None:
    run = new_run()
    risky = task(run, "risky")
    fold.apply_metadata(risky, [md("attempt", "0", 0, 2000), md("attempt_ok", "True", 0, 2100)])
    caught = Enrichment(exception=error("builtins.RuntimeError", "oops"), caught=True)
    fold.apply_artifacts(risky, 0, caught)
    assert risky.status == "completed" and risky.status_reason == "@catch caught RuntimeError: oops"
    assert run.status == "running" and run.status_reason is None


def test_heartbeats_start_a_pending_task_and_only_move_forward() -> None:
    run = new_run()
    t = task(run, "start")
    assert t.status == "pending" and t.heartbeat_at is None and run.heartbeat_at == 1100
    fold.task_heartbeat(t, 5000)
    assert (t.status, t.started_at, t.heartbeat_at, run.heartbeat_at) == ("running", 5000, 5000, 5000)
    fold.task_heartbeat(t, 4000)
    assert t.heartbeat_at == 5000 and run.heartbeat_at == 5000


def test_parameters_task_is_done_when_its_attempt_is_done() -> None:
    run = new_run()
    params = task(run, "_parameters", "1")
    fold.apply_metadata(params, [md("end_step", "end", 0, 1200), md("attempt-done", "0", 0, 1300)])
    assert params.status == "completed" and run.end_step_meta == "end" and run.status == "running"


def test_foreach_labels_and_parents() -> None:
    run = new_run()
    sq = task(run, "square", "3")
    fold.apply_metadata(sq, [md("attempt", "0", 0, 2000), md("foreach-execution-path", "start:1", 0, 2000)])
    assert sq.foreach_index == 1 and sq.needs_parents
    # candidates: (step, task id, foreach path, creation order); then the task's own order
    join = derive_parents(DAG, "gather", "", [("square", "3", "start:0", 3), ("square", "4", "start:1", 4),
                                             ("start", "2", None, 2)], 5)
    assert join == ["square/3", "square/4"]
    assert derive_parents(DAG, "square", "start:1", [("start", "2", None, 2)], 4) == ["start/2"]
