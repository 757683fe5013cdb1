"""Metaflow runs through the UI API: logs and artifact values read from Metaflow's datastore."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from mf_harness import Ingest, get_json, metaflow_env, run_flow, s3_env

pytestmark = pytest.mark.compat


@pytest.fixture(scope="module")
def ui_run(ingest: Ingest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Run id of one UiFlow run on the local datastore."""
    tmp = tmp_path_factory.mktemp("uiflow")
    run_flow("ui_flow.py", ["run", "--run-id-file", str(tmp / "run-id")], metaflow_env(ingest, tmp), tmp)
    return (tmp / "run-id").read_text().strip()


async def tasks_by_step(api: TestClient[Any, Any], run: str, step: str) -> list[dict[str, Any]]:
    body = await get_json(api, f"/api/flows/UiFlow/runs/{run}/steps/{step}/tasks")
    return sorted(body["data"], key=lambda t: t["foreach_index"] or 0)


async def test_logs_pages_tail_and_download(api: TestClient[Any, Any], ui_run: str) -> None:
    base = f"/api/flows/UiFlow/runs/{ui_run}/steps/start/tasks"
    (start,) = (await get_json(api, base))["data"]
    logs = f"{base}/{start['task_id']}/logs"
    page = await get_json(api, f"{logs}/stdout")
    assert [(ln["line"], ln["text"]) for ln in page["data"]] == [(1, "start line one"), (2, "start line two")]
    assert all(isinstance(ln["ts"], int) and ln["ts"] > 1_700_000_000_000 for ln in page["data"])
    assert page["total_lines"] == 2 and page["complete"] is True and page["next"] is None

    first = await get_json(api, f"{logs}/stdout", limit=1)
    assert [ln["text"] for ln in first["data"]] == ["start line one"] and first["next"]
    second = await get_json(api, f"{logs}/stdout", limit=1, cursor=first["next"])
    assert [(ln["line"], ln["text"]) for ln in second["data"]] == [(2, "start line two")]
    tail = await get_json(api, f"{logs}/stdout", tail=1)
    assert [ln["text"] for ln in tail["data"]] == ["start line two"]
    err = await get_json(api, f"{logs}/stderr")
    assert [ln["text"] for ln in err["data"]] == ["start warning"]

    resp = await api.get(f"{logs}/stdout/download")
    assert resp.status == 200 and "attachment" in resp.headers["Content-Disposition"]
    assert await resp.text() == "start line one\nstart line two\n"

    # The page of a finished attempt is immutable; a second read comes from the cache.
    again = await api.get(f"{logs}/stdout")
    assert "immutable" in again.headers["Cache-Control"]


async def test_logs_of_a_retried_foreach_task(api: TestClient[Any, Any], ui_run: str) -> None:
    squares = await tasks_by_step(api, ui_run, "square")
    assert [t["foreach_index"] for t in squares] == [0, 1, 2]
    flaky = squares[1]
    logs = f"/api/flows/UiFlow/runs/{ui_run}/steps/square/tasks/{flaky['task_id']}/logs"
    ok = await get_json(api, f"{logs}/stdout")       # default: the latest attempt (1)
    assert ok["attempt"] == 1
    assert [ln["text"] for ln in ok["data"]] == [f"square b line {i}" for i in range(5)]
    failed = await get_json(api, f"{logs}/stderr", attempt=0)
    text = "\n".join(ln["text"] for ln in failed["data"])
    assert "ValueError" in text and "flaky item b" in text
    missing = await get_json(api, f"{logs}/stdout", 404, attempt=4)
    assert "no attempt 4" in missing["error"]["message"]


async def test_artifact_values_and_downloads(api: TestClient[Any, Any], ui_run: str) -> None:
    squares = await tasks_by_step(api, ui_run, "square")
    arts = f"/api/flows/UiFlow/runs/{ui_run}/steps/square/tasks/{squares[2]['task_id']}/artifacts"
    names = {a["name"] for a in (await get_json(api, arts))["data"]}
    assert "sq" in names
    sq = (await get_json(api, f"{arts}/sq"))["data"]
    assert sq["render_error"] is None and sq["value"]["text"] == "'cc'" and sq["value"]["type"] == "str"
    resp = await api.get(f"{arts}/sq/download")
    assert resp.status == 200 and pickle.loads(await resp.read()) == "cc"

    (start,) = (await get_json(api, f"/api/flows/UiFlow/runs/{ui_run}/steps/start/tasks"))["data"]
    sarts = f"/api/flows/UiFlow/runs/{ui_run}/steps/start/tasks/{start['task_id']}/artifacts"
    items = (await get_json(api, f"{sarts}/items"))["data"]
    assert items["value"]["json"] == ["a", "b", "c"]
    # A class of the flow file cannot be rebuilt by the worker: an error on this artifact only.
    opaque = (await get_json(api, f"{sarts}/opaque"))["data"]
    assert opaque["value"] is None and opaque["render_error"]
    assert "Opaque" in opaque["render_error"] or "__main__" in opaque["render_error"]
    assert (await api.get(f"{sarts}/opaque/download")).status == 200


async def test_logs_and_values_from_s3(api: TestClient[Any, Any], ingest: Ingest, moto_endpoint: str,
                                       tmp_path: Path) -> None:
    env = s3_env(ingest, tmp_path, moto_endpoint, "ui")
    run_flow("linear_flow.py", ["run", "--run-id-file", str(tmp_path / "id")], env, tmp_path)
    run = (tmp_path / "id").read_text().strip()
    base = f"/api/flows/LinearFlow/runs/{run}/steps/middle/tasks"
    (middle,) = (await get_json(api, base))["data"]
    page = await get_json(api, f"{base}/{middle['task_id']}/logs/stdout")
    assert [ln["text"] for ln in page["data"]] == ["middle line one", "middle line two"]
    words = (await get_json(api, f"{base}/{middle['task_id']}/artifacts/words"))["data"]
    assert words["value"]["json"] == ["a", "b"]


async def test_parent_tasks_and_foreach_labels(api: TestClient[Any, Any], ui_run: str) -> None:
    (start,) = await tasks_by_step(api, ui_run, "start")
    squares = await tasks_by_step(api, ui_run, "square")
    (gather,) = await tasks_by_step(api, ui_run, "gather")
    (end,) = await tasks_by_step(api, ui_run, "end")
    assert start["parent_task_ids"] == []
    assert [t["parent_task_ids"] for t in squares] == [[f"start/{start['task_id']}"]] * 3
    assert [t["foreach_value"] for t in squares] == ["a", "b", "c"]
    assert sorted(gather["parent_task_ids"]) == sorted(f"square/{t['task_id']}" for t in squares)
    assert end["parent_task_ids"] == [f"gather/{gather['task_id']}"]


async def test_internal_steps_are_not_ui_steps(api: TestClient[Any, Any], ui_run: str) -> None:
    steps = (await get_json(api, f"/api/flows/UiFlow/runs/{ui_run}/steps"))["data"]
    assert [s["step_name"] for s in steps] == ["start", "square", "gather", "end"]
    dag = (await get_json(api, f"/api/flows/UiFlow/runs/{ui_run}/dag"))["data"]
    assert [s["step_name"] for s in dag["steps"]] == ["start", "square", "gather", "end"]
    run = (await get_json(api, f"/api/flows/UiFlow/runs/{ui_run}"))["data"]
    assert run["task_counts"]["total"] == 6
    # ... nor in the run-wide task list or the timeline (both paths: the whole-run index and SQL)
    tasks = (await get_json(api, f"/api/flows/UiFlow/runs/{ui_run}/tasks?limit=100"))["data"]
    assert len(tasks) == 6 and all(not t["step_name"].startswith("_") for t in tasks)
    for query in ("", "&status=completed"):
        timeline = (await get_json(api, f"/api/flows/UiFlow/runs/{ui_run}/timeline?width=800{query}"))["data"]
        assert [g["step_name"] for g in timeline["groups"]] == ["start", "square", "gather", "end"]
        assert timeline["total_rows"] == 6


async def test_logs_of_an_unreadable_datastore_are_an_error_not_empty(
        api: TestClient[Any, Any], ingest: Ingest, tmp_path: Path) -> None:
    """The local datastore Metaflow wrote is not where the UI looks (another machine's path, moved,
    wiped): a failed task's logs answer 502 naming the path, not "no output"; a task that printed
    nothing still answers an empty log; with the datastore back, the lines show."""
    store = tmp_path / "ds"
    store.mkdir()
    run_flow("failing_flow.py", ["run", "--run-id-file", str(tmp_path / "run-id")],
             metaflow_env(ingest, store), tmp_path, expect_ok=False)
    run = (tmp_path / "run-id").read_text().strip()
    base = f"/api/flows/FailingFlow/runs/{run}/steps"
    (boom,) = (await get_json(api, f"{base}/boom/tasks"))["data"]
    (start,) = (await get_json(api, f"{base}/start/tasks"))["data"]
    boom_err = f"{base}/boom/tasks/{boom['task_id']}/logs/stderr"
    quiet = f"{base}/start/tasks/{start['task_id']}/logs/stdout"
    assert (await get_json(api, quiet))["total_lines"] == 0          # start prints nothing

    moved = tmp_path / "ds-elsewhere"
    store.rename(moved)
    try:
        resp = await api.get(boom_err)
        body = await resp.json()
        assert resp.status == 502, body
        assert str(store) in body["error"]["message"] and "attempt 0" in body["error"]["message"]
        assert (await api.get(f"{boom_err}/download")).status == 502
    finally:
        moved.rename(store)
    err = await get_json(api, boom_err)
    assert any("bad alpha" in ln["text"] for ln in err["data"])
    assert (await get_json(api, quiet))["total_lines"] == 0
