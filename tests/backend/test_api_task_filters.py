"""Task-level narrowing: log search of one task (task, attempt) and task id autocomplete."""

from __future__ import annotations

import json
from typing import Any

from tests.backend.api_helpers import get_json


async def _search(api: Any, url: str, **params: Any) -> list[dict[str, Any]]:
    resp = await api.get(url, params=params)
    assert resp.status == 200, await resp.text()
    return [json.loads(line) for line in (await resp.text()).splitlines()]


async def test_search_one_task(api: Any, recorded: dict[str, str]) -> None:
    run = recorded["ForeachFlow"]
    url = f"/api/flows/ForeachFlow/runs/{run}/search"
    everywhere = [m for m in await _search(api, url, q="square") if m["type"] == "match"]
    tasks = sorted({m["task_id"] for m in everywhere})
    assert len(tasks) == 5  # one "square i n" line per foreach task
    one = [m for m in await _search(api, url, q="square", step="square", task=tasks[2]) if m["type"] == "match"]
    assert [m["task_id"] for m in one] == [tasks[2]] and one[0]["step_name"] == "square"
    two = await _search(api, url, q="square", task=f"{tasks[0]},{tasks[1]}")
    assert sorted(m["task_id"] for m in two if m["type"] == "match") == tasks[:2]
    assert two[-1] == {"type": "done", "matches": 2, "scanned_bytes": two[-1]["scanned_bytes"],
                       "truncated": False, "reason": None}
    # attempt narrows the chunks: these tasks ran once, so attempt 1 has no log
    none = await _search(api, url, q="square", task=tasks[0], attempt=1)
    assert none == [{"type": "done", "matches": 0, "scanned_bytes": 0, "truncated": False, "reason": None}]
    assert len([m for m in await _search(api, url, q="square", task=tasks[0], attempt=0)
                if m["type"] == "match"]) == 1
    assert "'attempt'" in (await get_json(api, url, 400, q="x", attempt="first"))["error"]["message"]


async def test_autocomplete_tasks(api: Any, recorded: dict[str, str]) -> None:
    run = recorded["ForeachFlow"]
    url = "/api/autocomplete/tasks"
    square = (await get_json(api, url, flow="ForeachFlow", run=run, step="square"))["data"]
    listed = await get_json(api, f"/api/flows/ForeachFlow/runs/{run}/steps/square/tasks")
    assert sorted(square) == sorted(t["task_id"] for t in listed["data"]) and len(square) == 5
    every = (await get_json(api, url, flow="ForeachFlow", run=run))["data"]
    assert set(square) < set(every)
    prefix = square[0][:-1]
    narrowed = (await get_json(api, url, flow="ForeachFlow", run=run, q=prefix))["data"]
    assert narrowed and all(v.startswith(prefix) for v in narrowed)
    assert (await get_json(api, url, flow="ForeachFlow", run=run, step="nope"))["data"] == []
    assert "'flow' and 'run'" in (await get_json(api, url, 400, flow="ForeachFlow"))["error"]["message"]
