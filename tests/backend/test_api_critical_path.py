"""The critical path and step durations on real branch, foreach and nested foreach runs, checked
against a brute-force longest path over every root-to-leaf chain of the recorded task graph."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from api_helpers import get_json
from flow_runs import run_flow

from backend.resources.critical_path import Spans, idle_gaps, longest_path
from backend.resources.durations import histogram, percentile
from tests.backend.conftest import FIXTURE_FLOWS

SHAPES = {"BranchFlow": "branch_flow.py", "ForeachFlow": "foreach_flow.py",
          "NestedForeachFlow": "nested_foreach_flow.py", "ForeachThenBranchFlow": "foreach_then_branch_flow.py"}


@pytest.fixture(scope="module")
def shaped_runs(flowscope_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("shapes")
    return {flow: run_flow(flowscope_env, FIXTURE_FLOWS / file, tmp) for flow, file in SHAPES.items()}


async def _all_tasks(api: Any, flow: str, run: str) -> list[dict[str, Any]]:
    out, cursor = [], None
    while True:
        params = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
        page = await get_json(api, f"/api/flows/{flow}/runs/{run}/tasks", **params)
        out += page["data"]
        cursor = page["next"]
        if not cursor:
            return out


def brute_force(tasks: list[dict[str, Any]]) -> int:
    """The largest sum of durations over every chain from a root to a task without children."""
    by_key = {f"{t['step_name']}/{t['task_id']}": t for t in tasks}
    children: dict[str, list[str]] = {k: [] for k in by_key}
    for k, t in by_key.items():
        for p in t["parent_task_ids"]:
            children[p].append(k)

    def best(k: str) -> int:
        t = by_key[k]
        here = t["finished_at"] - t["started_at"]
        return here + max((best(c) for c in children[k]), default=0)

    return max(best(k) for k, t in by_key.items() if not t["parent_task_ids"])


@pytest.mark.parametrize("flow", list(SHAPES))
async def test_critical_path_is_the_longest_chain(api: Any, shaped_runs: dict[str, str], flow: str) -> None:
    run = shaped_runs[flow]
    tasks = await _all_tasks(api, flow, run)
    cp = (await get_json(api, f"/api/flows/{flow}/runs/{run}/critical-path"))["data"]
    assert cp["run"] == f"{flow}/{run}" and cp["tasks_total"] == len(tasks)
    assert cp["path_ms"] == brute_force(tasks)
    # A real chain: root first, each task a child of the one before, ending at the end step.
    path = cp["tasks"]
    assert path[0]["step_name"] == "start" and path[-1]["step_name"] == "end"
    by_key = {f"{t['step_name']}/{t['task_id']}": t for t in tasks}
    for prev, cur in itertools.pairwise(path):
        assert f"{prev['step_name']}/{prev['task_id']}" in by_key[f"{cur['step_name']}/{cur['task_id']}"]["parent_task_ids"]
        assert cur["queued_ms"] is not None and cur["queued_ms"] >= 0
    assert sum(t["duration_ms"] for t in path) == cp["path_ms"]
    assert [s["step_name"] for s in cp["steps"]] == list(dict.fromkeys(t["step_name"] for t in path))
    assert cp["wall_ms"] >= cp["path_ms"] and cp["idle_ms"] >= 0
    dur = (await get_json(api, f"/api/flows/{flow}/runs/{run}/durations"))["data"]
    assert sum(s["tasks"] for s in dur["steps"]) == len(tasks)
    for s in dur["steps"]:
        mine = sorted(t["duration_ms"] for t in tasks if t["step_name"] == s["step_name"])
        assert s["timed"] == len(mine) and s["min_ms"] == mine[0] and s["max_ms"] == mine[-1]
        assert s["p50_ms"] == percentile(mine, 0.5) and sum(s["histogram"]["counts"]) == len(mine)


async def test_nested_foreach_path_goes_through_both_levels(api: Any, shaped_runs: dict[str, str]) -> None:
    run = shaped_runs["NestedForeachFlow"]
    cp = (await get_json(api, f"/api/flows/NestedForeachFlow/runs/{run}/critical-path"))["data"]
    assert [t["step_name"] for t in cp["tasks"]] == ["start", "outer", "inner", "join_inner", "join_outer", "end"]
    assert cp["tasks"][2]["foreach_value"] in {"1", "2", "3"}


def _spans(rows: list[tuple[str, str, list[str], int | None, int | None]]) -> Spans:
    return Spans(list(range(len(rows))), [r[0] for r in rows], [r[1] for r in rows], [None] * len(rows),
                 ["completed"] * len(rows), [r[2] for r in rows], [r[3] for r in rows], [r[4] for r in rows])


def test_longest_path_out_of_order_and_running() -> None:
    # Rows not in parents-first order (a Metaflow run's task ids need not be), one still running.
    spans = _spans([("end", "9", ["b/3", "a/2"], 50, 55), ("start", "1", [], 0, 10),
                    ("a", "2", ["start/1"], 12, 20), ("b", "3", ["start/1"], 11, None)])
    path = longest_path(spans, now=40)
    assert [spans.task_id[i] for i in path] == ["1", "3", "9"]   # b runs 29 ms up to now
    assert idle_gaps(spans, 0, 55, now=40) == []
    gaps = idle_gaps(_spans([("s", "1", [], 0, 10), ("e", "2", ["s/1"], 2010, 2020)]), 0, 2020, now=0)
    assert gaps == [(10, 2010)]


def test_histogram_scales() -> None:
    assert histogram([5, 5]) == {"scale": "linear", "edges": [5.0, 5.0], "counts": [2]}
    wide = histogram([1, 10, 100, 1000, 10_000])
    assert wide["scale"] == "log" and sum(wide["counts"]) == 5 and len(wide["edges"]) == 21
