"""Every rule of the status explanations (backend/resources/explain.py) on the rows that fire it.

The API tests (test_api_triage.py, tests/ingest/test_triage_metaflow.py) check the rules real runs
reach; this file covers each rule once, including the ones a real run reaches only by a crash, a
signal or a resume.
"""

from __future__ import annotations

from typing import Any

import pytest

from backend.resources.explain import RULES, explain_run, explain_task

NATIVE = {"flow_id": "F", "run_id": "7", "source": "native"}
METAFLOW = {**NATIVE, "source": "metaflow"}


def attempt(n: int, status: str, **kw: Any) -> dict[str, Any]:
    return {"attempt": n, "status": status, "status_reason": None, "started_at": 1000 + n, "finished_at": 2000 + n,
            "exit_code": None, "exception_type": None, "exception_message": None, **kw}


def task(status: str, attempt_n: int = 0, **kw: Any) -> dict[str, Any]:
    return {"step_name": "train", "task_id": "3", "status": status, "status_reason": None, "attempt": attempt_n,
            "created_at": 900, "started_at": 1000, "heartbeat_at": 1500, "cloned_from": None, **kw}


def ok_row(n: int, value: str) -> dict[str, Any]:
    return {"attempt": n, "field_name": "attempt_ok", "value": value, "created_at": 2500 + n}


CASES = {
    "pending": (NATIVE, task("pending"), [], []),
    "heartbeat_fresh": (NATIVE, task("running"), [attempt(0, "running", finished_at=None)], []),
    "heartbeat_lost": (NATIVE, task("failed", stale=True), [attempt(0, "failed", finished_at=None)], []),
    "attempt_ok": (NATIVE, task("completed"), [attempt(0, "completed", exit_code=0)], []),
    "caught": (NATIVE, task("completed", 1), [attempt(0, "failed", exception_type="E"),
                                             attempt(1, "completed", status_reason="exception caught by @catch")], []),
    "cloned": (NATIVE, task("completed", cloned_from="F/6/train/2"), [attempt(0, "completed")], []),
    "exception": (NATIVE, task("failed"), [attempt(0, "failed", exception_type="ValueError", exception_message="x",
                                                   exit_code=1)], []),
    "timeout": (NATIVE, task("failed"), [attempt(0, "failed", status_reason="timeout after 30 s",
                                                 exception_type="TimeoutError", exception_message="timeout after 30 s")], []),
    "killed": (NATIVE, task("failed"), [attempt(0, "failed", status_reason="killed: step x failed: E", exit_code=-9)], []),
    "exit_code": (NATIVE, task("failed"), [attempt(0, "failed", exit_code=-9)], []),
    "writer_reason": (NATIVE, task("failed"), [attempt(0, "failed", status_reason="task process vanished")], []),
    "attempt_ok_false": (METAFLOW, task("failed"), [attempt(0, "failed")], [ok_row(0, "False")]),
}


@pytest.mark.parametrize("rule", list(CASES))
def test_task_rule(rule: str) -> None:
    run, t, attempts, meta = CASES[rule]
    why = explain_task(run, t, attempts, meta, [{"name": "retry", "attributes": {"times": 1}}], 60.0, now=100_000)
    assert why["rule"] == rule, why
    assert why["summary"] and why["evidence"] and why["kind"] == "task"
    if rule == "heartbeat_fresh":
        assert [a["rule"] for a in why["attempts"]] == ["running"]


def test_newer_attempt_and_per_attempt_rules() -> None:
    # Metaflow: attempt 0 has no attempt_ok but attempt 1 started: attempt 0 failed (its rule).
    why = explain_task(METAFLOW, task("completed", 1), [attempt(0, "failed"), attempt(1, "completed")],
                       [ok_row(1, "True")], None, 60.0, now=100_000)
    assert [a["rule"] for a in why["attempts"]] == ["newer_attempt", "attempt_ok"]
    assert why["rule"] == "attempt_ok" and "Metaflow recorded attempt_ok = True" in why["summary"]


def run_row(status: str, **kw: Any) -> dict[str, Any]:
    return {**NATIVE, "status": status, "status_reason": None, "stale": False, "failed_step": None,
            "finished_at": 5000, "started_at": 1000, "created_at": 900, "heartbeat_at": 4000, "n_tasks": 3,
            "n_running": 0, "n_completed": 2, "n_failed": 1, **kw}


def test_run_rules() -> None:
    lost = explain_run(run_row("failed", stale=True, heartbeat_at=1000), "end", None, [], [], None, 60.0, now=500_000)
    assert lost["rule"] == "heartbeat_lost" and lost["stored_status"] == "running" and "8 min" in lost["summary"]
    fresh = explain_run(run_row("running", heartbeat_at=499_000), "end", None, [], [], None, 60.0, now=500_000)
    assert fresh["rule"] == "heartbeat_fresh" and "1 s ago" in fresh["summary"]
    stopped = explain_run(run_row("failed", status_reason="interrupted by SIGINT"), "end", None, [], [], None, 60.0)
    assert stopped["rule"] == "interrupted" and "Ctrl-C" in stopped["summary"]
    other = explain_run(run_row("failed", status_reason="run stalled before the end step"), "end", None, [], [], None, 60.0)
    assert other["rule"] == "writer_reason"
    failed = explain_run(run_row("failed", failed_step="train", status_reason="step train failed: E: m"), "end",
                         task("failed"), [attempt(0, "failed", exception_type="E", exception_message="m")], [],
                         [{"name": "retry", "attributes": {"times": 0}}], 60.0)
    assert failed["rule"] == "task_failed" and "attempt 0 raised E: m" in failed["summary"]
    done = explain_run({**run_row("completed"), "source": "metaflow"}, "end", task("completed", step_name="end"),
                       [attempt(0, "completed")], [ok_row(0, "True")], None, 60.0)
    assert done["rule"] == "end_step_ok" and "newest attempt_ok of the end step (end) is True" in done["summary"]


def test_every_rule_is_covered() -> None:
    covered = set(CASES) | {"newer_attempt", "end_step_ok", "task_failed", "interrupted", "running"}
    assert covered == set(RULES)
