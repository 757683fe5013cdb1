"""The views re-ask a silent running run when the *server* would call it lost: after its
FLOWSCOPE_HEARTBEAT_TIMEOUT (learnt from /api/-/version), measured on the server's clock (the
answers' Date header). The threshold was a fixed 20 s in the UI whatever the server's timeout, and
it was measured on the browser's clock: a browser 5 minutes ahead re-asked every running run
every 10 s although its heartbeats were fresh."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import api_get, extra_backend
from test_killed_run import dying_run

from tests.backend.live_helpers import new_store, running_task
from tests.browser_pages import checked_page

SHORT_TIMEOUT_S = 3


@pytest.fixture(scope="module")
def short_timeout_server(built_ui: Path, backend_env: dict[str, str], recorded: dict[str, str],
                         tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second backend on the same database whose heartbeat timeout is 3 s instead of 60 s."""
    with extra_backend(backend_env, tmp_path_factory, "e2e-short-timeout", FLOWSCOPE_HEARTBEAT_TIMEOUT=str(SHORT_TIMEOUT_S)) as base:
        yield base


def test_the_ui_re_asks_after_the_servers_own_timeout(browser: Any, short_timeout_server: str,
                                                     flowscope_env: dict[str, str], shots: Path) -> None:
    """Under a 3 s timeout a run that falls silent turns failed on screen a few seconds later; with
    the UI's fixed 20 s threshold it stayed "Running" for 20 s."""
    assert api_get(short_timeout_server, "/api/-/version")["data"]["heartbeat_timeout_s"] == SHORT_TIMEOUT_S
    run, _ = dying_run(flowscope_env["FLOWSCOPE_DSN"], silent_s=0)
    it = checked_page(browser, short_timeout_server)
    page = next(it)
    try:
        page.goto(f"/DyingFlow/{run}")
        header = page.get_by_test_id("run-header")
        started = time.monotonic()
        header.locator(".badge[data-status=running]").wait_for()
        header.locator(".badge[data-status=failed]").wait_for(timeout=12_000)
        took = time.monotonic() - started
        assert took < 12, took
        header.get_by_test_id("status-reason").get_by_text("heartbeat lost at").wait_for()
        page.screenshot(path=str(shots / "short-timeout-lost.png"))
    finally:
        next(it, None)


SKEW = "(() => { const real = Date.now.bind(Date); Date.now = () => real() + 300000; })()"


def test_a_browser_clock_ahead_of_the_server_does_not_re_ask(browser: Any, server: str,
                                                            flowscope_env: dict[str, str], shots: Path) -> None:
    """A browser 5 minutes ahead with a run whose heartbeat is fresh (server timeout 60 s): no re-ask
    of the run in 13 s (the browser's clock alone says its heartbeat is 5 minutes old: a re-ask at
    once and every 10 s), and its duration is not 5 minutes too long."""
    store = new_store(flowscope_env["FLOWSCOPE_DSN"])
    run, _ = running_task(store, "SkewFlow")
    it = checked_page(browser, server, init_scripts=(SKEW,))
    page = next(it)
    asked: list[str] = []
    path = f"/api/flows/SkewFlow/runs/{run.run_id}"
    page.on("request", lambda r: asked.append(r.url) if r.url.split("?")[0].endswith(path) else None)
    try:
        page.goto(f"/SkewFlow/{run.run_id}")
        page.get_by_test_id("run-header").locator(".badge[data-status=running]").wait_for()
        assert page.evaluate("Date.now() - new Date().getTime()") > 290_000   # the skew is in place
        first = len(asked)
        page.wait_for_timeout(13_000)
        assert len(asked) == first, asked
        assert page.get_by_test_id("run-header").locator(".badge[data-status=running]").count() == 1
        # The ticking duration is read on the server's clock too: about 14 s, not 5 minutes more.
        duration = page.get_by_test_id("run-duration").inner_text()
        assert re.fullmatch(r"[\d.]+s", duration), duration
        page.screenshot(path=str(shots / "skewed-clock-run.png"))
    finally:
        next(it, None)
