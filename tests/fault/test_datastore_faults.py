"""The datastore fails or hangs: clear, quick errors on the panels that need it, the rest works."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backend.app import create_app
from contract.settings import Settings
from tests.backend.conftest import FIXTURE_FLOWS, run_flow

FLOWS = Path(__file__).resolve().parent / "flows"
BUCKET = "fsfault"
AWS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def moto(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    import boto3
    from moto.server import ThreadedMotoServer

    for k, v in AWS.items():
        monkeypatch.setenv(k, v)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port())
    server.start()
    endpoint = f"http://127.0.0.1:{server._port}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=BUCKET)
    server.endpoint = endpoint
    yield server
    with contextlib.suppress(Exception):   # already stopped by the test
        server.stop()


async def test_s3_unreachable(aiohttp_client: Any, moto: Any, settings: Settings, flowscope_env: dict[str, str],
                              tmp_path: Path) -> None:
    datastore = f"s3://{BUCKET}/ds"
    env = dict(flowscope_env, FLOWSCOPE_DATASTORE=datastore, FLOWSCOPE_S3_ENDPOINT_URL=moto.endpoint, **AWS)
    run_id = run_flow(env, FIXTURE_FLOWS / "linear_flow.py", tmp_path)
    (tmp_path / "static").mkdir()
    app = create_app(settings.replace(cache_dir="off", static_dir=str(tmp_path / "static"),
                                      datastore_timeout=3.0).replace(
        datastore=datastore, s3_endpoint_url=moto.endpoint))
    client = await aiohttp_client(app)
    run = f"/api/flows/LinearFlow/runs/{run_id}"
    tasks = (await (await client.get(f"{run}/tasks")).json())
    items = tasks.get("data", tasks.get("items")) if isinstance(tasks, dict) else tasks
    by_step = {t["step_name"]: t for t in items}
    start = f"{run}/steps/start/tasks/{by_step['start']['task_id']}"
    end = f"{run}/steps/end/tasks/{by_step['end']['task_id']}"
    assert (await client.get(f"{start}/logs/stdout")).status == 200   # works while S3 is up

    moto.stop()
    for path in (f"{end}/logs/stdout", f"{end}/artifacts/result"):
        began = time.monotonic()
        resp = await client.get(path)
        took = time.monotonic() - began
        body = await resp.json()
        assert resp.status in (502, 504), (path, resp.status, body)
        assert body["error"]["status"] == resp.status and body["error"]["message"]
        assert took < 8, (path, took)
    for path in ("/api/runs", run, f"{run}/tasks", f"{run}/dag", f"{end}/artifacts", "/api/flows"):
        assert (await client.get(path)).status == 200, path


async def test_hanging_artifact_worker_times_out(aiohttp_client: Any, settings: Settings,
                                                 flowscope_env: dict[str, str], tmp_path: Path) -> None:
    run_id = run_flow(flowscope_env, FLOWS / "hang_flow.py", tmp_path)
    (tmp_path / "static").mkdir()
    app = create_app(settings.replace(cache_dir=str(tmp_path / "cache"),
                                      static_dir=str(tmp_path / "static"), artifact_timeout=2.0))
    client = await aiohttp_client(app)
    run = f"/api/flows/HangFlow/runs/{run_id}"
    tasks = (await (await client.get(f"{run}/tasks")).json())
    items = tasks.get("data", tasks.get("items")) if isinstance(tasks, dict) else tasks
    start = f"{run}/steps/start/tasks/{next(t for t in items if t['step_name'] == 'start')['task_id']}"
    began = time.monotonic()
    hanging = asyncio.create_task(client.get(f"{start}/artifacts/hang"))
    await asyncio.sleep(0.3)
    # The server keeps answering while the worker hangs.
    quick = time.monotonic()
    assert (await client.get("/api/runs")).status == 200
    assert time.monotonic() - quick < 1.5
    resp = await hanging
    body = await resp.json()
    assert resp.status == 504 and "2" in body["error"]["message"], body
    assert time.monotonic() - began < 10
    # The worker was replaced: a normal artifact renders right after.
    fine = await client.get(f"{start}/artifacts/fine")
    assert fine.status == 200
    assert "42" in await fine.text()
