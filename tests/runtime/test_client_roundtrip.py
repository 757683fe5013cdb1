"""Artifacts and logs written by the runtime, read back through the Client API."""

from __future__ import annotations

from typing import Any

import pytest

from tests.runtime.conftest import FIXTURES, FLOWS


@pytest.fixture()
def client(settings: Any) -> Any:
    from core_runtime import client

    client.configure(settings)
    client.namespace(None)
    return client


def test_artifacts_and_logs_round_trip(flow_runner, client):
    from core_runtime import Flow, Run

    res = flow_runner(FIXTURES / "foreach_flow.py", "run")
    assert res.returncode == 0, res.stderr
    run = Run(f"ForeachFlow/{res.run_id}")
    assert run.successful and run.finished and run.finished_at >= run.created_at
    assert run.data.total == 55
    squares = list(run["square"])
    assert sorted(t.data.squared for t in squares) == [1, 4, 9, 16, 25]
    one = next(t for t in squares if t.index == 2)
    assert one.data.squared == 9
    assert one.stdout.strip() == "square 2 9"
    assert run["gather"].task.data.results == [1, 4, 9, 16, 25]
    assert Flow("ForeachFlow").latest_run.id == res.run_id


def test_catch_and_parameters_through_client(flow_runner, client):
    from core_runtime import Run

    res = flow_runner(FLOWS / "config_flow.py", "run", "--model", "vit", "--epochs", "2")
    assert res.returncode == 0, res.stderr
    run = Run(f"ConfigFlow/{res.run_id}")
    assert run.data.model == "vit" and run.data.epochs == 2
    assert run["join"].task.data.both == (2, 5, 2)
    res = flow_runner(FIXTURES / "retry_catch_flow.py", "run")
    run = Run(f"RetryCatchFlow/{res.run_id}")
    err = run["risky"].task.data.err
    # Metaflow's stored exception: qualified type, message, and str() is the traceback.
    assert (err.type, err.exception) == ("builtins.ValueError", "caught boom")
    assert str(err).startswith("Traceback") and str(err).rstrip().endswith("ValueError: caught boom")
    assert "caught builtins.ValueError caught boom" in run["end"].task.stdout
