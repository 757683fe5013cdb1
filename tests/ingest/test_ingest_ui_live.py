"""A Metaflow run is live in the UI API: websocket events while it runs, no heartbeat flapping."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from mf_harness import FLOWS, Ingest, get_json, metaflow_env

from tests.backend.live_helpers import next_event

pytestmark = pytest.mark.compat


async def test_websocket_follows_a_running_metaflow_flow(api: TestClient[Any, Any], ingest: Ingest,
                                                          tmp_path: Path) -> None:
    ws = await api.ws_connect("/api/ws")
    await ws.send_json({"type": "subscribe", "id": "runs", "resource": "/api/flows/UiFlow/runs"})
    # The start step sleeps so that the tasks subscription below begins before the foreach.
    env = metaflow_env(ingest, tmp_path, {"UI_FLOW_START_SLEEP": "4"})
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(FLOWS / "ui_flow.py"), "--no-pylint", "run", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    try:
        first = await next_event(ws, timeout=60, match=lambda m: m["id"] == "runs")
        run_id = first["data"]["run_id"]
        assert first["data"]["source"] == "metaflow" and first["data"]["status"] == "running"
        await ws.send_json({"type": "subscribe", "id": "tasks",
                            "resource": f"/api/flows/UiFlow/runs/{run_id}/tasks"})
        square = await next_event(ws, timeout=60, match=lambda m: m["id"] == "tasks"
                                  and m["data"]["step_name"] == "square")
        assert square["type"] in ("insert", "update") and square["data"]["pathspec"].startswith(
            f"UiFlow/{run_id}/square/")
        retried = await next_event(ws, timeout=90, match=lambda m: m["id"] == "tasks"
                                   and m["data"]["step_name"] == "square" and m["data"]["attempt"] == 1)
        assert retried["data"]["foreach_value"] == "b"
        assert retried["data"]["attempts"][0]["status"] == "failed"
        end = await next_event(ws, timeout=90, match=lambda m: m["id"] == "tasks"
                               and m["data"]["step_name"] == "end" and m["data"]["status"] == "completed")
        assert end["seq"] > square["seq"]
        done = await next_event(ws, timeout=60, match=lambda m: m["id"] == "runs"
                                and m["data"]["run_id"] == run_id and m["data"]["status"] == "completed")
        assert done["data"]["task_counts"]["completed"] == 6   # _parameters is not counted
        assert await proc.wait() == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await ws.close()


async def run_shows(api: TestClient[Any, Any], path: str, status: str, timeout: float = 30.0) -> dict[str, Any]:
    """The run's answer once it says ``status``.

    Right after an ingest write the UI API may still serve the answer it cached before it: the
    response cache drops it when the write's NOTIFY reaches the live hub, which lags the write's
    commit (by seconds on a loaded machine). So wait for that, not for a fixed time.
    """
    deadline = time.monotonic() + timeout
    while True:
        resp = await api.get(path)
        run = (await resp.json())["data"]
        if run["status"] == status or time.monotonic() > deadline:
            return dict(run, cache=resp.headers.get("X-Flowscope-Cache"))
        await asyncio.sleep(0.1)


async def test_orchestrated_run_kept_alive_by_task_heartbeats(api: TestClient[Any, Any], ingest: Ingest,
                                                              db: Any) -> None:
    """Argo-style runs send no run heartbeat: task creation and task heartbeats keep the run alive."""
    ingest.post("/flows/BeatFlow", {"flow_id": "BeatFlow", "ts_epoch": 1})
    run_id = f"argo-beat-{int(time.time() * 1000)}"
    status, _ = ingest.post("/flows/BeatFlow/run", {"flow_id": "BeatFlow", "user_name": "tester",
                                                     "run_number": run_id, "tags": [], "system_tags": []})
    assert status == 200
    base = f"/flows/BeatFlow/runs/{run_id}"
    ingest.post(base + "/steps/start/step", {})
    assert ingest.post(base + "/steps/start/task", {"task_id": "t-1"})[0] == 200

    stale = int(time.time() * 1000) - 3_600_000    # as if the last sign of life were an hour ago
    with db.cursor() as cur:
        cur.execute("UPDATE runs SET heartbeat_at = %s, created_at = %s, started_at = %s "
                    "WHERE flow_id = 'BeatFlow' AND run_id = %s", (stale, stale, stale, run_id))
    lost = (await get_json(api, f"/api/flows/BeatFlow/runs/{run_id}"))["data"]
    assert lost["status"] == "failed" and "heartbeat lost" in lost["status_reason"]

    status, _, _ = ingest.request("POST", base + "/steps/start/tasks/t-1/heartbeat", b"{}")
    assert status == 200
    alive = await run_shows(api, f"/api/flows/BeatFlow/runs/{run_id}", "running")
    assert alive["status"] == "running" and alive["status_reason"] is None, alive

    # a new task (the next step's pod) also counts as a sign of life of the run
    with db.cursor() as cur:
        cur.execute("UPDATE runs SET heartbeat_at = %s WHERE flow_id = 'BeatFlow' AND run_id = %s",
                    (stale, run_id))
    ingest.post(base + "/steps/next/step", {})
    assert ingest.post(base + "/steps/next/task", {"task_id": "t-2"})[0] == 200
    again = await run_shows(api, f"/api/flows/BeatFlow/runs/{run_id}", "running")
    assert again["status"] == "running", again
