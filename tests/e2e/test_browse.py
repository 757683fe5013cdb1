"""Browsing recorded runs in a real browser: home, filters, run page, DAG, task logs, links."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from conftest import api_get

ROW_H, AXIS_H, LABEL_W = 20, 22, 220  # the timeline canvas geometry (frontend/src/timeline/drawTimeline.ts)


def task_of(server: str, flow: str, run: str, step: str) -> str:
    tasks = api_get(server, f"/api/flows/{flow}/runs/{run}/steps/{step}/tasks")["data"]
    assert tasks, f"no tasks in {flow}/{run}/{step}"
    return str(tasks[0]["task_id"])


def test_home_lists_runs_and_filters_by_status(page: Any, recorded: dict[str, str], shots: Path) -> None:
    page.goto("/")
    rows = page.locator('[role="row"][data-pathspec]')
    rows.first.wait_for()
    pathspecs = rows.evaluate_all("els => els.map(e => e.dataset.pathspec)")
    for flow, run in recorded.items():
        assert f"{flow}/{run}" in pathspecs
    page.screenshot(path=str(shots / "home.png"))

    page.click('[data-filter-status="failed"]')
    page.wait_for_url(re.compile(r"status=failed"))
    page.locator(f'[data-pathspec="FailingFlow/{recorded["FailingFlow"]}"]').wait_for()
    page.wait_for_function("() => [...document.querySelectorAll('[data-pathspec]')].every(e => e.dataset.status === 'failed')")
    assert page.locator(f'[data-pathspec="LinearFlow/{recorded["LinearFlow"]}"]').count() == 0
    # The failed run says why, in the list itself.
    assert "boom" in page.locator(f'[data-pathspec="FailingFlow/{recorded["FailingFlow"]}"]').inner_text()


def test_clicking_a_tag_filters_by_it(page: Any, recorded: dict[str, str]) -> None:
    page.goto("/")
    row = page.locator(f'[data-pathspec="LinearFlow/{recorded["LinearFlow"]}"]')
    row.locator(".tag", has_text="nightly").click()
    page.wait_for_url(re.compile(r"tag=nightly"))
    page.locator(".chip", has_text="nightly").wait_for()
    page.wait_for_function("() => document.querySelectorAll('[data-pathspec]').length === 2")
    shown = set(page.locator("[data-pathspec]").evaluate_all("els => els.map(e => e.dataset.pathspec)"))
    assert shown == {f"LinearFlow/{recorded['LinearFlow']}", f"RetryCatchFlow/{recorded['RetryCatchFlow']}"}


def test_run_page_timeline_opens_a_task(page: Any, server: str, recorded: dict[str, str], shots: Path) -> None:
    run = recorded["ForeachFlow"]
    page.goto("/")
    page.locator(f'[data-pathspec="ForeachFlow/{run}"]').click()
    page.wait_for_url(re.compile(rf"/ForeachFlow/{run}$"))
    header = page.get_by_test_id("run-header")
    assert "Completed" in header.inner_text()
    assert "8 done" in page.get_by_test_id("task-counts").inner_text()
    timeline = page.get_by_test_id("timeline")
    # start, 5 × square, gather, end: 8 bars in 4 step groups (4 header rows + 8 lanes).
    page.wait_for_function("() => Number(document.querySelector('[data-testid=timeline]').dataset.bars) >= 8")
    assert timeline.get_attribute("data-rows") == "12"
    page.screenshot(path=str(shots / "run-timeline.png"))

    # Row 3 is the first `square` lane (rows: start header, start lane, square header, square lanes…).
    canvas = page.locator("canvas[aria-label='Task timeline']")
    canvas.click(position={"x": 60, "y": AXIS_H + 3 * ROW_H + ROW_H / 2})
    page.wait_for_url(re.compile(rf"/ForeachFlow/{run}/square/\d+"))
    page.get_by_test_id("task-info").wait_for()
    assert "square/" in page.get_by_test_id("task-info").inner_text()


def test_the_minimap_asks_after_the_timeline_has_its_answer(page: Any, recorded: dict[str, str]) -> None:
    """On a run's first open after a restart both answers need the run's timeline index; the
    overview (group=flat, 6 lanes) is asked for only once the main timeline has its answer, so
    its row order and level are not computed ahead of the one on screen."""
    run = recorded["ForeachFlow"]
    events: list[tuple[str, str]] = []
    page.on("request", lambda r: "/timeline?" in r.url and events.append(("sent", r.url)))
    page.on("requestfinished", lambda r: "/timeline?" in r.url and events.append(("done", r.url)))
    page.goto(f"/ForeachFlow/{run}")
    page.wait_for_function("() => document.querySelector('[data-testid=timeline]')?.dataset.loaded === 'true'")
    for _ in range(100):                      # until the overview's answer is in too
        if any(kind == "done" and "group=flat" in url for kind, url in events):
            break
        page.wait_for_timeout(100)
    minimap = [i for i, (kind, url) in enumerate(events) if kind == "sent" and "group=flat" in url]
    main_done = [i for i, (kind, url) in enumerate(events) if kind == "done" and "group=flat" not in url]
    assert minimap and main_done, events
    assert main_done[0] < minimap[0], events


def test_dag_groups_the_foreach_and_filters_the_timeline(page: Any, recorded: dict[str, str], shots: Path) -> None:
    run = recorded["ForeachFlow"]
    page.goto(f"/ForeachFlow/{run}")
    page.click('[data-tab="dag"]')
    page.wait_for_url(re.compile(r"tab=dag"))
    dag = page.get_by_test_id("dag")
    dag.locator("[data-step]").first.wait_for()
    steps = dag.locator("[data-step]").evaluate_all("els => els.map(e => e.dataset.step)")
    assert steps == ["start", "square", "gather", "end"]
    assert dag.locator('[data-group="foreach"]').count() == 1
    assert "5 tasks" in (dag.locator('[data-step="square"]').text_content() or "")
    page.screenshot(path=str(shots / "run-dag.png"))

    dag.locator('[data-step="square"]').click()
    page.wait_for_url(re.compile(rf"/ForeachFlow/{run}/square$"))
    page.wait_for_function("() => document.querySelector('[data-testid=timeline]')?.dataset.rows === '6'")


def test_branch_dag_has_a_static_group(page: Any, recorded: dict[str, str]) -> None:
    page.goto(f"/BranchFlow/{recorded['BranchFlow']}?tab=dag")
    page.get_by_test_id("dag").locator('[data-group="static"]').wait_for()


def test_failed_run_dag_says_which_steps_never_ran(page: Any, recorded: dict[str, str]) -> None:
    """A failed run is over: the step after the failure is "not run", not "pending" (it never will be)."""
    page.goto(f"/FailingFlow/{recorded['FailingFlow']}?tab=dag")
    dag = page.get_by_test_id("dag")
    dag.locator('[data-step="explode"][data-status="failed"]').wait_for()
    end = dag.locator('[data-step="end"]')
    assert end.get_attribute("data-status") == "not_run" and "not run" in (end.text_content() or "")
    assert dag.locator('[data-status="pending"]').count() == 0
    assert "not run" in dag.locator(".dag-key").inner_text()


def test_task_logs_permalink_and_reload(page: Any, server: str, recorded: dict[str, str], shots: Path) -> None:
    run = recorded["LinearFlow"]
    task = task_of(server, "LinearFlow", run, "start")
    page.goto(f"/LinearFlow/{run}/start/{task}")
    log = page.get_by_test_id("log-stdout")
    log.get_by_text("starting with alpha 0.25").wait_for()
    log.locator('[data-line="1"] .log-no').click()
    page.wait_for_url(re.compile(r"#L1$"))

    page.reload()
    page.locator('[data-line="1"].selected').wait_for()
    assert "starting with alpha" in page.locator('[data-line="1"]').inner_text()


def test_log_colours_search_and_line_range(page: Any, server: str, recorded: dict[str, str], shots: Path) -> None:
    run = recorded["LogsFlow"]
    task = task_of(server, "LogsFlow", run, "train")
    page.goto(f"/LogsFlow/{run}/train/{task}")
    log = page.get_by_test_id("log-stdout")
    # Opens at the tail: the last line is on screen without scrolling.
    error_line = log.get_by_text("validation skipped")
    error_line.wait_for()
    assert page.get_by_test_id("log-total").inner_text() == "304 lines"
    # ANSI colours become styled text, never markup: the escape codes are gone from the text.
    red = log.locator('span.ansi-b', has_text="ERROR")
    assert red.count() >= 1 and "var(--ansi-1)" in (red.first.get_attribute("style") or "")
    assert "\x1b" not in log.inner_text() and "[0m" not in log.inner_text()

    page.get_by_label("Find in log").fill("WARN")
    page.keyboard.press("Enter")
    page.get_by_test_id("match-count").get_by_text("1 / 3").wait_for()
    page.locator("mark.current", has_text="WARN").wait_for()
    page.keyboard.press("Enter")
    page.get_by_test_id("match-count").get_by_text("2 / 3").wait_for()

    # Shift-click extends a line selection into a range permalink.
    page.goto(f"/LogsFlow/{run}/train/{task}#L10")
    page.locator('[data-line="10"].selected').wait_for()
    page.locator('[data-line="14"] .log-no').click(modifiers=["Shift"])
    page.wait_for_url(re.compile(r"#L10-14$"))
    assert page.locator(".log-line.selected").count() == 5
    page.get_by_role("button", name="Timestamps").click()
    page.wait_for_url(re.compile(r"ts=1"))
    page.screenshot(path=str(shots / "task-logs.png"))


def test_failed_task_shows_the_traceback_and_stderr_line(page: Any, server: str, recorded: dict[str, str]) -> None:
    run = recorded["FailingFlow"]
    task = task_of(server, "FailingFlow", run, "explode")
    page.goto(f"/FailingFlow/{run}/explode/{task}?stream=stderr")
    assert "ValueError: boom" in page.get_by_test_id("traceback").inner_text()
    page.get_by_test_id("log-stderr").get_by_text("ValueError: boom").wait_for()


def test_retried_task_has_an_attempt_selector(page: Any, server: str, recorded: dict[str, str]) -> None:
    run = recorded["RetryCatchFlow"]
    task = task_of(server, "RetryCatchFlow", run, "flaky")
    page.goto(f"/RetryCatchFlow/{run}/flaky/{task}")
    page.click('[data-attempt="0"]')
    page.wait_for_url(re.compile(r"attempt=0"))
    # the URL changes before the attempt's answer arrives: wait for the header to say so
    page.get_by_test_id("task-info").filter(has_text="Failed").wait_for()


def ms_text(ms: int) -> str:
    """frontend/src/ui/format.ts formatDuration, for the sub-minute figures of these runs."""
    return f"{ms}ms" if ms < 1000 else f"{ms / 1000:.1f}s" if ms < 10_000 else f"{ms // 1000}s"


def test_an_earlier_attempt_shows_its_own_queued_and_running_time(page: Any, server: str,
                                                                  recorded: dict[str, str]) -> None:
    """Attempt 0 of a retried task: its queued / running time is its own, not the whole task's (which
    runs from attempt 0's start to the last attempt's finish); a retry is queued from the previous
    attempt's finish."""
    run = recorded["RetryCatchFlow"]
    task = task_of(server, "RetryCatchFlow", run, "flaky")
    a0, a1 = api_get(server, f"/api/flows/RetryCatchFlow/runs/{run}/steps/flaky/tasks/{task}")["data"]["attempts"]
    whole = api_get(server, f"/api/flows/RetryCatchFlow/runs/{run}/steps/flaky/tasks/{task}/status")["data"]["timing"]
    own = a0["finished_at"] - a0["started_at"]
    assert whole["running_ms"] != own  # the task's running time spans both attempts
    page.goto(f"/RetryCatchFlow/{run}/flaky/{task}?attempt=0")
    timing = page.get_by_test_id("task-timing")
    timing.wait_for()
    duration = page.get_by_test_id("task-info").locator('dt:text-is("duration") + dd').inner_text()
    assert duration == ms_text(own)
    assert timing.locator("dd").inner_text() == f"queued {ms_text(whole['queued_ms'])} · running {ms_text(own)}"

    page.click('[data-attempt="1"]')
    page.wait_for_url(re.compile(r"attempt=1"))
    page.get_by_test_id("task-timing").locator("dd", has_text=f"running {ms_text(a1['finished_at'] - a1['started_at'])}").wait_for()
    queued = a1["started_at"] - a0["finished_at"]
    assert page.get_by_test_id("task-timing").locator("dd").inner_text().startswith(f"queued {ms_text(queued)} ·")


def test_unknown_task_shows_not_found_with_a_way_back_to_the_run(page: Any, recorded: dict[str, str]) -> None:
    """A deep link to a task that does not exist: the 404 and a link to its run, no task tabs or panels."""
    run = recorded["RetryCatchFlow"]
    page.goto(f"/RetryCatchFlow/{run}/flaky/999999")
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "404" in alert.inner_text() and f"RetryCatchFlow/{run}/flaky/999999" in alert.inner_text()
    assert page.locator(".task-main [role=tablist]").count() == 0
    assert page.locator(".task-main [role=tab]").count() == 0
    page.get_by_test_id("not-found-back").click()
    page.wait_for_url(re.compile(rf"/RetryCatchFlow/{run}$"))
    page.get_by_test_id("run-header").wait_for()


def go_to(page: Any, text: str) -> None:
    """Types ``text`` into the go-to box (opened with "g") and submits it."""
    page.keyboard.press("g")
    page.keyboard.insert_text(text)
    page.keyboard.press("Enter")


def test_goto_box_opens_a_pasted_pathspec(page: Any, server: str, recorded: dict[str, str]) -> None:
    run = recorded["ForeachFlow"]
    task = task_of(server, "ForeachFlow", run, "gather")
    page.goto("/")
    page.locator("[data-pathspec]").first.wait_for()
    go_to(page, f"ForeachFlow/{run}/gather/{task}")
    page.wait_for_url(re.compile(rf"/ForeachFlow/{run}/gather/{task}$"))
    page.get_by_label("Breadcrumbs").locator('[aria-current="page"]', has_text=task).wait_for()
    crumbs = page.get_by_label("Breadcrumbs").inner_text()
    assert "ForeachFlow" in crumbs and "gather" in crumbs and task in crumbs


def test_goto_box_opens_metaflow_client_objects_and_artifacts(page: Any, server: str, recorded: dict[str, str]) -> None:
    """What a notebook prints for Metaflow's client objects (`Run('LinearFlow/3')`) and an
    artifact's pathspec (`DataArtifact.pathspec`, five segments) were refused ("Enter a pathspec");
    an artifact now opens on its task's artifacts panel with its value shown."""
    run = recorded["LinearFlow"]
    task = task_of(server, "LinearFlow", run, "middle")
    page.goto("/")
    page.locator("[data-pathspec]").first.wait_for()
    go_to(page, f"Run('LinearFlow/{run}')")
    page.wait_for_url(re.compile(rf"/LinearFlow/{run}$"))
    page.get_by_test_id("run-header").wait_for()
    go_to(page, f"LinearFlow/{run}/middle/{task}/scaled")
    page.wait_for_url(re.compile(rf"/LinearFlow/{run}/middle/{task}\?panel=artifacts&artifact=scaled$"))
    assert page.get_by_test_id("artifact-value").inner_text().strip() == "2.5"


def test_deep_link_with_tab_survives_reload(page: Any, recorded: dict[str, str]) -> None:
    page.goto(f"/ForeachFlow/{recorded['ForeachFlow']}?tab=dag")
    page.get_by_test_id("dag").wait_for()
    page.reload()
    page.get_by_test_id("dag").locator('[data-step="gather"]').wait_for()
    assert page.locator('[data-tab="dag"]').get_attribute("aria-selected") == "true"


def test_unknown_run_shows_the_server_message(page: Any) -> None:
    page.goto("/ForeachFlow/999999")
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "ForeachFlow/999999" in alert.inner_text() and "404" in alert.inner_text()
    page.get_by_test_id("not-found-back").click()
    page.wait_for_url(re.compile(r"/ForeachFlow$"))


def test_run_wide_search_links_to_the_line(page: Any, recorded: dict[str, str]) -> None:
    run = recorded["ForeachFlow"]
    page.goto(f"/ForeachFlow/{run}?tab=search&q=square%203")
    hit = page.get_by_test_id("search-results").locator("a").first
    hit.wait_for()
    assert "square 3 16" in hit.inner_text()
    hit.click()
    page.wait_for_url(re.compile(rf"/ForeachFlow/{run}/square/\d+#L\d+"))
    page.locator(".log-line.selected", has_text="square 3 16").wait_for()


def test_dark_mode_is_switchable_and_persisted(page: Any, recorded: dict[str, str], shots: Path) -> None:
    page.goto(f"/RetryCatchFlow/{recorded['RetryCatchFlow']}")
    page.wait_for_function("() => Number(document.querySelector('[data-testid=timeline]')?.dataset.bars) >= 4")
    assert page.evaluate("document.documentElement.dataset.theme") == "light"
    toggle = page.get_by_test_id("theme-toggle")
    toggle.click()  # system -> dark
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    page.reload()
    page.wait_for_function("() => Number(document.querySelector('[data-testid=timeline]')?.dataset.bars) >= 4")
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    page.screenshot(path=str(shots / "dark-mode.png"))


def test_artifacts_table_and_full_value(page: Any, server: str, recorded: dict[str, str]) -> None:
    run = recorded["LogsFlow"]
    task = task_of(server, "LogsFlow", run, "train")
    page.goto(f"/LogsFlow/{run}/train/{task}")
    page.click('[data-tab="artifacts"]')
    page.wait_for_url(re.compile(r"panel=artifacts"))
    table = page.get_by_test_id("artifacts")
    row = table.locator("tr", has_text="final_loss")
    row.wait_for()
    assert "float" in row.inner_text()
    row.click()
    value = page.get_by_test_id("artifact-value")
    value.wait_for()
    assert value.inner_text().startswith("0.04")


def test_card_renders_in_a_sandboxed_iframe(page: Any, server: str, recorded: dict[str, str]) -> None:
    run = recorded["LogsFlow"]
    task = task_of(server, "LogsFlow", run, "end")
    page.goto(f"/LogsFlow/{run}/end/{task}?panel=cards")
    frame = page.get_by_test_id("card-frame")
    frame.wait_for()
    # Scripts may run, but without allow-same-origin the card cannot touch the app.
    assert frame.get_attribute("sandbox") == "allow-scripts"
    page.frame_locator("[data-testid=card-frame]").get_by_text("Training summary").wait_for()


def test_keyboard_help_and_list_navigation(page: Any, recorded: dict[str, str]) -> None:
    page.goto("/")
    page.locator("[data-pathspec]").first.wait_for()
    page.keyboard.press("?")
    dialog = page.locator("dialog[open]")
    dialog.get_by_text("Keyboard shortcuts").wait_for()
    page.keyboard.press("Escape")
    dialog.wait_for(state="detached")
    first = page.locator("[data-pathspec]").first.get_attribute("data-pathspec")
    second = page.locator("[data-pathspec]").nth(1).get_attribute("data-pathspec")
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    page.keyboard.press("j")
    assert page.locator(".vrow.selected").get_attribute("data-pathspec") == second != first
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile("/" + re.escape(str(second)) + "$"))
