"""Flow / Run / Step / Task read back from rows written by the real writer (RunStore + datastore)."""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

import pytest
from client_recorder import Recorder

from contract.settings import Settings
from core_runtime.client import (
    DataArtifact,
    Flow,
    FlowscopeNotFound,
    Metaflow,
    Run,
    Step,
    Task,
    TaskException,
)

DAG = {"start_step": "start", "end_step": "end", "steps": {}}


def record_linear(rec: Recorder, flow: str, *, x: int = 1, fail_end: bool = False) -> str:
    run = rec.run(flow, dag=DAG, parameters={"alpha": 0.5})
    rec.task(run, "start", {"x": x, "items": [1, 2, 3]}, stdout="hello\nworld\n", stderr="warn\n")
    if fail_end:
        rec.task(run, "end", fail=ValueError("boom"))
        rec.store.finish_run(run, "failed", "step end failed: ValueError: boom", failed_step="end")
    else:
        rec.task(run, "end", {"x": x, "result": f"done-{x}"})
        rec.store.finish_run(run, "completed", None)
    return run.run_id


def test_run_data_and_tasks(client_settings: Settings, recorder: Recorder, flow_name: str) -> None:
    run_id = record_linear(recorder, flow_name, x=7)
    run = Run(f"{flow_name}/{run_id}")
    assert run.id == run_id and run.pathspec == f"{flow_name}/{run_id}"
    assert run.successful and run.finished
    assert isinstance(run.created_at, datetime) and isinstance(run.finished_at, datetime)
    assert run.finished_at >= run.created_at
    assert "user:tester" in run.tags and run.system_tags == frozenset({"user:tester"})
    assert run.parameters == {"alpha": 0.5}
    assert run.data is not None and run.data.result == "done-7"
    start_task = run["start"].task
    assert start_task is not None and start_task.data.items == [1, 2, 3]
    assert [s.id for s in run] == ["end", "start"]          # most recent step first, like Metaflow
    assert "start" in run and "nope" not in run

    task = run["start"].task
    assert task is not None
    assert task.successful and task.finished and task.exception is None
    assert task["x"].data == 7 and isinstance(task["x"], DataArtifact)
    assert task["items"].preview == "[1, 2, 3]" and task["items"].type == "list"
    assert "x" in task and "x" in task.data and "nope" not in task
    assert sorted(a.id for a in task) == ["items", "x"]
    assert task.stdout == "hello\nworld\n"
    assert task.stderr == "warn\n"
    assert [text for _ts, text in task.loglines("stdout")] == ["hello", "world"]
    assert isinstance(task.loglines("stdout")[0][0], datetime)
    assert task.pathspec == f"{flow_name}/{run_id}/start/{task.id}"
    same = Task(task.pathspec)
    assert same == task and same.data.x == 7
    assert Step(f"{flow_name}/{run_id}/start").task == task
    assert DataArtifact(f"{task.pathspec}/x").data == 7
    with pytest.raises(AttributeError, match="has no artifact 'nope'.*items, x"):
        _ = task.data.nope


def test_failed_run(client_settings: Settings, recorder: Recorder, flow_name: str) -> None:
    run_id = record_linear(recorder, flow_name, fail_end=True)
    run = Flow(flow_name)[run_id]
    assert not run.successful
    assert not run.finished           # Metaflow: finished = the end task finished (its _task_ok)
    assert run.status == "failed" and run.status_reason == "step end failed: ValueError: boom"
    end = run["end"].task
    assert end is not None and not end.finished and not end.successful
    assert isinstance(end.exception, TaskException)
    assert end.exception.type == "builtins.ValueError" and end.exception.exception == "boom"
    assert str(end.exception) == end.exception.stacktrace and end.exception.traceback.startswith("Traceback")
    assert end.stdout == ""


def test_run_failed_before_end_is_not_finished(client_settings: Settings, recorder: Recorder,
                                                 flow_name: str) -> None:
    run = recorder.run(flow_name, dag=DAG)
    recorder.task(run, "start", fail=ValueError("early"))
    recorder.store.finish_run(run, "failed", "step start failed: ValueError: early", failed_step="start")
    read = Run(f"{flow_name}/{run.run_id}")
    assert not read.finished and not read.successful and read.data is None
    assert read.finished_at is not None and read.failed_step == "start"


def test_flow_iterates_newest_first(client_settings: Settings, recorder: Recorder, flow_name: str) -> None:
    ids = [record_linear(recorder, flow_name, x=i) for i in range(3)]
    failed = record_linear(recorder, flow_name, fail_end=True)
    flow = Flow(flow_name)
    assert [r.id for r in flow] == [failed, *reversed(ids)]
    assert flow.latest_run is not None and flow.latest_run.id == failed
    latest_ok = flow.latest_successful_run
    assert latest_ok is not None and latest_ok.id == ids[-1]
    assert latest_ok.data is not None and latest_ok.data.x == 2
    assert flow_name in {f.id for f in Metaflow().flows}


def test_retried_task_reads_latest_attempt(client_settings: Settings, recorder: Recorder,
                                           flow_name: str) -> None:
    run = recorder.run(flow_name, dag=DAG)
    ref = recorder.store.create_task(run, "start")
    recorder.store.start_attempt(ref, 0)
    recorder.store.finish_attempt(ref, 0, status="failed", exit_code=1, exception_type="RuntimeError",
                                  exception_message="flaky", final=False)
    recorder.task(run, "start", {"ok": True}, stdout="second try\n", attempt=1, task=ref)
    task = Run(f"{flow_name}/{run.run_id}")["start"].task
    assert task is not None
    assert task.current_attempt == 1 and task.successful and task.exception is None
    assert task.data.ok is True and task.stdout == "second try\n"


def test_foreach_tasks_and_index(client_settings: Settings, recorder: Recorder, flow_name: str) -> None:
    run = recorder.run(flow_name, dag=DAG)
    for i in range(4):
        recorder.task(run, "square", {"sq": i * i}, foreach_index=i)
    step = Run(f"{flow_name}/{run.run_id}")["square"]
    tasks = list(step)
    assert [t.index for t in tasks] == [0, 1, 2, 3]
    assert [t.data.sq for t in tasks] == [0, 1, 4, 9]
    assert step[tasks[2].id].data.sq == 4


def test_not_found_messages(client_settings: Settings, recorder: Recorder, flow_name: str) -> None:
    run_id = record_linear(recorder, flow_name)
    with pytest.raises(FlowscopeNotFound, match=f"flow {flow_name}X not found"):
        Flow(flow_name + "X")
    with pytest.raises(FlowscopeNotFound, match=f"run {flow_name}/999999 not found"):
        Run(f"{flow_name}/999999")
    with pytest.raises(FlowscopeNotFound, match=f"step {flow_name}/{run_id}/nope not found"):
        Run(f"{flow_name}/{run_id}")["nope"]
    with pytest.raises(FlowscopeNotFound, match="artifact zz not found in task"):
        Run(f"{flow_name}/{run_id}")["start"].task["zz"]
    with pytest.raises(FlowscopeNotFound, match="expected a pathspec like 'FlowName/RunId'"):
        Run(flow_name)
    with pytest.raises(FlowscopeNotFound, match=f"task {flow_name}/{run_id}/start/0 not found"):
        Task(f"{flow_name}/{run_id}/start/0")


def test_running_run_with_lost_heartbeat(client_settings: Settings, recorder: Recorder, flow_name: str,
                                         db: Any) -> None:
    run = recorder.run(flow_name, dag=DAG)
    live = Run(f"{flow_name}/{run.run_id}")
    assert live.status == "running" and live.finished_at is None and not live.finished
    stale = int(time.time() * 1000) - int(client_settings.heartbeat_timeout * 1000) - 5000
    with db.cursor() as cur:
        cur.execute("UPDATE runs SET heartbeat_at = %s WHERE run_pk = %s", (stale, run.run_pk))
    dead = Run(f"{flow_name}/{run.run_id}")
    assert dead.status == "failed" and not dead.successful
    assert dead.status_reason is not None and dead.status_reason.startswith("heartbeat lost at ")


def test_exception_type_is_qualified_as_metaflow_names_it() -> None:
    """``task.exception.type`` from what an attempt recorded (its class's name and traceback): Python
    writes the class bare in a traceback only for builtins and __main__ (a flow file run as a script)."""
    from core_runtime.client.task import qualified_type

    tb = 'Traceback (most recent call last):\n  File "f.py", line 3, in start\n    raise E\n'
    assert qualified_type("ValueError", tb + "ValueError: bad\nsecond line of it\n") == "builtins.ValueError"
    assert qualified_type("QuotaExceeded", tb + "QuotaExceeded: over\n") == "__main__.QuotaExceeded"
    assert qualified_type("DataError", tb + "mylib.errors.DataError: no rows\n") == "mylib.errors.DataError"
    assert qualified_type("KeyError", tb + "KeyError\n") == "builtins.KeyError"
    # pip metaflow's runs (ingested) recorded the qualified name, builtins. removed
    assert qualified_type("__main__.QuotaExceeded", "") == "__main__.QuotaExceeded"
    # the runtime's own, recorded without a traceback (a step killed past its @timeout)
    assert qualified_type("TimeoutException", "") == "core_runtime.plugins.timeout_decorator.TimeoutException"


def test_run_trigger_is_read_from_the_start_tasks_execution_triggers(client_settings: Settings,
                                                                     recorder: Recorder, flow_name: str) -> None:
    """``Run.trigger`` as Metaflow's client derives it: the start task's ``execution-triggers``
    metadata (what Metaflow's Argo Workflows deployments record for an event-triggered run), newest
    event first; None for a run without it."""
    plain = record_linear(recorder, flow_name)
    assert Run(f"{flow_name}/{plain}").trigger is None

    run = recorder.run(flow_name, dag=DAG)
    start = recorder.task(run, "start", {"x": 1})
    events = [{"timestamp": 1796500000, "id": "evt-1", "name": "data_ready", "type": "event"},
              {"timestamp": 1796500600, "id": "evt-2", "name": "model_approved", "type": "event"}]
    recorder.store.record_metadata(start, 0, [("execution-triggers", json.dumps(events), "execution-triggers")])
    recorder.task(run, "end", {"x": 1})
    recorder.store.finish_run(run, "completed", None)
    trigger = Run(f"{flow_name}/{run.run_id}").trigger
    assert trigger is not None and trigger.event is not None
    assert [(e.name, e.id, e.type) for e in trigger.events or []] == [
        ("model_approved", "evt-2", "event"), ("data_ready", "evt-1", "event")]
    assert trigger.event.timestamp == datetime.fromtimestamp(1796500600)
    assert trigger.runs is None          # started by events, not by finished runs
