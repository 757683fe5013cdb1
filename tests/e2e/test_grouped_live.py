"""The run list grouped by flow or user stayed as first loaded: a run that started did not appear
and a running run never turned completed until a reload (the flat list follows the websocket;
the grouped one had no subscription). It now follows the same feed."""

from __future__ import annotations

from typing import Any

from tests.backend.live_helpers import new_store, running_task


def test_grouped_runs_follow_new_runs_and_status_changes(page: Any, server: str, flowscope_env: dict[str, str]) -> None:
    store = new_store(flowscope_env["FLOWSCOPE_DSN"])
    first, _ = running_task(store, "GroupedLiveFlow")
    page.goto("/?group=flow&flow=GroupedLiveFlow")
    group = page.locator('section[data-group="GroupedLiveFlow"]')
    row = group.locator(f'[data-pathspec="GroupedLiveFlow/{first.run_id}"]')
    row.locator(".badge[data-status=running]").wait_for()
    assert group.get_by_test_id("group-count").inner_text() == "1 run"
    page.evaluate("window.__noReload = 1")     # gone if anything reloads the page

    # A new run of the flow appears in its group, at the top (newest first), without a reload.
    second, task = running_task(store, "GroupedLiveFlow")
    new_row = group.locator(f'[data-pathspec="GroupedLiveFlow/{second.run_id}"]')
    new_row.wait_for(timeout=10_000)
    assert group.locator("[data-pathspec]").first.get_attribute("data-pathspec") == f"GroupedLiveFlow/{second.run_id}"
    assert group.get_by_test_id("group-count").inner_text() == "2 runs"

    # It finishes: its row turns completed in place.
    store.finish_attempt(task, 0, status="completed", exit_code=0)
    store.finish_run(second, "completed", "all steps completed")
    new_row.locator(".badge[data-status=completed]").wait_for(timeout=10_000)
    assert page.evaluate("window.__noReload") == 1
