"""A run killed without a word (its processes gone, no finish recorded: Ctrl-C on a local
Metaflow run, a lost machine), opened long after its heartbeat stopped: its task ran until its
last heartbeat, not until each later "now" (the task page said "running 12m so far" and grew)."""

from __future__ import annotations

from typing import Any

import psycopg2
from conftest import api_get

from tests.backend.live_helpers import new_store, running_task

MINUTE = 60_000


def killed_run(dsn: str) -> tuple[str, str]:
    """(run id, task id) of KilledFlow: one task that started 12 minutes ago and whose last
    heartbeat was 5 s after its start."""
    store = new_store(dsn)
    run, task = running_task(store, "KilledFlow")
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            shift = 12 * MINUTE
            cur.execute("UPDATE runs SET created_at = created_at - %s, started_at = started_at - %s, "
                        "heartbeat_at = started_at - %s + 5000 WHERE run_pk = %s", (shift, shift, shift, run.run_pk))
            for table in ("tasks", "attempts"):
                cur.execute(f"UPDATE {table} SET started_at = started_at - %s, heartbeat_at = started_at - %s + 5000 "
                            "WHERE task_pk = %s", (shift, shift, task.task_pk))
            cur.execute("UPDATE tasks SET created_at = created_at - %s WHERE task_pk = %s", (shift, task.task_pk))
    finally:
        conn.close()
    return run.run_id, task.task_id


def test_killed_task_ran_until_its_last_heartbeat(page: Any, server: str, flowscope_env: dict[str, str]) -> None:
    run, task = killed_run(flowscope_env["FLOWSCOPE_DSN"])
    row = api_get(server, f"/api/flows/KilledFlow/runs/{run}/steps/start/tasks/{task}")["data"]
    assert row["status"] == "failed" and row["finished_at"] is None
    assert row["heartbeat_at"] - row["started_at"] == 5000
    page.goto(f"/KilledFlow/{run}/start/{task}")
    info = page.get_by_test_id("task-info")
    info.get_by_text("heartbeat lost at").first.wait_for()
    page.get_by_test_id("task-timing").wait_for()
    assert page.get_by_test_id("task-timing").locator("dd").inner_text().endswith(
        "running 5.0s until its heartbeat stopped")
    duration = info.locator("dt", has_text="duration").locator("xpath=following-sibling::dd").inner_text()
    assert duration == "5.0s", duration


def test_compare_shows_a_killed_runs_duration(page: Any, server: str, flowscope_env: dict[str, str]) -> None:
    """Compare's run cards give a killed run the duration its run page gives (5.0s), not "—"."""
    a, _ = killed_run(flowscope_env["FLOWSCOPE_DSN"])
    b, _ = killed_run(flowscope_env["FLOWSCOPE_DSN"])
    page.goto(f"/-/compare?a=KilledFlow/{a}&b=KilledFlow/{b}")
    page.get_by_test_id("compare-page").wait_for()
    assert page.get_by_test_id("compare-duration-a").inner_text() == "5.0s"
    assert page.get_by_test_id("compare-duration-b").inner_text() == "5.0s"


def dying_run(dsn: str, silent_s: float) -> tuple[str, str]:
    """(run id, task id) of DyingFlow: one running task whose writer fell silent ``silent_s`` seconds
    ago (its run's and task's last heartbeats), so the server calls it running until the heartbeat
    timeout passes and then "heartbeat lost" with no write at all."""
    store = new_store(dsn)
    run, task = running_task(store, "DyingFlow")
    conn = psycopg2.connect(dsn)
    try:
        with conn, conn.cursor() as cur:
            shift = int(silent_s * 1000)
            cur.execute("UPDATE runs SET created_at = created_at - %s, started_at = started_at - %s, "
                        "heartbeat_at = heartbeat_at - %s WHERE run_pk = %s", (shift, shift, shift, run.run_pk))
            for table in ("tasks", "attempts"):
                cur.execute(f"UPDATE {table} SET started_at = started_at - %s, heartbeat_at = heartbeat_at - %s "
                            "WHERE task_pk = %s", (shift, shift, task.task_pk))
    finally:
        conn.close()
    return run.run_id, task.task_id


def test_a_run_that_dies_on_screen_turns_failed_without_a_reload(browser: Any, server: str,
                                                                flowscope_env: dict[str, str]) -> None:
    """A run whose processes are killed while its pages are open (kill -9 of a Metaflow task and its
    runner): the server turns it "heartbeat lost" at read time, with no write and so no websocket
    event. The run list, the run page and the task page said "Running" (the duration growing) until
    reloaded; they now re-ask a run that fell silent and show it failed by themselves."""
    from tests.browser_pages import checked_page

    timeout_s = 60  # the e2e server's FLOWSCOPE_HEARTBEAT_TIMEOUT (the default)
    run, task = dying_run(flowscope_env["FLOWSCOPE_DSN"], silent_s=timeout_s - 12)
    assert api_get(server, f"/api/flows/DyingFlow/runs/{run}")["data"]["status"] == "running"
    opened = [checked_page(browser, server) for _ in range(3)]
    home, run_page, task_page = (next(it) for it in opened)
    try:
        home.goto("/DyingFlow")
        run_page.goto(f"/DyingFlow/{run}")
        task_page.goto(f"/DyingFlow/{run}/start/{task}")
        row = home.locator(f'[data-pathspec="DyingFlow/{run}"]')
        header = run_page.get_by_test_id("run-header")
        info = task_page.get_by_test_id("task-info")
        # On screen while the server still calls it running.
        for view in (row, header, info):
            view.locator(".badge[data-status=running]").first.wait_for()
        assert "running" in header.get_by_test_id("task-counts").inner_text()
        # The heartbeat timeout passes (about 12 s from now); each view turns by itself, no reload.
        wait_ms = (12 + 25) * 1000
        row.locator(".badge[data-status=failed]").wait_for(timeout=wait_ms)
        header.get_by_test_id("status-reason").get_by_text("heartbeat lost at").wait_for(timeout=wait_ms)
        info.get_by_text("heartbeat lost at").first.wait_for(timeout=wait_ms)
        assert header.locator(".badge[data-status=running]").count() == 0
        assert header.locator(".badge[data-status=failed]").count() == 1
        assert info.locator(".badge[data-status=running]").count() == 0
        assert "running" not in header.get_by_test_id("task-counts").inner_text()
        assert api_get(server, f"/api/flows/DyingFlow/runs/{run}")["data"]["status"] == "failed"
    finally:
        for it in opened:
            next(it, None)


def test_the_task_list_gives_a_killed_task_the_duration_its_page_gives(page: Any, server: str,
                                                                      flowscope_env: dict[str, str]) -> None:
    """The task list beside a killed task said "—" while the task's own header said 5.0s (it ran
    until its last heartbeat); a running task's row said "—" too while its header counted up."""
    run, task = killed_run(flowscope_env["FLOWSCOPE_DSN"])
    page.goto(f"/KilledFlow/{run}/start/{task}")
    row = page.locator(f'[data-task="KilledFlow/{run}/start/{task}"]')
    row.wait_for()
    assert row.locator(".num").inner_text() == "5.0s"
    live_run, live_task = running_task(new_store(flowscope_env["FLOWSCOPE_DSN"]), "KilledFlow")
    page.goto(f"/KilledFlow/{live_run.run_id}/start/{live_task.task_id}")
    live_row = page.locator(f'[data-task="KilledFlow/{live_run.run_id}/start/{live_task.task_id}"]')
    live_row.wait_for()
    page.wait_for_function("el => /^\\d+(\\.\\d+)?(ms|s)$/.test(el.innerText)", arg=live_row.locator(".num").element_handle())


def test_a_watched_run_that_dies_is_reported_failed(browser: Any, server: str, flowscope_env: dict[str, str]) -> None:
    """Watch a run, go elsewhere; its processes die. The watcher re-asks a run that fell silent, so
    its "failed" alert comes (the tab title's badge, and the notification where granted); it never
    did: no event announces a lost heartbeat."""
    from tests.browser_pages import checked_page

    run, _task = dying_run(flowscope_env["FLOWSCOPE_DSN"], silent_s=60 - 12)
    it = checked_page(browser, server)
    page = next(it)
    try:
        page.goto(f"/DyingFlow/{run}")
        page.get_by_test_id("watch-run").click()
        page.wait_for_function("() => document.querySelector('[data-testid=watch-run]').ariaPressed === 'true'")
        page.goto("/LinearFlow")          # away from the run: only the watcher follows it now
        assert page.evaluate("localStorage.getItem('flowscope.watched')") == f'["DyingFlow/{run}"]'
        page.wait_for_function(f"() => document.title.startsWith('✖ DyingFlow/{run} failed')", timeout=(12 + 25) * 1000)
    finally:
        next(it, None)
