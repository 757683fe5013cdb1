"""Keyboard-only use of the run page's timeline: the canvas is the page's main view, and it was
out of the tab order (Tab went from the toolbar's Fit button back to the top of the page), so
without a mouse no task could be opened from it and no step collapsed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import api_get


def focused_label(page: Any) -> str | None:
    return page.evaluate("document.activeElement && document.activeElement.getAttribute('aria-label')")


def test_timeline_rows_are_chosen_and_opened_from_the_keyboard(page: Any, server: str, recorded: dict[str, str]) -> None:
    run = recorded["ForeachFlow"]
    tl = api_get(server, f"/api/flows/ForeachFlow/runs/{run}/timeline?width=1000&rows=100")["data"]
    groups = tl["groups"]
    lane_at = {lane["row"]: lane["task"]["pathspec"] for lane in tl["lanes"]}
    second = groups[1]  # the foreach step: header, then its tasks
    assert second["row_count"] > 1

    page.goto(f"/ForeachFlow/{run}")
    timeline = page.get_by_test_id("timeline")
    page.locator("[data-testid=timeline][data-loaded=true]").wait_for()
    rows = int(timeline.get_attribute("data-rows"))
    status = page.get_by_test_id("timeline-focus")
    # A click (here on the axis) focuses the canvas too, but no row is chosen for a mouse user...
    page.locator("canvas[aria-label='Task timeline']").click(position={"x": 400, "y": 5})
    assert focused_label(page) == "Task timeline" and status.inner_text() == ""
    # ...until a key is pressed.
    page.keyboard.press("ArrowDown")
    assert status.inner_text() != ""
    page.get_by_role("button", name="Fit").focus()
    page.keyboard.press("Tab")
    assert focused_label(page) == "Task timeline"
    # Focus lands on the first task's row; the live region says which task it is.
    first = lane_at[groups[0]["row_start"]]
    assert first.split("/", 2)[2] in status.inner_text()

    # Down to the second step's header: Enter collapses it (its tasks leave the rows), Enter again opens it.
    page.keyboard.press("ArrowDown")
    assert second["step_name"] in status.inner_text()
    page.keyboard.press("Enter")
    page.locator(f"[data-testid=timeline][data-rows='{rows - second['row_count']}']").wait_for()
    page.keyboard.press("Enter")
    page.locator(f"[data-testid=timeline][data-rows='{rows}']").wait_for()

    # j moves down as ArrowDown does; Enter opens the chosen task's page.
    page.keyboard.press("j")
    page.keyboard.press("j")
    target = lane_at[second["row_start"] + 1]
    assert target.split("/", 2)[2] in status.inner_text()
    # + zooms (the window goes into the URL), without leaving the page.
    page.keyboard.type("+")
    page.wait_for_url(lambda u: "ws=" in u)
    page.keyboard.press("Enter")
    page.wait_for_url(lambda u: u.split("?")[0].endswith("/" + target))
    page.get_by_test_id("task-info").wait_for()


def test_an_artifacts_value_opens_from_the_keyboard(page: Any, server: str, recorded: dict[str, str]) -> None:
    """Artifact rows opened their value on a mouse click only (a <tr> with onClick, out of the tab order)."""
    run = recorded["LinearFlow"]
    tasks = api_get(server, f"/api/flows/LinearFlow/runs/{run}/steps/middle/tasks")["data"]
    page.goto(f"/LinearFlow/{run}/middle/{tasks[0]['task_id']}?panel=artifacts")
    page.get_by_test_id("artifacts").locator("tr[data-artifact=scaled]").wait_for()
    page.get_by_role("tab", name="Cards").focus()
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.closest('tr') && document.activeElement.closest('tr').dataset.artifact") == "scaled":
            break
    else:
        raise AssertionError("Tab never reached the artifact 'scaled'")
    page.keyboard.press("Enter")
    assert page.get_by_test_id("artifact-value").inner_text().strip() == "2.5"


def focused_task(page: Any) -> str | None:
    """The data-task of the focused task-list row (None when the focus is not on a row)."""
    return page.evaluate("document.activeElement && document.activeElement.closest('[data-testid=task-rows]') ? "
                         "document.activeElement.dataset.task ?? null : null")


def test_task_list_rows_are_one_tab_stop_with_arrows_inside(page: Any, server: str, recorded: dict[str, str], shots: Path) -> None:
    """The task page's task list answered j/k and Enter, but Tab never reached its rows: a keyboard
    user could not tell where the selection was, nor reach it with a screen reader. Now the list is
    one tab stop (the selected row, outlined), the arrows move the focus within, Enter opens."""
    run = recorded["ForeachFlow"]
    tasks = [t["pathspec"] for t in api_get(server, f"/api/flows/ForeachFlow/runs/{run}/steps/square/tasks")["data"]]
    assert len(tasks) >= 3
    current = tasks[1]
    page.goto("/" + current)
    rows = page.get_by_test_id("task-rows")
    rows.locator(f'[data-task="{tasks[-1]}"]').wait_for()
    page.get_by_role("button", name="all steps", exact=True).focus()
    page.keyboard.press("Tab")
    # The one tab stop is the open task's row, outlined.
    assert focused_task(page) == current
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid", outline
    assert rows.locator("[tabindex='0']").count() == 1
    page.screenshot(path=str(shots / "task-list-focus.png"))
    # Tab leaves the list (no stop on every row or on every row's "?" button), Shift+Tab comes back.
    page.keyboard.press("Tab")
    assert focused_task(page) is None
    assert page.evaluate("!!document.activeElement.closest('[data-testid=task-rows]')") is False
    page.keyboard.press("Shift+Tab")
    assert focused_task(page) == current
    # Arrows (and j/k) move the focus within; Home/End go to the ends.
    page.keyboard.press("ArrowDown")
    assert focused_task(page) == tasks[2]
    page.keyboard.press("k")
    assert focused_task(page) == tasks[1]
    page.keyboard.press("End")
    assert focused_task(page) == tasks[-1]
    page.keyboard.press("Home")
    assert focused_task(page) == tasks[0]
    assert rows.locator("[aria-selected=true]").get_attribute("data-task") == tasks[0]
    # Enter opens the focused row's task.
    page.keyboard.press("Enter")
    page.wait_for_url(lambda u: u.split("?")[0].endswith("/" + tasks[0]))
    page.get_by_test_id("task-info").wait_for()
