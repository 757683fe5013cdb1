"""The run list grouped by flow or user stayed as first loaded: a run that started did not appear
and a running run never turned completed until a reload (the flat list follows the websocket;
the grouped one had no subscription). It now follows the same feed."""

from __future__ import annotations

from pathlib import Path
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


def test_group_order_is_said_under_the_header(page: Any, flowscope_env: dict[str, str], shots: Path) -> None:
    """Groups come in name order while the header said only "Started ▼", as if the groups were
    newest first. Name order stays (stable while runs arrive, pages by a name cursor, a flow found
    where the alphabet puts it); the line under the header now says it, and what the sort orders."""
    store = new_store(flowscope_env["FLOWSCOPE_DSN"])
    store.create_run("AlphaOrderFlow", user="tester", tags=["grp-order"])
    store.create_run("ZuluOrderFlow", user="tester", tags=["grp-order"])     # the newer run
    page.goto("/?group=flow&tag=grp-order")
    order = page.get_by_test_id("group-order")
    assert order.inner_text() == "Flows by name, A→Z · runs in each by started ▼ (newest first)"
    page.locator('section[data-group="ZuluOrderFlow"] [data-pathspec]').wait_for()
    groups = page.locator("section[data-group]").evaluate_all("els => els.map(e => e.dataset.group)")
    assert groups == ["AlphaOrderFlow", "ZuluOrderFlow"]
    page.screenshot(path=str(shots / "grouped-order.png"))
    # The header's sort orders the runs inside each group; the groups stay A→Z.
    page.get_by_role("columnheader", name="Started").get_by_role("button").click()
    page.wait_for_url(lambda u: "dir=asc" in u)
    assert order.inner_text() == "Flows by name, A→Z · runs in each by started ▲ (oldest first)"
    page.get_by_role("columnheader", name="Started ▲").wait_for()
    page.locator('section[data-group="ZuluOrderFlow"] [data-pathspec]').wait_for()
    groups = page.locator("section[data-group]").evaluate_all("els => els.map(e => e.dataset.group)")
    assert groups == ["AlphaOrderFlow", "ZuluOrderFlow"]


def test_runs_shown_by_show_more_are_live(page: Any, flowscope_env: dict[str, str], shots: Path) -> None:
    """Runs loaded with "Show more" inside a group were kept aside from the cache the live feed
    patches: one that finished stayed "Running" there until a reload."""
    store = new_store(flowscope_env["FLOWSCOPE_DSN"])
    made = [running_task(store, "GroupedMoreFlow") for _ in range(7)]
    oldest, oldest_task = made[0]
    page.goto("/?group=flow&flow=GroupedMoreFlow")
    group = page.locator('section[data-group="GroupedMoreFlow"]')
    group.locator("[data-pathspec]").nth(4).wait_for()
    assert group.get_by_test_id("group-count").inner_text() == "5+ runs"
    page.evaluate("window.__noReload = 1")
    group.get_by_role("button", name="Show more").click()
    row = group.locator(f'[data-pathspec="GroupedMoreFlow/{oldest.run_id}"]')
    row.locator(".badge[data-status=running]").wait_for()
    assert group.get_by_test_id("group-count").inner_text() == "7 runs"

    # The oldest run, shown only since "Show more", finishes: its row turns completed in place.
    store.finish_attempt(oldest_task, 0, status="completed", exit_code=0)
    store.finish_run(oldest, "completed", "all steps completed")
    row.locator(".badge[data-status=completed]").wait_for(timeout=10_000)

    # A new run of the flow still lands in the expanded group, at the top.
    newest, _ = running_task(store, "GroupedMoreFlow")
    group.locator(f'[data-pathspec="GroupedMoreFlow/{newest.run_id}"]').wait_for(timeout=10_000)
    assert group.locator("[data-pathspec]").first.get_attribute("data-pathspec") == f"GroupedMoreFlow/{newest.run_id}"
    assert group.get_by_test_id("group-count").inner_text() == "8 runs"
    assert group.locator(f'[data-pathspec="GroupedMoreFlow/{oldest.run_id}"] .badge[data-status=completed]').count() == 1
    assert page.evaluate("window.__noReload") == 1
    page.screenshot(path=str(shots / "grouped-show-more-live.png"))


def test_a_run_shown_by_show_more_that_dies_turns_failed(page: Any, flowscope_env: dict[str, str]) -> None:
    """A running run below a group's first five whose heartbeat is lost (no write, no event) is
    re-asked like any other shown run: it turns failed there without a reload."""
    from test_killed_run import dying_run

    dsn = flowscope_env["FLOWSCOPE_DSN"]
    dying, _ = dying_run(dsn, silent_s=60 - 8)      # the e2e server's timeout is the default 60 s
    store = new_store(dsn)
    for _ in range(5):                                # five newer runs fill the group's first five
        running_task(store, "DyingFlow")
    page.goto("/?group=flow&flow=DyingFlow")
    group = page.locator('section[data-group="DyingFlow"]')
    group.locator("[data-pathspec]").nth(4).wait_for()
    assert group.locator(f'[data-pathspec="DyingFlow/{dying}"]').count() == 0
    group.get_by_role("button", name="Show more").click()
    row = group.locator(f'[data-pathspec="DyingFlow/{dying}"]')
    row.locator(".badge[data-status=running]").wait_for()
    page.evaluate("window.__noReload = 1")
    row.locator(".badge[data-status=failed]").wait_for(timeout=30_000)
    assert page.evaluate("window.__noReload") == 1
