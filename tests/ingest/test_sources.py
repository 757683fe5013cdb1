"""The source seam: a run that Metaflow wrote and a run that core_runtime wrote, read through the
one interface (backend/sources/) and through the API, give the same answers.

The same flow file runs twice: with pip metaflow (through the ingest service: logs, artifacts and
cards in Metaflow's datastore) and, with ``from metaflow`` swapped for ``from core_runtime``, on
our runtime (log chunks, blobs and card rows in Flowscope's datastore).
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from mf_harness import FLOWS, Ingest, get_json, metaflow_env, run_flow

from backend.api.search import Matcher
from backend.app import create_app
from backend.db import artifacts as artifacts_db
from backend.db import runs as runs_db
from backend.db import tasks as tasks_db
from backend.db.liveness import live_params
from backend.db.query import Row
from backend.errors import ApiError
from backend.keys import DB, SETTINGS
from backend.sources import SOURCE_CLASSES, source_for
from backend.sources.base import LogWindow, SearchScope
from contract.settings import Settings
from tests.flow_runs import run_flow as run_native_flow

pytestmark = pytest.mark.compat

FLOW = {"metaflow": "SeamFlow", "native": "SeamNativeFlow"}
ALL = SearchScope(streams=None, steps=None, tasks=None, attempt=None)


@pytest.fixture(scope="module")
def seam_runs(ingest: Ingest, flowscope_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Run ids of the flow as each writer recorded it, by source."""
    tmp = tmp_path_factory.mktemp("seam")
    run_flow("seam_flow.py", ["run", "--run-id-file", str(tmp / "mf-id")], metaflow_env(ingest, tmp), tmp)
    native = tmp / "seam_native_flow.py"
    native.write_text((FLOWS / "seam_flow.py").read_text()
                      .replace("from metaflow.cards import", "from core_runtime.cards import")
                      .replace("from metaflow import", "from core_runtime import")
                      .replace("SeamFlow", FLOW["native"]))
    return {"metaflow": (tmp / "mf-id").read_text().strip(),
            "native": run_native_flow(flowscope_env, native, tmp)}


async def _rows(app: web.Application, source: str, run_id: str, step: str) -> tuple[Row, Row]:
    db, lv = app[DB], live_params(app[SETTINGS])
    run = await runs_db.get_run(db, lv, FLOW[source], run_id)
    assert run is not None
    (task,), _ = await tasks_db.list_tasks(db, lv, run["run_pk"], [step], [], None, 10)
    return run, task


@pytest.mark.parametrize("source", ["metaflow", "native"])
async def test_one_interface_for_both_writers(api: TestClient[Any, Any], seam_runs: dict[str, str],
                                              source: str) -> None:
    app = api.server.app
    run, task = await _rows(app, source, seam_runs[source], "start")
    src = source_for(app, run)
    assert src.name == run["source"] == source

    # logs: a page, a tail, the other stream, the whole text
    page = await src.log_page(run, task, 0, "stdout", True, LogWindow(1, 100))
    assert [(ln["line"], ln["text"]) for ln in page.lines] == [(1, "seam line 0"), (2, "seam line 1"),
                                                              (3, "seam line 2")]
    assert all(isinstance(ln["ts"], int) for ln in page.lines)
    assert page.total == 3 and page.end == 101 and page.immutable
    tail = await src.log_page(run, task, 0, "stdout", True, LogWindow(1, 2, tail=2))
    assert [ln["line"] for ln in tail.lines] == [2, 3] and tail.end == 4
    err = await src.log_page(run, task, 0, "stderr", True, LogWindow(1, 100))
    assert [ln["text"] for ln in err.lines] == ["seam warning"]
    text = b"".join([piece async for piece in src.log_text(run, task, 0, "stdout", True)])
    assert text == b"seam line 0\nseam line 1\nseam line 2\n"

    # the run-wide search's pieces
    tasks = await src.search_tasks(run, 0, ALL, 100)
    steps = {t["task_pk"]: t["step_name"] for t in tasks}
    assert set(steps.values()) == {"start", "end"}
    hits = []
    for piece in await src.log_pieces(run, tasks, ALL):
        hits += [(steps[piece.task_pk], piece.stream, line, text)
                 for line, _, text in (await src.read_piece(run, piece)).scan(Matcher("seam", False, False))]
    assert sorted(hits) == [("end", "stdout", 1, "seam done seam"), ("start", "stderr", 1, "seam warning"),
                            ("start", "stdout", 1, "seam line 0"), ("start", "stdout", 2, "seam line 1"),
                            ("start", "stdout", 3, "seam line 2")]
    only = SearchScope(streams=["stderr"], steps=["start"], tasks=None, attempt=0)
    assert {p.stream for p in await src.log_pieces(run, await src.search_tasks(run, 0, only, 100), only)} \
        <= {"stderr"}

    # artifacts: rendered in the worker, downloaded as the pickle
    artifacts = {a["name"]: a for a in await artifacts_db.list_artifacts(app[DB], task["task_pk"], 0)}
    values = artifacts["values"]
    assert src.renders(values["encoding"]) and not src.renders("json-v1")
    rendered = await src.artifact_value(run, values)
    assert rendered["json"] == [1, 2, 3] and rendered["type"] == "list"
    assert pickle.loads(await src.artifact_bytes(run, values)) == [1, 2, 3]

    # cards
    cards = await src.cards(run, task, None)
    assert [(c["card_id"], c["type"], c["attempt"]) for c in cards] == [("notes", "blank", 0)]
    assert await src.cards(run, task, 1) == []
    card = await src.card_html(run, task, "notes", None)
    assert card is not None and card.immutable and b"<html" in card.html.lower()
    assert await src.card_html(run, task, "nothing", None) is None

    # the DAG
    dag = await src.dag(run)
    assert dag["steps"]["start"]["type"] == "start" and dag["steps"]["start"]["next"] == ["end"]
    assert dag["steps"]["end"]["type"] == "end"


async def test_the_api_answers_alike(api: TestClient[Any, Any], seam_runs: dict[str, str]) -> None:
    """Logs, log search, artifacts, cards and the DAG through HTTP: the same for both writers."""
    answers: dict[str, list[Any]] = {}
    for source, run_id in seam_runs.items():
        base = f"/api/flows/{FLOW[source]}/runs/{run_id}"
        (start,) = (await get_json(api, f"{base}/steps/start/tasks"))["data"]
        task = f"{base}/steps/start/tasks/{start['task_id']}"
        log = await get_json(api, f"{task}/logs/stdout", limit=2)
        rest = await get_json(api, f"{task}/logs/stdout", cursor=log["next"])
        download = await (await api.get(f"{task}/logs/stderr/download")).text()
        search = await api.get(f"{base}/search", params={"q": "SEAM L", "ignore_case": "true"})
        matches = [(m["step_name"], m["stream"], m["line"], m["text"])
                   for m in map(json.loads, (await search.text()).splitlines()) if m["type"] == "match"]
        regex = await api.get(f"{base}/search", params={"q": r"^seam \w+ \d$", "regex": "true", "stream": "stdout"})
        regex_lines = [ln for ln in (await regex.text()).splitlines() if '"match"' in ln]
        value = (await get_json(api, f"{task}/artifacts/values"))["data"]
        cards = (await get_json(api, f"{task}/cards"))["data"]
        card = await api.get(cards[0]["url"])
        dag = (await get_json(api, f"{base}/dag"))["data"]
        answers[source] = [
            [ln["text"] for ln in log["data"] + rest["data"]], log["total_lines"], rest["next"], download,
            matches, len(regex_lines), value["value"]["json"], value["render_error"],
            [(c["card_id"], c["type"], c["attempt"]) for c in cards], card.status,
            "immutable" in card.headers["Cache-Control"],
            [(s["step_name"], s["type"], s["next"]) for s in dag["steps"]]]
    assert answers["metaflow"] == answers["native"]
    assert answers["native"][4] == [("start", "stdout", 1, "seam line 0"), ("start", "stdout", 2, "seam line 1"),
                                    ("start", "stdout", 3, "seam line 2")]
    assert answers["native"][5] == 3


async def test_a_metaflow_dag_is_read_once_it_exists(settings: Settings, db: Any, seam_runs: dict[str, str],
                                                     aiohttp_client: Any, tmp_path: Path) -> None:
    """runs.dag of a Metaflow run is empty until the ingest decodes _graph_info: an empty DAG is not
    cached, and a run with the _graph_info artifact but no runs.dag gets it decoded on first view."""
    api = await aiohttp_client(create_app(settings.replace(response_cache_mb=0, cache_dir=str(tmp_path),
                                                           static_dir=str(tmp_path))))
    app = api.server.app
    run, _ = await _rows(app, "metaflow", seam_runs["metaflow"], "start")
    with db.cursor() as cur:
        cur.execute("SELECT dag FROM runs WHERE run_pk = %s", (run["run_pk"],))
        (recorded,) = cur.fetchone()
        cur.execute("UPDATE artifacts SET name = '_graph_info_hidden' WHERE run_pk = %s AND name = '_graph_info'",
                    (run["run_pk"],))
        cur.execute("UPDATE runs SET dag = NULL WHERE run_pk = %s", (run["run_pk"],))
    try:
        src = source_for(app, run)
        assert await src.dag(run) == {}          # not recorded yet: nothing to show, nothing cached
        with db.cursor() as cur:
            cur.execute("UPDATE artifacts SET name = '_graph_info' WHERE run_pk = %s AND name = '_graph_info_hidden'",
                        (run["run_pk"],))
        decoded = await src.dag(run)
        assert decoded["steps"] == recorded["steps"] and decoded["start_step"] == "start"
        dag = (await get_json(api, f"/api/flows/SeamFlow/runs/{seam_runs['metaflow']}/dag"))["data"]
        assert [s["step_name"] for s in dag["steps"]] == ["start", "end"]
    finally:
        with db.cursor() as cur:
            cur.execute("UPDATE artifacts SET name = '_graph_info' WHERE run_pk = %s AND name = '_graph_info_hidden'",
                        (run["run_pk"],))
            cur.execute("UPDATE runs SET dag = %s WHERE run_pk = %s",
                        (json.dumps(recorded), run["run_pk"]))


def test_a_run_of_an_unknown_writer_is_a_clear_error(settings: Settings) -> None:
    app = create_app(settings)
    with pytest.raises(ApiError, match="written by 'elsewhere'"):
        source_for(app, {"source": "elsewhere", "flow_id": "F", "run_id": "1"})
    assert SOURCE_CLASSES.keys() == {"native", "metaflow"}
