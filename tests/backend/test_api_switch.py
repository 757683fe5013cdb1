"""Switch and recursive steps through the API: the DAG's switch fields, untaken cases "skipped"
(never "pending") on a completed run and unreached steps "not_run" on a failed one, a loop's iterations, graph order with ``end`` last, and
iterations on tasks and timeline lanes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flow_runs import run_flow

from tests.backend.api_helpers import get_json

FLOWS = Path(__file__).resolve().parents[1] / "fixtures" / "flows"
RUNTIME_FLOWS = Path(__file__).resolve().parents[1] / "runtime" / "flows"


@pytest.fixture(scope="module")
def switch_runs(flowscope_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("switch-runs")
    return {
        "slow": run_flow(flowscope_env, FLOWS / "switch_loop_flow.py", tmp, "--mode", "slow"),
        "bad": run_flow(flowscope_env, FLOWS / "switch_loop_flow.py", tmp, "--mode", "nope", check=False),
        "countdown": run_flow(flowscope_env, RUNTIME_FLOWS / "mf_recursion_foreach.py", tmp),
    }


def by_name(steps: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {s["step_name"]: s for s in steps}


async def test_dag_of_a_completed_switch_run(api: Any, switch_runs: dict[str, str]) -> None:
    dag = (await get_json(api, f"/api/flows/SwitchLoopFlow/runs/{switch_runs['slow']}/dag"))["data"]
    # graph order: the loop before end, though the loop points at itself
    assert [s["step_name"] for s in dag["steps"]] == ["start", "fast", "slow", "loop", "end"]
    steps = by_name(dag["steps"])
    start = steps["start"]
    assert (start["type"], start["condition"], start["switch_cases"]) == (
        "split-switch", "route", {"fast": "fast", "slow": "slow"})
    assert start["recursive"] is False and start["iterations"] is None
    # the case not taken is skipped, not pending, and has no time span
    assert steps["fast"]["status"] == "skipped" and steps["fast"]["task_counts"]["total"] == 0
    assert steps["fast"]["finished_at"] is None
    assert steps["slow"]["status"] == "completed"
    loop = steps["loop"]
    assert loop["recursive"] is True and loop["iterations"] == 3
    assert loop["switch_cases"] == {"again": "loop", "done": "end"}
    assert loop["task_counts"]["completed"] == 3
    assert dag["graph_structure"] == ["start", [["fast", "loop", [[]]], ["slow", "loop", [[]]]], "end"]
    listed = (await get_json(api, f"/api/flows/SwitchLoopFlow/runs/{switch_runs['slow']}/steps"))["data"]
    assert [s["step_name"] for s in listed][-1] == "end"


async def test_failed_switch_leaves_unreached_steps_not_run(api: Any, switch_runs: dict[str, str]) -> None:
    base = f"/api/flows/SwitchLoopFlow/runs/{switch_runs['bad']}"
    run = (await get_json(api, base))["data"]
    assert run["status"] == "failed" and "has value 'nope' which is not in the available cases" in (
        run["status_reason"])
    steps = by_name((await get_json(api, base + "/dag"))["data"]["steps"])
    assert steps["start"]["status"] == "failed"
    # the run never chose: nothing after the switch is called skipped; and it has ended, so
    # nothing is pending either (it never will run)
    assert {steps[n]["status"] for n in ("fast", "slow", "loop", "end")} == {"not_run"}
    assert all(steps[n]["finished_at"] is None for n in ("fast", "slow", "loop", "end"))


async def test_tasks_and_timeline_carry_iterations(api: Any, switch_runs: dict[str, str]) -> None:
    base = f"/api/flows/SwitchLoopFlow/runs/{switch_runs['slow']}"
    tasks = (await get_json(api, base + "/steps/loop/tasks"))["data"]
    assert [t["iteration_stack"] for t in tasks] == [[0], [1], [2]]
    end = (await get_json(api, base + "/steps/end/tasks"))["data"][0]
    assert end["iteration_stack"] == []
    # twice: the first answer may come from SQL, the second from the finished run's index
    for _ in range(2):
        tl = (await get_json(api, base + "/timeline", width=800, rows=50))["data"]
        assert [g["step_name"] for g in tl["groups"]] == ["start", "slow", "loop", "end"]
        assert [g["recursive"] for g in tl["groups"]] == [False, False, True, False]
        lanes = {lane["row"]: lane["task"] for lane in tl["lanes"]}
        loop_rows = range(tl["groups"][2]["row_start"], tl["groups"][2]["row_start"] + 3)
        assert [lanes[r]["iteration"] for r in loop_rows] == [0, 1, 2]
        assert lanes[tl["groups"][3]["row_start"]]["iteration"] is None


async def test_loop_inside_foreach_counts_its_longest_split(api: Any, switch_runs: dict[str, str]) -> None:
    base = f"/api/flows/CountdownFlow/runs/{switch_runs['countdown']}"
    steps = by_name((await get_json(api, base + "/dag"))["data"]["steps"])
    assert steps["tick"]["iterations"] == 4 and steps["tick"]["task_counts"]["total"] == 3 + 1 + 4
    order = [s for s in steps]
    assert order.index("tick") < order.index("finish") < order.index("join") < order.index("end")


def test_a_step_without_tasks_is_pending_only_while_its_run_may_reach_it() -> None:
    from backend.resources.steps import step_status

    assert step_status(None, run_stale=False, run_status="running") == "pending"
    assert step_status(None, run_stale=False, run_status="completed") == "skipped"
    assert step_status(None, run_stale=False, run_status="failed") == "not_run"
    # stored as running, its heartbeat lost: it has ended as far as anyone can tell
    assert step_status(None, run_stale=True, run_status="running") == "not_run"
    # the live feed shapes steps without the run's status: as before
    assert step_status(None, run_stale=False) == "pending"
