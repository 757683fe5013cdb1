"""The compare page was a snapshot: a run that finished, or died (heartbeat lost), after the page
loaded stayed "Running" there until a reload. It now follows both runs as the run list and the run
page do: the runs' live feed, and a re-ask of a running run that fell silent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import api_get
from test_killed_run import dying_run

from tests.backend.live_helpers import new_store, running_task

TIMEOUT_S = 60   # the e2e server's FLOWSCOPE_HEARTBEAT_TIMEOUT (the default)


def test_compare_follows_a_run_that_finishes_and_one_that_dies(page: Any, server: str,
                                                               flowscope_env: dict[str, str], shots: Path) -> None:
    store = new_store(flowscope_env["FLOWSCOPE_DSN"])
    finishing, task = running_task(store, "CompareLiveFlow")
    dying, _ = dying_run(flowscope_env["FLOWSCOPE_DSN"], silent_s=TIMEOUT_S - 8)
    page.goto(f"/-/compare?a=CompareLiveFlow/{finishing.run_id}&b=DyingFlow/{dying}")
    card_a, card_b = page.get_by_test_id("compare-run-a"), page.get_by_test_id("compare-run-b")
    for card in (card_a, card_b):
        card.locator(".badge[data-status=running]").wait_for()
    page.evaluate("window.__noReload = 1")     # gone if anything reloads the page

    # A finishes: its card turns completed by the run's live feed, within seconds.
    store.finish_attempt(task, 0, status="completed", exit_code=0)
    store.finish_run(finishing, "completed", "all steps completed")
    card_a.locator(".badge[data-status=completed]").wait_for(timeout=10_000)
    assert card_b.locator(".badge[data-status=running]").count() == 1

    # B's heartbeat passes the server's timeout (about 8 s from its start): no write, no event; the
    # page re-asks the silent run and shows it failed, heartbeat lost.
    card_b.locator(".badge[data-status=failed]").wait_for(timeout=30_000)
    assert api_get(server, f"/api/flows/DyingFlow/runs/{dying}")["data"]["status"] == "failed"
    assert "heartbeat lost" in (card_b.locator(".badge[data-status=failed]").get_attribute("title") or "")
    assert card_a.locator(".badge[data-status=completed]").count() == 1
    assert page.evaluate("window.__noReload") == 1
    page.screenshot(path=str(shots / "compare-live.png"))
