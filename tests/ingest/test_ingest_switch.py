"""Switch and recursion recorded by the real pip metaflow through the ingest service, read through
the UI API: the DAG draws the switch as a switch (the case not taken "skipped", not "pending"),
the recursive step with its iterations, and graph order keeps ``end`` after the loop."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from mf_harness import Ingest, get_json, metaflow_env, run_flow

pytestmark = pytest.mark.compat


@pytest.fixture(scope="module")
def switch_run(ingest: Ingest, tmp_path_factory: pytest.TempPathFactory) -> str:
    tmp = tmp_path_factory.mktemp("switchflow")
    run_flow("switch_loop_flow.py", ["run", "--mode", "slow", "--run-id-file", str(tmp / "run-id")],
             metaflow_env(ingest, tmp), tmp)
    return (tmp / "run-id").read_text().strip()


async def test_metaflow_switch_run_dag(api: TestClient[Any, Any], switch_run: str) -> None:
    base = f"/api/flows/SwitchLoopFlow/runs/{switch_run}"
    run = (await get_json(api, base))["data"]
    assert run["status"] == "completed" and run["source"] == "metaflow"
    dag = (await get_json(api, base + "/dag"))["data"]
    assert [s["step_name"] for s in dag["steps"]] == ["start", "fast", "slow", "loop", "end"]
    steps = {s["step_name"]: s for s in dag["steps"]}
    assert steps["start"]["type"] == "split-switch" and steps["start"]["condition"] == "route"
    assert steps["start"]["switch_cases"] == {"fast": "fast", "slow": "slow"}
    assert steps["fast"]["status"] == "skipped" and steps["slow"]["status"] == "completed"
    assert steps["loop"]["recursive"] is True and steps["loop"]["iterations"] == 3
    assert steps["end"]["status"] == "completed"
    assert dag["graph_structure"] == ["start", [["fast", "loop", [[]]], ["slow", "loop", [[]]]], "end"]


async def test_metaflow_loop_iterations_on_tasks_and_timeline(api: TestClient[Any, Any], switch_run: str) -> None:
    base = f"/api/flows/SwitchLoopFlow/runs/{switch_run}"
    loop = (await get_json(api, base + "/steps/loop/tasks"))["data"]
    assert [t["iteration_stack"] for t in loop] == [[0], [1], [2]]
    assert [t["parent_task_ids"][0].split("/")[0] for t in loop] == ["slow", "loop", "loop"]
    tl = (await get_json(api, base + "/timeline", width=800, rows=50))["data"]
    assert [g["step_name"] for g in tl["groups"]] == ["start", "slow", "loop", "end"]
    rows = {lane["row"]: lane["task"] for lane in tl["lanes"]}
    first = tl["groups"][2]["row_start"]
    assert [rows[first + i]["iteration"] for i in range(3)] == [0, 1, 2]
