"""Round trip: run the shared fixture flows with ``python flow.py run`` and read them back."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from contract.settings import Settings
from core_runtime.client import Flow, Run, TaskException

FLOWS = Path(__file__).resolve().parent.parent / "fixtures" / "flows"


@pytest.fixture(scope="module")
def ran(flowscope_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Run each fixture flow once; returns flow file → the tail of its console output."""
    cwd = tmp_path_factory.mktemp("round-trip")
    out: dict[str, str] = {}
    for name, args, rc in [("linear_flow.py", ["--alpha", "0.25", "--tag", "rt"], 0),
                           ("branch_flow.py", [], 0), ("foreach_flow.py", [], 0),
                           ("nested_foreach_flow.py", [], 0), ("failing_flow.py", [], 1),
                           ("retry_catch_flow.py", [], 0)]:
        proc = subprocess.run([sys.executable, str(FLOWS / name), "run", *args], cwd=cwd,
                              env=flowscope_env, capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == rc, f"{name}: {proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
        out[name] = proc.stdout + proc.stderr
    return out


def test_linear_parameters_and_logs(ran: dict[str, str], client_settings: Settings) -> None:
    run = Flow("LinearFlow").latest_run
    assert run is not None and run.successful and run.finished
    assert run.parameters["alpha"] == 0.25 and run.parameters["label"] == "demo"
    assert "rt" in run.tags and "user:tester" in run.tags
    assert run.data is not None and run.data.result == "demo:2"
    assert run["middle"].task is not None and run["middle"].task.data.scaled == 2.5
    start = run["start"].task
    assert start is not None and start.stdout == "starting with alpha 0.25\n"
    assert run.finished_at is not None and run.created_at is not None and run.finished_at >= run.created_at
    assert Run(run.pathspec) == run
    assert [s.id for s in run] == ["end", "middle", "start"]


def test_branch_join(ran: dict[str, str], client_settings: Settings) -> None:
    run = Flow("BranchFlow").latest_run
    assert run is not None and run.successful
    assert run["join"].task is not None and run["join"].task.data.total == 23
    assert sorted(t.data.value for s in ("a", "b") for t in run[s]) == [11, 12]


def test_foreach(ran: dict[str, str], client_settings: Settings) -> None:
    run = Flow("ForeachFlow").latest_run
    assert run is not None and run.data is not None and run.data.total == 55
    tasks = sorted(run["square"], key=lambda t: t.index)
    assert [t.index for t in tasks] == [0, 1, 2, 3, 4]
    assert [t.data.squared for t in tasks] == [1, 4, 9, 16, 25]
    assert tasks[2].stdout == "square 2 9\n"


def test_nested_foreach(ran: dict[str, str], client_settings: Settings) -> None:
    run = Flow("NestedForeachFlow").latest_run
    assert run is not None and run.data is not None
    assert run.data.all_pairs == ["p1", "p2", "p3", "q1", "q2", "q3"]
    assert len(list(run["inner"].tasks())) == 6 and len(list(run["join_inner"].tasks())) == 2


def test_failing_step(ran: dict[str, str], client_settings: Settings) -> None:
    run = Flow("FailingFlow").latest_run
    assert run is not None and not run.successful and not run.finished and run.data is None
    assert run.status == "failed" and run.failed_step == "explode"
    assert run.status_reason is not None and "ValueError: boom" in run.status_reason
    task = run["explode"].task
    assert task is not None and not task.finished and not task.successful   # as in Metaflow
    assert isinstance(task.exception, TaskException) and task.exception.type == "builtins.ValueError"
    assert str(task.exception).splitlines()[-1] == "ValueError: boom"   # str() is the traceback
    assert task.stdout == "about to fail\n" and "ValueError: boom" in task.stderr
    assert Flow("FailingFlow").latest_successful_run is None


def test_retry_and_catch(ran: dict[str, str], client_settings: Settings) -> None:
    run = Flow("RetryCatchFlow").latest_run
    assert run is not None and run.successful
    flaky = run["flaky"].task
    assert flaky is not None and flaky.current_attempt == 1 and flaky.successful
    assert flaky.data.attempt_seen == 1 and flaky.exception is None
    assert flaky.stdout == "attempt 1\n"
    assert [text for _t, text in flaky.loglines("stdout", attempt=0)] == ["attempt 0"]
    risky = run["risky"].task
    # As in Metaflow: @catch took its exception, so it finished without succeeding.
    assert risky is not None and risky.finished and not risky.successful
    assert "caught boom" in str(risky.data.err)
