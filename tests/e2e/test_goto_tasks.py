"""The go-to box completes task ids (the 4th segment) from the server and opens the task."""

from __future__ import annotations

import re
from typing import Any

from conftest import api_get


def test_goto_completes_task_ids(page: Any, server: str, recorded: dict[str, str]) -> None:
    run = recorded["ForeachFlow"]
    tasks = sorted(str(t["task_id"]) for t in
                   api_get(server, f"/api/flows/ForeachFlow/runs/{run}/steps/square/tasks")["data"])
    page.goto("/")
    box = page.get_by_label("Go to pathspec")
    box.fill(f"ForeachFlow/{run}/square/")
    options = page.locator('.goto-menu [role="option"]')
    page.wait_for_function("() => document.querySelectorAll('.goto-menu [role=option]').length === 5")
    # each option reads "<flow>/<run>/square/" + the task id + its kind ("task")
    shown = sorted(re.sub(r"\s*task\s*$", "", t).rsplit("/", 1)[-1].strip() for t in options.all_inner_texts())
    assert shown == tasks
    options.filter(has_text=tasks[3]).first.dispatch_event("mousedown")
    assert box.input_value() == f"ForeachFlow/{run}/square/{tasks[3]}"
    box.press("Enter")
    page.wait_for_url(re.compile(rf"/ForeachFlow/{run}/square/{tasks[3]}$"))
