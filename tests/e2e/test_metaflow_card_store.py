"""The Cards tab of a pip metaflow run in Chromium, for both places Metaflow 2.19 saves local cards.

Run from below ``METAFLOW_DATASTORE_SYSROOT_LOCAL`` (docs/metaflow.md), TableCardFlow's default card
and its blank "metrics" card (Markdown + Table) are in the task's Cards tab, drawn in the sandboxed
frame. Run from another directory, Metaflow saves them beside that directory: the tab says why
they are missing instead of "No cards".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from card_watch import CARD_FLOWS, Network, api, card_frame
from mf_runs import metaflow_env, run_metaflow

pytestmark = pytest.mark.compat

FLOW = "TableCardFlow"


def start_task(server: str, run: str) -> str:
    (task,) = api(server, f"/api/flows/{FLOW}/runs/{run}/steps/start/tasks")["data"]
    return str(task["task_id"])


@pytest.fixture(scope="module")
def table_runs(ingest_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Run ids of TableCardFlow: run from below its sysroot, and from elsewhere."""
    tmp = tmp_path_factory.mktemp("mf-card-store")
    runs = {}
    for name, sysroot, cwd in (("below", tmp / "ds", tmp / "ds" / "project"),
                               ("elsewhere", tmp / "ds2", tmp / "work")):
        cwd.mkdir(parents=True)
        runs[name] = run_metaflow(CARD_FLOWS / "mf_table_card_flow.py", metaflow_env(ingest_url, sysroot), cwd)
    return runs


def test_blank_card_with_markdown_and_table(page: Any, server: str, table_runs: dict[str, str], shots: Path) -> None:
    run = table_runs["below"]
    task = start_task(server, run)
    net = Network(page, server)
    page.goto(f"/{FLOW}/{run}/start/{task}?panel=cards")
    cards = page.get_by_role("group", name="Card")
    cards.wait_for()
    assert cards.get_by_role("button").all_inner_texts() == ["default (default)", "metrics (blank)"]
    cards.get_by_role("button", name="metrics (blank)").click()
    frame_el = page.get_by_test_id("card-frame")
    assert frame_el.get_attribute("sandbox") == "allow-scripts"
    assert "/cards/metrics" in (frame_el.get_attribute("src") or "")
    frame = card_frame(page)
    frame.wait_for_function("() => document.querySelector('table') !== null", timeout=30_000)
    assert frame.locator(".markdown h1").inner_text() == "Hold-out metrics"
    assert frame.locator(".markdown strong").inner_text() == "TableCardFlow"
    assert frame.locator("table th").all_inner_texts() == ["metric", "value"]
    assert [r.locator("td").all_inner_texts() for r in frame.locator("table tbody tr").all()] == [
        ["precision", "0.91"], ["recall", "0.87"]]
    assert page.get_by_test_id("cards-notice").count() == 0
    assert net.csp == [] and net.leaving() == [], (net.csp, net.leaving())
    frame_el.screenshot(path=str(shots / "card-metaflow-blank-table.png"))

    # Metaflow's default card of the same task: its artifacts are drawn (the task's `scores`).
    cards.get_by_role("button", name="default (default)").click()
    page.wait_for_function("() => document.querySelector('iframe[data-testid=card-frame]').src.includes('/cards/default')")
    frame = card_frame(page)
    frame.wait_for_function("() => document.body.innerText.includes('scores')", timeout=30_000)
    assert frame.locator(".card-problem, .card-problems").count() == 0


def test_cards_saved_elsewhere_say_why(page: Any, server: str, table_runs: dict[str, str], shots: Path) -> None:
    run = table_runs["elsewhere"]
    task = start_task(server, run)
    page.goto(f"/{FLOW}/{run}/start/{task}?panel=cards")
    notice = page.get_by_test_id("cards-notice")
    notice.wait_for()
    text = notice.inner_text()
    assert text.startswith("Metaflow recorded 2 cards for this task (card-info metadata)"), text
    assert "Run flows from the directory METAFLOW_DATASTORE_SYSROOT_LOCAL names" in text, text
    assert page.get_by_text("No cards.").count() == 0
    assert page.get_by_test_id("card-frame").count() == 0
    notice.screenshot(path=str(shots / "card-metaflow-missing.png"))
