"""Live log lines of a Metaflow-recorded task reach websocket subscribers.

A remote Metaflow task (``@kubernetes``, Argo) uploads its growing log files to the datastore
with Metaflow's own ``python -m metaflow.mflog.save_logs`` every few seconds. Here a real local
Metaflow run keeps a step running while the test runs that same module with the environment a
remote task gives it, so the datastore changes exactly as it does under Kubernetes.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from mf_harness import FLOWS, Ingest, get_json, metaflow_env

from backend.app import create_app
from contract.settings import Settings
from tests.backend.live_helpers import drain, next_event

pytestmark = pytest.mark.compat


@pytest.fixture()
async def fast_api(aiohttp_client: Any, settings: Settings, tmp_path: Path) -> AsyncIterator[TestClient[Any, Any]]:
    s = settings.replace(cache_dir=str(tmp_path / "cache"), static_dir=str(tmp_path), metaflow_log_poll_ms=200)
    yield await aiohttp_client(create_app(s))


def mflog_lines(*texts: str, age_s: float = 0.0) -> bytes:
    """Lines as Metaflow's mflog tee writes them in a remote task (its own format function),
    stamped ``age_s`` seconds ago."""
    from metaflow.mflog.mflog import decorate  # the real pip metaflow
    now = datetime.now(UTC).replace(tzinfo=None) - timedelta(seconds=age_s)
    return b"".join(decorate("task", f"{t}\n", now=now) for t in texts)


def upload(pathspec: str, ds_root: Path, out: Path, err: Path) -> None:
    """One pass of Metaflow's log uploader, with the variables a remote task sets for it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("METAFLOW_", "MF_"))}
    env.update(MF_PATHSPEC=pathspec, MF_ATTEMPT="0", MF_DATASTORE="local", MF_DATASTORE_ROOT=str(ds_root),
               MFLOG_STDOUT=str(out), MFLOG_STDERR=str(err))
    done = subprocess.run([sys.executable, "-m", "metaflow.mflog.save_logs"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert "upload_success" in done.stdout, done.stdout + done.stderr


async def wait_for(what: str, probe: Any, timeout: float = 90.0) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        value = await probe()
        if value:
            return value
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


async def poller_watches_in(api: TestClient[Any, Any]) -> bool:
    stats = (await get_json(api, "/api/-/status"))["data"]["metaflow_log_poller"]
    return bool(stats["logs"] >= 1 and stats["reads"] >= 1)


async def lines_of(ws: Any, sub: str, want: int, timeout: float = 30.0) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    while len(got) < want:
        got.append(await next_event(ws, timeout=timeout, match=lambda m: m.get("id") == sub))
    return got


async def test_uploaded_log_lines_are_pushed_once(fast_api: TestClient[Any, Any], ingest: Ingest,
                                                 tmp_path: Path) -> None:
    release = tmp_path / "release"
    env = metaflow_env(ingest, tmp_path, {"REMOTE_LOG_RELEASE": str(release)})
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(FLOWS / "remote_log_flow.py"), "--no-pylint", "run", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    ws = await fast_api.ws_connect("/api/ws")
    try:
        async def start_task() -> Any:
            runs = (await get_json(fast_api, "/api/flows/RemoteLogFlow/runs"))["data"]
            running = [r for r in runs if r["status"] == "running"]
            if not running:
                return None
            tasks = (await get_json(fast_api, f"/api/flows/RemoteLogFlow/runs/{running[0]['run_id']}"
                                              "/steps/start/tasks"))["data"]
            return (running[0]["run_id"], tasks[0]["task_id"]) if tasks else None

        async def poller_watches() -> bool:
            return await poller_watches_in(fast_api)

        run_id, task_id = await wait_for("the running start task", start_task)
        path = f"/api/flows/RemoteLogFlow/runs/{run_id}/steps/start/tasks/{task_id}"
        page = await get_json(fast_api, f"{path}/logs/stdout?tail=100")
        assert page["data"] == [] and page["complete"] is False
        await ws.send_json({"type": "subscribe", "id": "out", "resource": f"{path}/logs/stdout?attempt=0"})
        assert (await ws.receive_json(timeout=30))["type"] == "subscribed"
        # The poller has looked at the (still empty) log once with this viewer watching.
        await wait_for("a poll of the watched log", poller_watches)

        out, err = tmp_path / "stdout.mflog", tmp_path / "stderr.mflog"
        # Line 1 is an hour old (as if the viewer had loaded it); a viewer that was already
        # watching an empty log still gets it.
        out.write_bytes(mflog_lines("remote line 1", age_s=3600) + mflog_lines("remote line 2"))
        err.write_bytes(b"")
        pathspec, ds_root = f"RemoteLogFlow/{run_id}/start/{task_id}", tmp_path / ".metaflow"
        await asyncio.to_thread(upload, pathspec, ds_root, out, err)
        first = await lines_of(ws, "out", 2)
        assert [(m["type"], m["data"]["line"], m["data"]["text"]) for m in first] == [
            ("insert", 1, "remote line 1"), ("insert", 2, "remote line 2")]
        assert all(isinstance(m["data"]["ts"], int) for m in first)

        # The next upload holds the whole file again: only the new line is pushed.
        with out.open("ab") as f:
            f.write(mflog_lines("remote line 3"))
        await asyncio.to_thread(upload, pathspec, ds_root, out, err)
        third = await lines_of(ws, "out", 1)
        assert (third[0]["data"]["line"], third[0]["data"]["text"]) == (3, "remote line 3")

        # Unchanged files are listed, not read again, and nothing is sent twice.
        status = (await get_json(fast_api, "/api/-/status"))["data"]["metaflow_log_poller"]
        await asyncio.sleep(1.0)   # five passes at 200 ms
        later = (await get_json(fast_api, "/api/-/status"))["data"]["metaflow_log_poller"]
        assert later["polls"] >= status["polls"] + 3 and later["reads"] == status["reads"]
        assert [m for m in await drain(ws, quiet=0.6) if m.get("id") == "out"] == []

        # A viewer that subscribes now loaded the log over REST first: it gets at most the lines
        # stamped in the seconds before it subscribed (2 and 3 if the machine was quick), never line 1.
        await ws.send_json({"type": "subscribe", "id": "late", "resource": f"{path}/logs/stdout?attempt=0"})
        late = [m["data"]["line"] for m in await drain(ws, quiet=1.5) if m.get("id") == "late"]
        assert late in ([], [3], [2, 3]), late

        release.touch()
        assert await asyncio.wait_for(proc.wait(), 120) == 0
        # The local runtime saves its own log at the end: it is merged in and pushed as well.
        end = await next_event(ws, timeout=60, match=lambda m: m.get("id") == "out"
                               and "local line at the end" in m["data"]["text"])
        assert end["type"] == "insert"
        final = await get_json(fast_api, f"{path}/logs/stdout")
        texts = [ln["text"] for ln in final["data"]]
        assert "remote line 3" in texts and "local line at the end" in texts
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await ws.close()
