"""Orchestrator-style string ids (what Argo/Step Functions do): `init`, then `step` per task."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mf_harness import Ingest, client_read, metaflow_env, run_flow
from mf_sql import run_row, tasks_of

pytestmark = pytest.mark.compat


def test_string_run_and_task_ids(ingest: Ingest, db: Any, tmp_path: Path) -> None:
    env = metaflow_env(ingest, tmp_path)
    rid = "argo-linear-abc"
    run_flow("linear_flow.py", ["init", "--run-id", rid, "--task-id", "t-params"], env, tmp_path)
    run_flow("linear_flow.py", ["step", "start", "--run-id", rid, "--task-id", "t-start",
                                "--input-paths", f"{rid}/_parameters/t-params"], env, tmp_path)
    got = client_read(
        f"run = Run('LinearFlow/{rid}')\n"
        "t = run['start'].task\n"
        "print(json.dumps({'id': run.id, 'task': t.id, 'x': t.data.x, 'ok': t.successful,"
        " 'finished': run.finished, 'out': t.stdout}))", env, tmp_path)
    assert got["id"] == rid and got["task"] == "t-start" and got["x"] == 1 and got["ok"] is True
    assert got["finished"] is False    # the end step has not run yet
    run = run_row(db, "LinearFlow", rid)
    assert run["run_number"] is None and run["status"] == "running"
    assert run["dag"]["graph_structure"] == ["start", "middle", "end"]
    tasks = {t["step_name"]: t for t in tasks_of(db, run["run_pk"])}
    assert tasks["_parameters"]["task_id"] == "t-params"
    assert tasks["start"]["task_id"] == "t-start" and tasks["start"]["status"] == "completed"
