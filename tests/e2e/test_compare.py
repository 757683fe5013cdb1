"""Comparing two runs in the browser: tick two runs, see what changed, follow a link to a step."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from conftest import run_flow

FLOWS = Path(__file__).resolve().parents[1] / "backend" / "flows"


@pytest.fixture(scope="module")
def pair(flowscope_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory,
         server: str) -> dict[str, str]:
    """Three CompareFlow runs: v1; v2 (score step added, alpha and the model changed); v2 failing."""
    tmp = tmp_path_factory.mktemp("compare-runs")
    tags = ("cmp-e2e",)
    return {
        "old": run_flow(flowscope_env, FLOWS / "compare_v1.py", tmp, tags=tags),
        "new": run_flow({**flowscope_env, "COMPARE_BIAS": "1"}, FLOWS / "compare_v2.py", tmp,
                        "--alpha", "0.3", tags=tags),
        "failed": run_flow({**flowscope_env, "COMPARE_FAIL": "train"}, FLOWS / "compare_v2.py", tmp,
                           check=False, tags=("cmp-e2e-fail",)),
    }


def test_pick_two_runs_and_see_the_differences(page: Any, pair: dict[str, str], shots: Path) -> None:
    old, new = f"CompareFlow/{pair['old']}", f"CompareFlow/{pair['new']}"
    page.goto("/?tag=cmp-e2e")
    # Tick the newer run first: the page still makes the older one the baseline (A).
    for pathspec in (new, old):
        page.locator(f'[data-pathspec="{pathspec}"] [data-testid="compare-pick"]').check()
    page.click('[data-testid="compare-button"]')
    page.wait_for_url(re.compile(r"/-/compare\?"))
    assert f"a={quote(old, safe='')}" in page.url and f"b={quote(new, safe='')}" in page.url
    page.locator('[data-testid="compare-page"]').wait_for()
    assert old in page.locator('[data-testid="compare-run-a"]').inner_text()

    params = page.locator('[data-testid="compare-parameters"] tr[data-name="alpha"]')
    assert params.get_attribute("data-change") == "changed"
    assert "0.1" in params.inner_text() and "0.3" in params.inner_text()
    steps = page.locator('[data-testid="compare-steps"] tr[data-step]')
    changes = dict(zip(steps.evaluate_all("els => els.map(e => e.dataset.step)"),
                       steps.evaluate_all("els => els.map(e => e.dataset.change)"), strict=True))
    assert changes == {"start": "unchanged", "train": "unchanged", "score": "added", "end": "unchanged"}
    arts = page.locator('[data-testid="compare-artifacts"] tr[data-change="changed"]')
    assert sorted(arts.evaluate_all("els => els.map(e => e.dataset.name)")) == ["alpha", "model"]
    assert "changed" in page.locator('[data-testid="compare-summary"]').inner_text()
    page.screenshot(path=str(shots / "compare.png"), full_page=True)

    # Follow B's link of the train step to that step of the run.
    page.locator('[data-testid="compare-steps"] tr[data-step="train"] [data-testid="step-link"]').nth(1).click()
    page.wait_for_url(re.compile(rf"/CompareFlow/{pair['new']}/train$"))
    page.locator('[data-testid="run-header"]').wait_for()


def test_failed_run_compares_with_previous_success(page: Any, pair: dict[str, str]) -> None:
    page.goto(f"/CompareFlow/{pair['failed']}")
    page.click('[data-testid="compare-previous"]')
    page.wait_for_url(re.compile(r"/-/compare\?"))
    failures = page.locator('[data-testid="compare-failures"]')
    failures.wait_for()
    assert "".join(page.get_by_label("Breadcrumbs").inner_text().split()) == "Runs/Compareruns"
    assert "RuntimeError" in failures.inner_text() and "diverged at epoch 3" in failures.inner_text()
    # The baseline is the newest successful run created before the failed one.
    assert f"CompareFlow/{pair['new']}" in page.locator('[data-testid="compare-run-a"]').inner_text()


def test_bad_pair_shows_the_server_message(page: Any, pair: dict[str, str]) -> None:
    page.goto(f"/-/compare?a=CompareFlow/{pair['old']}&b=CompareFlow/999999")
    alert = page.locator('[role="alert"]')
    alert.wait_for()
    assert "run b (CompareFlow/999999) not found" in alert.inner_text()


def test_compare_with_picker_on_a_run_page(page: Any, pair: dict[str, str]) -> None:
    page.goto(f"/CompareFlow/{pair['old']}")
    page.click('[data-testid="compare-with"]')
    picker = page.get_by_role("dialog", name="Pick a run to compare with")
    choice = picker.locator(f'[data-pathspec="CompareFlow/{pair["new"]}"]')
    choice.click()
    page.wait_for_url(re.compile(r"/-/compare\?"))
    # The run whose page it was is older, so it stays the baseline.
    assert f"CompareFlow/{pair['old']}" in page.locator('[data-testid="compare-run-a"]').inner_text()
    assert f"CompareFlow/{pair['new']}" in page.locator('[data-testid="compare-run-b"]').inner_text()
    assert page.locator('[data-testid="compare-steps"] tr[data-step="score"]').get_attribute("data-change") == "added"
