"""Branch/join, foreach with a retried task and @catch, a failing step and its resume."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mf_harness import Ingest, client_read, metaflow_env, run_flow
from mf_sql import artifacts_of, attempts_of, run_row, tasks_of

from backend.metaflow_store import open_root, read_log

pytestmark = pytest.mark.compat


def test_branch_join(ingest: Ingest, db: Any, tmp_path: Path) -> None:
    env = metaflow_env(ingest, tmp_path)
    run_flow("branch_flow.py", ["run"], env, tmp_path)
    got = client_read(
        "run = Flow('BranchFlow').latest_run\n"
        "print(json.dumps({'id': run.id, 'ok': run.successful, 'sides': run.data.sides,"
        " 'join_parents': sorted(s.id for s in run['join'].parent_steps),"
        " 'start_children': sorted(s.id for s in run['start'].child_steps)}))", env, tmp_path)
    assert got["ok"] is True and got["sides"] == ["left", "right"]
    assert got["join_parents"] == ["left", "right"] and got["start_children"] == ["left", "right"]
    run = run_row(db, "BranchFlow", got["id"])
    assert run["status"] == "completed"
    assert run["dag"]["graph_structure"] == ["start", [["left"], ["right"]], "join", "end"]
    assert run["dag"]["steps"]["start"]["type"] == "split-static"
    steps = {t["step_name"]: t["status"] for t in tasks_of(db, run["run_pk"])}
    assert steps == {"_parameters": "completed", "start": "completed", "left": "completed",
                     "right": "completed", "join": "completed", "end": "completed"}
    ids = {t["step_name"]: t["task_id"] for t in tasks_of(db, run["run_pk"])}
    parents = {t["step_name"]: sorted(t["parent_task_ids"]) for t in tasks_of(db, run["run_pk"])}
    assert parents["join"] == [f"left/{ids['left']}", f"right/{ids['right']}"]
    assert parents["left"] == [f"start/{ids['start']}"] and parents["start"] == []


def test_foreach_retry_and_catch(ingest: Ingest, db: Any, tmp_path: Path) -> None:
    env = metaflow_env(ingest, tmp_path)
    run_flow("foreach_flow.py", ["run"], env, tmp_path)
    got = client_read(
        "run = Flow('ForeachFlow').latest_run\n"
        "sq = sorted(run['square'], key=lambda t: t.index)\n"
        "flaky = sq[1]\n"
        "a0 = Task(flaky.pathspec, attempt=0)\n"
        "risky = run['risky'].task\n"
        "print(json.dumps({'id': run.id, 'ok': run.successful, 'total': run.data.total,"
        " 'indexes': [t.index for t in sq], 'flaky': flaky.id, 'flaky_attempt': flaky.current_attempt,"
        " 'a0': [a0.finished, a0.successful, str(a0.exception)],"
        " 'risky': [risky.finished, risky.successful, risky.exception is None],"
        " 'err': str(risky.data.risky_error), 'risky_out': risky.stdout,"
        " 'a0_err': a0.stderr}))", env, tmp_path)
    assert got["ok"] is True and got["total"] == 5
    assert got["indexes"] == [0, 1, 2] and got["flaky_attempt"] == 1
    assert got["a0"][:2] == [False, False] and "flaky item 1" in got["a0"][2]
    assert got["risky"] == [True, False, True] and "risky went wrong" in got["err"]
    assert "@catch caught an exception" in got["risky_out"]
    assert "flaky item 1" in got["a0_err"]

    run = run_row(db, "ForeachFlow", got["id"])
    assert run["status"] == "completed" and run["status_reason"] is None
    assert run["dag"]["steps"]["start"]["type"] == "split-foreach"
    tasks = {(t["step_name"], t["task_id"]): t for t in tasks_of(db, run["run_pk"])}
    squares = sorted((t for t in tasks.values() if t["step_name"] == "square"),
                     key=lambda t: t["foreach_index"])
    assert [(t["foreach_index"], t["foreach_value"]) for t in squares] == [(0, "0"), (1, "1"), (2, "2")]
    assert squares[1]["foreach_stack"] == [
        {"step": "square", "var": "items", "num_splits": 3, "index": 1, "value": "1"}]
    flaky = squares[1]
    assert flaky["task_id"] == got["flaky"] and flaky["status"] == "completed" and flaky["attempt"] == 1
    attempts = [a for a in attempts_of(db, run["run_pk"]) if a["task_id"] == flaky["task_id"]]
    assert [(a["attempt"], a["status"]) for a in attempts] == [(0, "failed"), (1, "completed")]
    assert attempts[0]["exception_type"] == "ValueError"
    assert attempts[0]["exception_message"] == "flaky item 1"
    assert "Traceback" in attempts[0]["traceback"]
    arts = artifacts_of(db, run["run_pk"], "square")
    assert (0, "_task_ok") in arts and (1, "sq") in arts
    risky = next(t for t in tasks.values() if t["step_name"] == "risky")
    assert risky["status"] == "completed"
    assert risky["status_reason"] == "@catch caught RuntimeError: risky went wrong"
    assert (run["n_tasks"], run["n_completed"], run["n_failed"]) == (7, 7, 0)


def test_failing_step_then_resume(ingest: Ingest, db: Any, tmp_path: Path) -> None:
    env = metaflow_env(ingest, tmp_path)
    run_flow("failing_flow.py", ["run"], env, tmp_path, expect_ok=False)
    failed = client_read(
        "run = Flow('FailingFlow').latest_run\n"
        "boom = run['boom'].task\n"
        "print(json.dumps({'id': run.id, 'finished': run.finished, 'ok': run.successful,"
        " 'boom': [boom.finished, boom.successful], 'stderr': boom.stderr}))", env, tmp_path)
    assert failed["finished"] is False and failed["ok"] is False
    assert failed["boom"] == [False, False]
    assert "bad alpha" in failed["stderr"] and failed["stderr"].endswith("Task failed.\n")

    run = run_row(db, "FailingFlow", failed["id"])
    assert run["status"] == "failed" and run["failed_step"] == "boom"
    assert run["status_reason"] == "step boom failed: ValueError: bad alpha"
    boom = next(t for t in tasks_of(db, run["run_pk"]) if t["step_name"] == "boom")
    assert boom["status"] == "failed" and boom["status_reason"] == "ValueError: bad alpha"
    assert not any(t["step_name"] == "end" for t in tasks_of(db, run["run_pk"]))
    # "Task failed." is the last line of the file, written without a newline
    lines = read_log(open_root(f"{tmp_path}/.metaflow"), "FailingFlow", failed["id"], "boom",
                     boom["task_id"], 0, "stderr")
    assert lines[-1].text == "Task failed." and lines[-1].ts_ms is not None

    run_flow("failing_flow.py", ["resume", "--origin-run-id", failed["id"]],
             dict(env, BOOM_OK="1"), tmp_path)
    resumed = client_read(
        "runs = list(Flow('FailingFlow').runs())\n"
        "run = max(runs, key=lambda r: int(r.id))\n"
        "print(json.dumps({'id': run.id, 'ok': run.successful, 'value': run.data.value,"
        " 'origin': run['start'].task.metadata_dict.get('origin-run-id')}))", env, tmp_path)
    assert resumed["ok"] is True and resumed["value"] == 42 and resumed["id"] != failed["id"]
    assert resumed["origin"] == failed["id"]
    new = run_row(db, "FailingFlow", resumed["id"])
    assert new["status"] == "completed" and new["origin_run_id"] == failed["id"]
    assert new["dag"]["end_step"] == "end"
    start = next(t for t in tasks_of(db, new["run_pk"]) if t["step_name"] == "start")
    old_start = next(t for t in tasks_of(db, run["run_pk"]) if t["step_name"] == "start")
    assert start["status"] == "completed"
    assert start["cloned_from"] == f"FailingFlow/{failed['id']}/start/{old_start['task_id']}"
