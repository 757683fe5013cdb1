"""Switches and recursive steps in Chromium, both themes: a switch run's DAG (the case taken
highlighted, the other greyed as skipped, never pending; the loop drawn with its iterations) and a
recursive run's timeline (steps in graph order with ``end`` last, iterations on the lanes). The
switch run is recorded twice: by core_runtime and by the real pip metaflow through the ingest
service; both must look the same, its DAG and its loop's timeline.

Screenshots go where the ``shots`` fixture says (``make screenshots`` refreshes docs/screenshots).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURE_FLOWS, api_get
from flow_runs import run_flow
from mf_runs import metaflow_env, run_metaflow

MF_FLOWS = Path(__file__).resolve().parents[1] / "ingest" / "flows"
RUNTIME_FLOWS = Path(__file__).resolve().parents[1] / "runtime" / "flows"
ROW_H, AXIS_H, LABEL_W = 20, 22, 220  # the timeline canvas geometry (frontend/src/timeline/drawTimeline.ts)


@pytest.fixture(scope="module")
def runs(flowscope_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("e2e-switch-runs")
    return {
        "switch": run_flow(flowscope_env, FIXTURE_FLOWS / "switch_loop_flow.py", tmp, "--mode", "slow"),
        "countdown": run_flow(flowscope_env, RUNTIME_FLOWS / "mf_recursion_foreach.py", tmp),
    }


@pytest.fixture(scope="module")
def mf_switch_run(ingest_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The same switch flow run by pip metaflow, recorded through the ingest service."""
    pytest.importorskip("metaflow", reason="the pip metaflow package (extra 'compat') is missing")
    tmp = tmp_path_factory.mktemp("e2e-mf-switch")
    return run_metaflow(MF_FLOWS / "switch_loop_flow.py", metaflow_env(ingest_url, tmp), tmp, "--mode", "slow")


def open_dag(page: Any, run: str) -> Any:
    page.goto(f"/SwitchLoopFlow/{run}?tab=dag")
    dag = page.get_by_test_id("dag")
    dag.locator('[data-step="end"]').wait_for()
    return dag


def check_switch_dag(dag: Any) -> None:
    steps = dag.locator("[data-step]").evaluate_all("els => els.map(e => e.dataset.step)")
    assert sorted(steps) == ["end", "fast", "loop", "slow", "start"]
    start = dag.locator('[data-step="start"]')
    assert start.get_attribute("data-type") == "split-switch"
    assert start.locator("polygon").count() == 1                 # drawn as a hexagon
    assert "switch route" in (start.text_content() or "")
    assert dag.locator('[data-edge="start>slow"]').get_attribute("data-state") == "taken"
    assert dag.locator('[data-edge="start>fast"]').get_attribute("data-state") == "untaken"
    assert "slow" in (dag.locator('[data-edge="start>slow"]').text_content() or "")
    fast = dag.locator('[data-step="fast"]')
    assert fast.get_attribute("data-status") == "skipped"       # never "pending" on a completed run
    assert "skipped" in (fast.text_content() or "")
    assert dag.locator('[data-status="pending"]').count() == 0
    loop = dag.locator('[data-loop="loop"]')
    assert "3 iterations" in (loop.text_content() or "") and "again" in (loop.text_content() or "")
    assert dag.locator('[data-edge="loop>end"]').get_attribute("data-state") == "taken"
    assert dag.locator('[data-edge="loop>loop"]').count() == 0


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_switch_dag(page: Any, runs: dict[str, str], shots: Path, tmp_path: Path, theme: str) -> None:
    page.emulate_media(color_scheme=theme)
    dag = open_dag(page, runs["switch"])
    check_switch_dag(dag)
    # the hover card lists the cases, the one taken marked
    dag.locator('[data-step="start"]').hover()
    tip = page.locator(".tooltip .tt-cases")
    tip.wait_for()
    assert "switch on self.route" in tip.inner_text()
    assert tip.locator("tr.taken").inner_text().startswith("slow")
    page.mouse.move(5, 5)
    page.screenshot(path=str(shots / "switch-dag.png" if theme == "light" else tmp_path / "switch-dag-dark.png"))


def test_metaflow_recorded_switch_dag_looks_the_same(page: Any, mf_switch_run: str, tmp_path: Path) -> None:
    dag = open_dag(page, mf_switch_run)
    check_switch_dag(dag)
    page.screenshot(path=str(tmp_path / "switch-dag-metaflow.png"))


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_recursive_timeline(page: Any, server: str, runs: dict[str, str], shots: Path, tmp_path: Path,
                            theme: str) -> None:
    run = runs["countdown"]
    page.emulate_media(color_scheme=theme)
    page.goto(f"/CountdownFlow/{run}")
    # rows: a header per step and a lane per task (1 start, 3 prepare, 8 tick, 3 finish, 1 join, 1 end)
    page.wait_for_function("() => document.querySelector('[data-testid=timeline]')?.dataset.rows === '23'")
    groups = api_get(server, f"/api/flows/CountdownFlow/runs/{run}/timeline?width=800&rows=50")["data"]["groups"]
    assert [g["step_name"] for g in groups] == ["start", "prepare", "tick", "finish", "join", "end"]
    assert [g["recursive"] for g in groups] == [False, False, True, False, False, False]
    # hovering along the first tick lane (visual row 7, below its header at 6) finds the bar and its iteration
    assert re.search(r"iteration\s*1 of the loop", hover_lane(page, 7))
    page.screenshot(path=str(shots / "recursive-timeline.png" if theme == "dark"
                             else tmp_path / "recursive-timeline-light.png"))
    # the DAG of the same run: the loop inside the foreach, with its longest split's iterations
    page.click('[data-tab="dag"]')
    loop = page.get_by_test_id("dag").locator('[data-loop="tick"]')
    loop.wait_for()
    assert "up to 4 iterations" in (loop.text_content() or "")
    page.mouse.move(5, 5)
    page.screenshot(path=str(tmp_path / f"recursive-dag-{theme}.png"))


def hover_lane(page: Any, row: int) -> str:
    """Moves the mouse along a visual row of the timeline canvas until the tooltip names a loop
    iteration; returns the tooltip's text (whatever it says last if none does)."""
    box = page.locator("canvas[aria-label='Task timeline']").bounding_box()
    tip = page.get_by_role("tooltip")
    y = box["y"] + AXIS_H + row * ROW_H + ROW_H / 2
    for x in range(int(box["x"] + LABEL_W + 2), int(box["x"] + box["width"]), 4):
        page.mouse.move(x, y)
        if tip.count() and "iteration" in tip.inner_text():
            break
    return str(tip.inner_text()) if tip.count() else ""


def timeline_shape(server: str, flow: str, run: str) -> tuple[list[tuple[str, bool, int]], list[tuple[str, int | None]]]:
    """The timeline's groups (step, recursive, rows) and its lanes (step, loop iteration) in row order."""
    data = api_get(server, f"/api/flows/{flow}/runs/{run}/timeline?width=800&rows=50")["data"]
    groups = [(g["step_name"], g["recursive"], g["row_count"]) for g in data["groups"]]
    lanes = [(lane["task"]["step_name"], lane["task"]["iteration"])
             for lane in sorted(data["lanes"], key=lambda lane: lane["row"]) if lane["task"]]
    return groups, lanes


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_metaflow_recorded_recursive_timeline(page: Any, server: str, runs: dict[str, str], mf_switch_run: str,
                                              tmp_path: Path, theme: str) -> None:
    """The switch flow's recursive step as pip metaflow recorded it: the same timeline as the
    native run (steps in graph order with ``end`` last, the loop's three iterations on its lanes)."""
    native = timeline_shape(server, "SwitchLoopFlow", runs["switch"])
    recorded = timeline_shape(server, "SwitchLoopFlow", mf_switch_run)
    assert recorded == native
    groups, lanes = recorded
    assert [(step, rec) for step, rec, _ in groups] == [("start", False), ("slow", False), ("loop", True),
                                                        ("end", False)]
    assert lanes == [("start", None), ("slow", None), ("loop", 0), ("loop", 1), ("loop", 2), ("end", None)]
    page.emulate_media(color_scheme=theme)
    page.goto(f"/SwitchLoopFlow/{mf_switch_run}")
    # rows: a header per step and a lane per task (1 start, 1 slow, 3 loop, 1 end)
    page.wait_for_function("() => document.querySelector('[data-testid=timeline]')?.dataset.rows === '10'")
    # the last loop lane (visual row 7: start 0-1, slow 2-3, loop header 4, lanes 5-7) is its third iteration
    assert re.search(r"iteration\s*3 of the loop", hover_lane(page, 7))
    page.screenshot(path=str(tmp_path / f"recursive-timeline-metaflow-{theme}.png"))
