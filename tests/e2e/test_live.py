"""A run recorded while the browser watches: it appears, a task appears, log lines stream in, and
the run turns completed — all without reloading the page."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from conftest import OWN_FLOWS, api_get, finish_flow


def wait_for_api(server: str, path: str, test: Any, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            data = api_get(server, path)["data"]
            if test(data):
                return data
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} never satisfied the condition")
        time.sleep(0.2)


def wait_until_sent(page: Any, sent: list[dict[str, Any]], resource_path: str, timeout: float = 10) -> dict[str, Any]:
    """The page's websocket subscription to the resource whose URL ends with resource_path (waiting
    through the page: Playwright's sync API delivers events only while one of its calls runs)."""
    deadline = time.monotonic() + timeout
    while True:
        subs = [m for m in list(sent) if m.get("type") == "subscribe" and str(m.get("resource", "")).endswith(resource_path)]
        if subs:
            return subs[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"no subscription to {resource_path}: {sent}")
        page.wait_for_timeout(100)


def test_live_run_updates_without_reload(page: Any, server: str, flowscope_env: dict[str, str],
                                         tmp_path: Path) -> None:
    sent: list[dict[str, Any]] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda f: sent.append(json.loads(f)) if isinstance(f, str) else None))
    page.goto("/LiveFlow")
    # Empty, or (when another test module ran LiveFlow first) its earlier runs: the new one is the row
    # that was not there.
    page.locator('[data-testid=runs-empty], [data-pathspec^="LiveFlow/"]').first.wait_for()
    before = page.eval_on_selector_all('[data-pathspec^="LiveFlow/"]', "rows => rows.map(r => r.dataset.pathspec)")
    # A marker on window: if anything reloads the page, it is gone.
    page.evaluate("window.__noReload = 1")
    proc = subprocess.Popen([sys.executable, str(OWN_FLOWS / "live_flow.py"), "run", "--run-id-file",
                             str(tmp_path / "live.id")], env=flowscope_env, cwd=str(OWN_FLOWS),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        # The new run appears in the list, pushed over the websocket.
        row = page.locator('[data-pathspec^="LiveFlow/"]' + "".join(f':not([data-pathspec="{p}"])' for p in before))
        row.wait_for(timeout=30_000)
        run_id = row.get_attribute("data-pathspec").split("/")[1]
        assert row.get_attribute("data-status") == "running"
        row.click()
        page.wait_for_url(re.compile(rf"/LiveFlow/{run_id}$"))
        # The run page's task feed resumes from the run it fetched (the server replays what changed
        # since), so a task change between the fetch and the subscription is not lost.
        tasks_sub = wait_until_sent(page, sent, f"/api/flows/LiveFlow/runs/{run_id}/tasks")
        assert isinstance(tasks_sub.get("since"), int) and tasks_sub["since"] > 0, tasks_sub
        # The running run's duration ticks on its own (a shared one-second clock, no refetch).
        duration = page.get_by_test_id("run-duration")
        first = duration.inner_text()
        page.wait_for_function("t => document.querySelector('[data-testid=run-duration]').innerText !== t", arg=first,
                               timeout=5_000)

        # A task appears on the timeline while we watch (start first, then work).
        page.wait_for_function(
            "() => Number(document.querySelector('[data-testid=timeline]')?.dataset.bars) >= 2", timeout=30_000)
        work = wait_for_api(server, f"/api/flows/LiveFlow/runs/{run_id}/steps/work/tasks", lambda d: len(d) > 0)
        task_id = work[0]["task_id"]

        # Open the running task through the go-to box (client-side navigation, no reload).
        page.keyboard.press("g")
        page.keyboard.insert_text(f"LiveFlow/{run_id}/work/{task_id}")
        page.keyboard.press("Enter")
        log = page.get_by_test_id("log-stdout")
        log.get_by_text("tick 2", exact=True).wait_for(timeout=30_000)
        # The log is followed from its tail page's seq (lines written between the page and the
        # subscription are replayed by the server), not from the moment of subscribing (no since);
        # 0 when the page came before the first chunk.
        log_sub = wait_until_sent(page, sent, f"/steps/work/tasks/{task_id}/logs/stdout?attempt=0")
        assert isinstance(log_sub.get("since"), int) and log_sub["since"] >= 0, log_sub
        # Later lines stream in while the view is open.
        log.get_by_text("tick 20", exact=True).wait_for(timeout=30_000)

        # Back to the run through the breadcrumb: it turns completed.
        page.get_by_label("Breadcrumbs").get_by_role("link", name=run_id).click()
        page.wait_for_url(re.compile(rf"/LiveFlow/{run_id}$"))
        page.get_by_test_id("run-header").locator('.badge[data-status="completed"]').wait_for(timeout=30_000)
        assert page.evaluate("window.__noReload") == 1
    finally:
        finish_flow(proc)
