"""DAG, steps, tasks, attempts, artifacts, metadata, cards and logs of real runs."""

from __future__ import annotations

from typing import Any

from tests.backend.api_helpers import get_json


async def test_dag_and_steps(api: Any, recorded: dict[str, str]) -> None:
    base = f"/api/flows/ForeachFlow/runs/{recorded['ForeachFlow']}"
    dag = (await get_json(api, base + "/dag"))["data"]
    names = [s["step_name"] for s in dag["steps"]]
    assert names == ["start", "square", "gather", "end"]
    start = dag["steps"][0]
    assert start["type"] == "split-foreach" and start["foreach_artifact"] == "items"
    assert start["next"] == ["square"] and start["doc"] == "Make five items." and start["line"] > 0
    square = dag["steps"][1]
    assert square["task_counts"]["total"] == 5 and square["task_counts"]["completed"] == 5
    assert square["status"] == "completed" and square["duration_ms"] >= 0
    resp = await api.get(base + "/dag")
    assert resp.headers["Cache-Control"].startswith("public") and resp.headers["ETag"]
    again = await api.get(base + "/dag", headers={"If-None-Match": resp.headers["ETag"]})
    assert again.status == 304
    steps = await get_json(api, base + "/steps")
    assert [s["step_name"] for s in steps["data"]] == names and steps["next"] is None
    one = await get_json(api, base + "/steps/gather")
    assert one["data"]["type"] == "join"
    err = await get_json(api, base + "/steps/nope", 404)
    assert "step" in err["error"]["message"] and "nope" in err["error"]["message"]


async def test_tasks_filters_and_pages(api: Any, recorded: dict[str, str]) -> None:
    base = f"/api/flows/ForeachFlow/runs/{recorded['ForeachFlow']}"
    all_tasks = (await get_json(api, base + "/tasks"))["data"]
    assert len(all_tasks) == 8
    seen: list[str] = []
    cursor = None
    while True:
        page = await get_json(api, base + "/tasks", limit=3, **({"cursor": cursor} if cursor else {}))
        seen += [t["pathspec"] for t in page["data"]]
        cursor = page["next"]
        if not cursor:
            break
    assert seen == [t["pathspec"] for t in all_tasks]
    squares = (await get_json(api, base + "/tasks", step="square"))["data"]
    assert len(squares) == 5 and sorted(t["foreach_index"] for t in squares) == [0, 1, 2, 3, 4]
    assert (await get_json(api, base + "/steps/square/tasks"))["data"] == squares
    assert (await get_json(api, base + "/tasks", status="failed"))["data"] == []
    task = squares[0]
    assert task["attempts"][0]["status"] == "completed" and task["parent_task_ids"]
    one = (await get_json(api, "/api/flows/" + task["pathspec"].replace("/", "/runs/", 1)
                          .replace(f"/{task['step_name']}/", f"/steps/{task['step_name']}/tasks/")))["data"]
    assert one["pathspec"] == task["pathspec"]


def task_url(pathspec: str) -> str:
    flow, run, step, task = pathspec.split("/")
    return f"/api/flows/{flow}/runs/{run}/steps/{step}/tasks/{task}"


async def _task(api: Any, flow: str, run: str, step: str) -> dict[str, Any]:
    tasks = (await get_json(api, f"/api/flows/{flow}/runs/{run}/tasks", step=step))["data"]
    return tasks[0]


async def test_attempts_of_retried_task(api: Any, recorded: dict[str, str]) -> None:
    task = await _task(api, "RetryCatchFlow", recorded["RetryCatchFlow"], "flaky")
    attempts = (await get_json(api, task_url(task["pathspec"]) + "/attempts"))["data"]
    assert [a["attempt"] for a in attempts] == [0, 1]
    assert attempts[0]["status"] == "failed" and attempts[0]["exception_type"] == "RuntimeError"
    assert attempts[1]["status"] == "completed" and task["attempt"] == 1
    stdout0 = await get_json(api, task_url(task["pathspec"]) + "/logs/stdout", attempt=0)
    assert any("attempt 0" in line["text"] for line in stdout0["data"])
    await get_json(api, task_url(task["pathspec"]) + "/logs/stdout", 404, attempt=7)


async def test_failed_task(api: Any, recorded: dict[str, str]) -> None:
    task = await _task(api, "FailingFlow", recorded["FailingFlow"], "explode")
    assert task["status"] == "failed" and "boom" in task["status_reason"]
    assert task["attempts"][-1]["exception_message"] == "boom"
    assert "Traceback" in (task["attempts"][-1]["traceback"] or "")


async def test_artifacts(api: Any, recorded: dict[str, str]) -> None:
    task = await _task(api, "ReportFlow", recorded["ReportFlow"], "start")
    url = task_url(task["pathspec"]) + "/artifacts"
    arts = {a["name"]: a for a in (await get_json(api, url))["data"]}
    assert {"numbers", "config", "text"} <= set(arts)
    assert arts["text"]["preview"] and arts["numbers"]["type"] == "list" and arts["numbers"]["size"] > 0
    value = (await get_json(api, url + "/config"))["data"]
    assert value["value"]["json"] == {"alpha": 0.5, "layers": [64, 32]}
    assert "alpha" in value["value"]["text"] and value["render_error"] is None
    raw = await api.get(url + "/numbers/download")
    assert raw.status == 200 and raw.headers["Content-Type"] == "application/octet-stream"
    import pickle

    assert pickle.loads(await raw.read()) == list(range(10))  # the test may unpickle; the server may not
    err = await get_json(api, url + "/missing", 404)
    assert "missing" in err["error"]["message"]


async def test_metadata_and_cards(api: Any, recorded: dict[str, str]) -> None:
    task = await _task(api, "ReportFlow", recorded["ReportFlow"], "start")
    meta = await get_json(api, task_url(task["pathspec"]) + "/metadata")
    assert isinstance(meta["data"], list)
    cards = (await get_json(api, task_url(task["pathspec"]) + "/cards"))["data"]
    ids = {c["card_id"] for c in cards}
    assert "report" in ids
    resp = await api.get(cards[0]["url"])
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/html")
    assert "sandbox" in resp.headers["Content-Security-Policy"]
    report = await api.get(task_url(task["pathspec"]) + "/cards/report")
    assert "Report" in await report.text()
    await get_json(api, task_url(task["pathspec"]) + "/cards/nope", 404)


async def test_logs_pages_tail_download(api: Any, recorded: dict[str, str]) -> None:
    task = await _task(api, "ReportFlow", recorded["ReportFlow"], "start")
    url = task_url(task["pathspec"]) + "/logs/stdout"
    first = await get_json(api, url, limit=100)
    assert first["complete"] is True and first["total_lines"] >= 2500
    assert [ln["line"] for ln in first["data"]] == list(range(1, 101))
    assert first["data"][0]["text"] == "line 0 needle-0" and first["data"][0]["ts"] > 0
    lines: list[int] = []
    cursor = None
    while True:
        page = await get_json(api, url, limit=700, **({"cursor": cursor} if cursor else {}))
        lines += [ln["line"] for ln in page["data"]]
        cursor = page["next"]
        if not cursor:
            break
    assert lines == list(range(1, first["total_lines"] + 1))
    middle = await get_json(api, url, from_line=1000, limit=5)
    assert middle["data"][0]["text"] == "line 999 needle-499"
    tail = await get_json(api, url, tail=3)
    assert [ln["line"] for ln in tail["data"]] == [first["total_lines"] - 2, first["total_lines"] - 1,
                                                   first["total_lines"]]
    stderr = await get_json(api, task_url(task["pathspec"]) + "/logs/stderr")
    assert any("to stderr" in ln["text"] for ln in stderr["data"])
    download = await api.get(url + "/download")
    text = await download.text()
    assert download.status == 200 and text.count("\n") == first["total_lines"]
    assert text.startswith("line 0 needle-0\n")
    await get_json(api, task_url(task["pathspec"]) + "/logs/stdlog", 404)
    await get_json(api, url, 400, tail=5, from_line=3)
