"""Mirrored runs, read through Flowscope's API, against what Metaflow's Client API reports.

The source holds real ``metaflow`` runs (tests/mirror/history.py) written through the v3
service; the mirror backfills them into a fresh Flowscope database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.ingest.mf_harness import AWS_DUMMY, get_json
from tests.mirror.conftest import backfill, mirror_settings
from tests.mirror.history import ARGO_RUN, BUCKET, History, fill
from tests.mirror.source_harness import SourceServer, V3Service, make_source
from tests.s3_server import moto_s3

pytestmark = pytest.mark.compat
HEARTBEAT_TIMEOUT = 3.0


@pytest.fixture(scope="module")
def aws_env() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        for key, value in AWS_DUMMY.items():
            mp.setenv(key, value)
        yield


@pytest.fixture(scope="module")
def history(source_server: SourceServer, tmp_path_factory: pytest.TempPathFactory,
            aws_env: None) -> Iterator[History]:
    tmp = tmp_path_factory.mktemp("mirror-history")
    source = make_source(source_server, triggers=False, label="hist")
    with moto_s3(BUCKET) as endpoint:
        service = V3Service(source, tmp / "service.log")
        try:
            filled = fill(source, service, tmp, endpoint)
        finally:
            service.stop()
        yield filled


@pytest.fixture(scope="module")
def mirrored(history: History, pg_server_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    settings = mirror_settings(pg_server_dsn, history.source, tmp_path_factory.mktemp("mirror-home"),
                               s3_endpoint_url=history.s3_endpoint)
    mirror = asyncio.run(backfill(settings))
    assert mirror.status.skipped == 0, list(mirror.status.last_skipped)
    assert mirror.status.datastore_unreadable == {}
    return settings


@pytest.fixture()
async def api(api_for: Any, mirrored: Any) -> TestClient[Any, Any]:
    client: TestClient[Any, Any] = await api_for(mirrored, heartbeat_timeout=HEARTBEAT_TIMEOUT)
    return client


def _split(pathspec: str) -> list[str]:
    return pathspec.split("/")


async def one(api: TestClient[Any, Any], path: str, **params: Any) -> Any:
    return (await get_json(api, path, **params))["data"]


async def test_runs_statuses_tags_and_parameters(api: TestClient[Any, Any], history: History) -> None:
    await asyncio.sleep(HEARTBEAT_TIMEOUT)   # the killed run's last heartbeat is now older than that
    assert history.client, "the Client API saw no runs"
    for pathspec, want in history.client.items():
        flow, run_id = _split(pathspec)
        got = await one(api, f"/api/flows/{flow}/runs/{run_id}")
        assert got["source"] == "metaflow"
        if want["finished"]:
            assert got["status"] == ("completed" if want["successful"] else "failed"), pathspec
        else:
            # Not finished for the Client: failed for Flowscope (a failing step, or a lost heartbeat).
            assert got["status"] == "failed", (pathspec, got["status"], got["status_reason"])
        assert sorted(got["tags"]) == want["tags"], pathspec
        assert sorted(got["system_tags"]) == want["system_tags"], pathspec
        for name, value in want["params"].items():
            assert got["parameters"][name] == value, (pathspec, name)
    linear = await one(api, f"/api/flows/LinearFlow/runs/{history.linear}")
    assert sorted(linear["tags"]) == ["reviewed"]          # the Client's tag mutation
    failing = (await get_json(api, "/api/flows/FailingFlow/runs"))["data"][0]
    assert failing["status_reason"] == "step boom failed: ValueError: bad alpha"
    killed = await one(api, f"/api/flows/SlowFlow/runs/{history.killed}")
    assert killed["status_reason"].startswith("heartbeat lost at ")


async def test_tasks_attempts_and_foreach_labels(api: TestClient[Any, Any], history: History) -> None:
    for pathspec, want in history.client.items():
        flow, run_id = _split(pathspec)
        tasks = (await get_json(api, f"/api/flows/{flow}/runs/{run_id}/tasks", limit=1000))["data"]
        mine = {t["pathspec"]: t for t in tasks if not t["step_name"].startswith("_")}
        assert sorted(mine) == sorted(want["tasks"]), pathspec
        for tpath, w in want["tasks"].items():
            t = mine[tpath]
            assert t["attempt"] == w["attempt"], tpath
            assert len(t["attempts"]) == w["attempt"] + 1, tpath
            if w["finished"]:
                assert t["status"] == "completed", (tpath, t["status"], t["status_reason"])
            else:
                assert t["status"] == "failed", (tpath, t["status"])
            if w["index"] is not None:
                assert t["foreach_index"] == w["index"], tpath
    foreach = (await get_json(api, "/api/flows/ForeachFlow/runs"))["data"][0]["run_id"]
    squares = (await get_json(api, f"/api/flows/ForeachFlow/runs/{foreach}/steps/square/tasks"))["data"]
    flaky = next(t for t in squares if t["foreach_index"] == 1)
    assert flaky["foreach_value"] == "1" and flaky["attempts"][0]["status"] == "failed"
    assert flaky["attempts"][0]["exception_type"] == "ValueError"
    assert flaky["attempts"][0]["exception_message"] == "flaky item 1"
    (risky,) = (await get_json(api, f"/api/flows/ForeachFlow/runs/{foreach}/steps/risky/tasks"))["data"]
    assert risky["status"] == "completed"
    assert risky["status_reason"] == "@catch caught RuntimeError: risky went wrong"
    (gather,) = (await get_json(api, f"/api/flows/ForeachFlow/runs/{foreach}/steps/gather/tasks"))["data"]
    assert sorted(gather["parent_task_ids"]) == sorted(f"square/{t['task_id']}" for t in squares)
    dag = await one(api, f"/api/flows/ForeachFlow/runs/{foreach}/dag")
    assert "square" in str(dag) and "gather" in str(dag)


async def test_artifacts_and_log_lines(api: TestClient[Any, Any], history: History) -> None:
    checked = 0
    for pathspec, want in history.client.items():
        flow, run_id = _split(pathspec)
        for tpath, w in want["tasks"].items():
            if not w["finished"]:
                continue
            _f, _r, step, task = _split(tpath)
            base = f"/api/flows/{flow}/runs/{run_id}/steps/{step}/tasks/{task}"
            arts = (await get_json(api, base + "/artifacts"))["data"]
            assert sorted(a["name"] for a in arts if not a["name"].startswith("_")) == w["artifacts"], tpath
            for stream in ("stdout", "stderr"):
                lines = (await get_json(api, f"{base}/logs/{stream}", limit=10000))["data"]
                text = "".join(ln["text"] + "\n" for ln in lines)
                assert text == w[stream], (tpath, stream)
            checked += 1
    assert checked > 20     # every finished task of every run
    # A value, from the local datastore and from S3.
    for run in (history.linear, history.linear_s3):
        (middle,) = (await get_json(api, f"/api/flows/LinearFlow/runs/{run}/steps/middle/tasks"))["data"]
        x = await one(api, f"/api/flows/LinearFlow/runs/{run}/steps/middle/tasks/{middle['task_id']}"
                                "/artifacts/x")
        assert "2" in str(x.get("value", x)), x


async def test_orchestrator_ids_cards_and_counts(api: TestClient[Any, Any], history: History,
                                                 mirrored: Any) -> None:
    run = await one(api, f"/api/flows/LinearFlow/runs/{ARGO_RUN}")
    assert run["run_id"] == ARGO_RUN and run["run_number"] is None
    tasks = (await get_json(api, f"/api/flows/LinearFlow/runs/{ARGO_RUN}/tasks"))["data"]
    assert {t["pathspec"] for t in tasks if not t["step_name"].startswith("_")} == {
        f"LinearFlow/{ARGO_RUN}/start/t-start"}
    card_run = (await get_json(api, "/api/flows/CardFlow/runs"))["data"][0]["run_id"]
    (start,) = (await get_json(api, f"/api/flows/CardFlow/runs/{card_run}/steps/start/tasks"))["data"]
    cards = (await get_json(api, f"/api/flows/CardFlow/runs/{card_run}/steps/start/tasks/"
                                 f"{start['task_id']}/cards"))["data"]
    assert sorted(c["card_id"] for c in cards) == ["default", "notes"]

    # Every source row is in Flowscope exactly once.
    import psycopg2

    src = history.source
    want = {t: src.rows(f"SELECT count(*) AS n FROM {t}")[0]["n"]
            for t in ("runs_v3", "tasks_v3", "metadata_v3", "artifact_v3")}
    with psycopg2.connect(mirrored.dsn) as conn, conn.cursor() as cur:
        got = {}
        for table, theirs in (("runs", "runs_v3"), ("tasks", "tasks_v3"), ("metadata", "metadata_v3"),
                              ("artifacts", "artifact_v3")):
            cur.execute(f"SELECT count(*) FROM {table}")
            got[theirs] = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM (SELECT task_pk, field_name, value, created_at, count(*) FROM metadata "
                    "GROUP BY 1, 2, 3, 4 HAVING count(*) > 1) d")
        dup_md = cur.fetchone()[0]
    conn.close()
    assert got == want
    theirs = src.rows("SELECT count(*) AS n FROM (SELECT task_id, field_name, value, ts_epoch, count(*) FROM "
                      "metadata_v3 GROUP BY 1, 2, 3, 4 HAVING count(*) > 1) d")[0]["n"]
    assert dup_md == theirs
    assert isinstance(Path(history.sysroot), Path)
