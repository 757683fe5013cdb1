"""What an empty run list says. A flow name typed with the wrong case (`/foreachflow` for
ForeachFlow) or a typo showed "No runs match these filters in foreachflow." although no filter was
set and no such flow exists; a flow without runs said the same."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg2


def test_an_unknown_flow_says_so_and_offers_the_flow_it_may_mean(page: Any, recorded: dict[str, str]) -> None:
    page.goto("/foreachflow")
    empty = page.get_by_test_id("runs-empty")
    empty.get_by_text("No flow named foreachflow").wait_for()
    assert "filters" not in empty.inner_text()
    # Metaflow's flow names are case-sensitive class names: the one meant is a click away.
    page.get_by_test_id("flow-suggestion").get_by_text("ForeachFlow", exact=True).click()
    page.wait_for_url(lambda u: u.endswith("/ForeachFlow"))
    page.locator(f'[data-pathspec="ForeachFlow/{recorded["ForeachFlow"]}"]').wait_for()


def test_a_flow_without_runs_and_a_filter_matching_nothing_say_which(page: Any, recorded: dict[str, str],
                                                                   flowscope_env: dict[str, str]) -> None:
    conn = psycopg2.connect(flowscope_env["FLOWSCOPE_DSN"])
    try:
        with conn, conn.cursor() as cur:    # a flow registered before its first run was (Metaflow's POST /flows/F)
            cur.execute("INSERT INTO flows (flow_id, created_at) VALUES ('NoRunsYetFlow', 0) ON CONFLICT DO NOTHING")
    finally:
        conn.close()
    page.goto("/NoRunsYetFlow")
    page.get_by_test_id("runs-empty").get_by_text("NoRunsYetFlow has no runs yet").wait_for()
    page.goto("/ForeachFlow?user=nobody-at-all")
    page.get_by_test_id("runs-empty").get_by_text("No runs match these filters in ForeachFlow").wait_for()


def test_a_task_of_a_run_that_does_not_exist_says_it_once_and_leads_to_the_flow(page: Any,
                                                                             recorded: dict[str, str]) -> None:
    """/Flow/999/step/1 (a run id mistyped in a pasted task pathspec) showed the run's 404 twice (the
    task list's and the task's) and offered "Back to run Flow/999", the run that does not exist."""
    page.goto("/ForeachFlow/999999/start/1")
    alert = page.locator("[role=alert]")
    alert.first.get_by_text("run ForeachFlow/999999 not found").wait_for()
    page.wait_for_timeout(500)      # both requests answered
    assert alert.count() == 1
    back = page.get_by_test_id("not-found-back")
    assert back.inner_text() == "Back to ForeachFlow's runs"
    back.click()
    page.wait_for_url(lambda u: u.endswith("/ForeachFlow"))
    page.locator(f'[data-pathspec="ForeachFlow/{recorded["ForeachFlow"]}"]').wait_for()


def test_a_step_the_run_does_not_have_is_named_as_such(page: Any, recorded: dict[str, str]) -> None:
    """/Flow/12/trian (a typo of a step) showed the run's timeline saying only "No tasks match."."""
    run = recorded["ForeachFlow"]
    page.goto(f"/ForeachFlow/{run}/trian")
    notice = page.get_by_test_id("unknown-step")
    notice.wait_for()
    text = notice.inner_text()
    assert "no step trian" in text and "start" in text and "gather" in text
    page.get_by_role("link", name="all steps").click()
    page.wait_for_url(lambda u: u.split("?")[0].endswith(f"/ForeachFlow/{run}"))
    assert page.get_by_test_id("unknown-step").count() == 0


def test_the_step_dropdown_names_a_missing_step_as_chosen_and_missing(page: Any, recorded: dict[str, str], shots: Path) -> None:
    """The page body said "no step trian in this run" while the timeline's step dropdown read
    "All steps", as if the filter were off."""
    run = recorded["ForeachFlow"]
    page.goto(f"/ForeachFlow/{run}/trian")
    page.get_by_test_id("unknown-step").wait_for()
    select = page.get_by_test_id("step-filter")
    page.wait_for_function("() => document.querySelector('[data-testid=step-filter]').options.length > 2")
    assert select.input_value() == "trian"
    chosen = select.locator("option:checked")
    assert chosen.inner_text() == "trian — not in this run"
    assert select.get_attribute("aria-invalid") == "true"
    page.screenshot(path=str(shots / "step-missing.png"))
    # The run's own steps are offered, and choosing one leaves nothing marked missing.
    select.select_option("start")
    page.wait_for_url(lambda u: u.split("?")[0].endswith(f"/ForeachFlow/{run}/start"))
    assert select.input_value() == "start"
    assert select.get_attribute("aria-invalid") is None
    assert select.locator("option[data-missing]").count() == 0
    assert page.get_by_test_id("unknown-step").count() == 0
