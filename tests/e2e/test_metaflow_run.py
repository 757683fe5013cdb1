"""A run of the real `metaflow` package, recorded through the ingest service, browsed in Chromium.

The flow runs against its own ingest process on the e2e session's database; the session's
backend then serves it like any native run: timeline, DAG, a task's logs (read from Metaflow's
local datastore) and its artifacts (unpickled in the backend's worker).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from conftest import api_get
from mf_runs import metaflow_env, run_metaflow

MF_FLOWS = Path(__file__).resolve().parents[1] / "ingest" / "flows"  # shared with tests/ingest

pytestmark = pytest.mark.compat


@pytest.fixture(scope="module")
def mf_run(ingest_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Run id of UiFlow (foreach, item b retried once, printed lines) recorded by real metaflow."""
    tmp = tmp_path_factory.mktemp("e2e-metaflow")
    return run_metaflow(MF_FLOWS / "ui_flow.py", metaflow_env(ingest_url, tmp), tmp)


def square_tasks(server: str, run: str) -> list[dict[str, Any]]:
    tasks = api_get(server, f"/api/flows/UiFlow/runs/{run}/steps/square/tasks")["data"]
    return sorted(tasks, key=lambda t: t["foreach_index"])


def test_metaflow_run_timeline_dag_logs_and_artifacts(page: Any, server: str, mf_run: str) -> None:
    run = mf_run
    page.goto(f"/UiFlow/{run}")
    header = page.get_by_test_id("run-header")
    header.wait_for()
    page.wait_for_function("() => /Completed/.test(document.querySelector('[data-testid=run-header]').innerText)")
    assert "6 done" in page.get_by_test_id("task-counts").inner_text()   # _parameters is not counted
    # start, 3 × square (one with two attempts), gather, end
    page.wait_for_function("() => Number(document.querySelector('[data-testid=timeline]').dataset.bars) >= 7")

    page.click('[data-tab="dag"]')
    page.wait_for_url(re.compile(r"tab=dag"))
    dag = page.get_by_test_id("dag")
    dag.locator("[data-step]").first.wait_for()
    steps = dag.locator("[data-step]").evaluate_all("els => els.map(e => e.dataset.step)")
    assert steps == ["start", "square", "gather", "end"]   # no _parameters
    assert dag.locator('[data-group="foreach"]').count() == 1
    assert "3 tasks" in (dag.locator('[data-step="square"]').text_content() or "")

    # The retried foreach task: its log lines come from Metaflow's datastore (MFLOG files).
    flaky = square_tasks(server, run)[1]
    assert flaky["foreach_value"] == "b" and flaky["attempt"] == 1
    page.goto(f"/UiFlow/{run}/square/{flaky['task_id']}")
    info = page.get_by_test_id("task-info")
    info.wait_for()
    log = page.get_by_test_id("log-stdout")
    log.get_by_text("square b line 4").wait_for()
    assert "square b line 0" in log.locator('[data-line="1"]').inner_text()
    page.click('[data-attempt="0"]')
    page.wait_for_url(re.compile(r"attempt=0"))
    page.wait_for_function("() => /Failed/.test(document.querySelector('[data-testid=task-info]').innerText)")

    page.goto(f"/UiFlow/{run}/square/{flaky['task_id']}?panel=artifacts")
    table = page.get_by_test_id("artifacts")
    row = table.locator("tr", has_text="sq")
    row.first.wait_for()
    table.locator("tr", has_text="'bb'").first.wait_for()
    row.first.click()
    value = page.get_by_test_id("artifact-value")
    value.wait_for()
    assert "bb" in value.inner_text()


def test_metaflow_internal_artifacts_come_after_the_flows_own(page: Any, server: str, mf_run: str) -> None:
    """A Metaflow task records a dozen internal artifacts (_graph_info, _foreach_stack, _transition…)
    that sorted before the flow's own, so `sq` sat at the bottom of the table; they are now listed
    after the flow's own artifacts, folded behind one row that says how many there are."""
    flaky = square_tasks(server, mf_run)[1]
    names = [a["name"] for a in api_get(server, f"/api/flows/UiFlow/runs/{mf_run}/steps/square/tasks/{flaky['task_id']}/artifacts")["data"]]
    internal = [n for n in names if n.startswith("_")]
    own = [n for n in names if not n.startswith("_")]
    assert internal and "sq" in own and names.index("sq") > names.index(internal[0])
    page.goto(f"/UiFlow/{mf_run}/square/{flaky['task_id']}?panel=artifacts")
    table = page.get_by_test_id("artifacts")
    table.locator("tr[data-artifact]").first.wait_for()
    shown = table.locator("tr[data-artifact]").evaluate_all("rows => rows.map(r => r.dataset.artifact)")
    assert shown == own
    toggle = page.get_by_test_id("internal-artifacts")
    assert f"{len(internal)} Metaflow internal artifacts" in toggle.inner_text()
    toggle.click()
    shown = table.locator("tr[data-artifact]").evaluate_all("rows => rows.map(r => r.dataset.artifact)")
    assert shown == own + internal


def test_compare_lists_a_metaflow_runs_own_artifacts_first(page: Any, server: str, mf_run: str, ingest_url: str,
                                                          tmp_path: Path) -> None:
    """Compare's artifact table of two Metaflow runs began with a dozen `end._…` internals, the
    flow's own artifacts below them; they now come first and the internals are folded."""
    other = run_metaflow(MF_FLOWS / "ui_flow.py", metaflow_env(ingest_url, tmp_path), tmp_path)
    page.goto(f"/-/compare?a=UiFlow/{mf_run}&b=UiFlow/{other}")
    table = page.get_by_test_id("compare-artifacts")
    table.locator("tr[data-name]").first.wait_for()
    names = table.locator("tr[data-name]").evaluate_all("rows => rows.map(r => r.dataset.name)")
    assert names and not any(n.startswith("_") for n in names), names
    toggle = page.get_by_test_id("compare-internal-artifacts")
    toggle.click()
    after = table.locator("tr[data-name]").evaluate_all("rows => rows.map(r => r.dataset.name)")
    assert after[:len(names)] == names and all(n.startswith("_") for n in after[len(names):]) and len(after) > len(names)
