"""A runtime SIGKILLed mid-run: no goodbye is written, yet the run is reported failed, with a
reason, once its heartbeat is older than FLOWSCOPE_HEARTBEAT_TIMEOUT."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg2

from backend.app import create_app
from contract.settings import Settings

FLOWS = Path(__file__).resolve().parent / "flows"
TIMEOUT_S = 3.0


def _running_run(dsn: str) -> str | None:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT r.run_id FROM runs r JOIN tasks t USING (run_pk) WHERE r.flow_id = 'SleepFlow' "
                    "AND t.status = 'running' ORDER BY r.created_at DESC LIMIT 1")
        row = cur.fetchone()
        return None if row is None else str(row[0])


async def test_sigkilled_runtime_is_reported_failed(aiohttp_client: Any, settings: Settings, pg_dsn: str,
                                                    flowscope_env: dict[str, str], tmp_path: Path) -> None:
    env = dict(flowscope_env, FLOWSCOPE_HEARTBEAT_INTERVAL="0.5")
    # Started once (ASYNC220: no event-loop work is waiting on it); the test then only polls.
    proc = subprocess.Popen([sys.executable, str(FLOWS / "sleep_flow.py"), "run"],  # noqa: ASYNC220
                            env=env, cwd=str(tmp_path), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        run_id = None
        while run_id is None:
            assert time.monotonic() < deadline and proc.poll() is None, "the flow never got running"
            await asyncio.sleep(0.3)
            run_id = _running_run(pg_dsn)
        (tmp_path / "static").mkdir()
        app = create_app(settings.replace(cache_dir="off", static_dir=str(tmp_path / "static"))
                         .replace(heartbeat_timeout=TIMEOUT_S))
        client = await aiohttp_client(app)
        path = f"/api/flows/SleepFlow/runs/{run_id}"
        assert (await (await client.get(path)).json())["data"]["status"] == "running"
        os.killpg(proc.pid, signal.SIGKILL)   # the runtime and its task process, no cleanup at all
        proc.wait(10)
        killed_at = time.monotonic()
        while True:
            run = (await (await client.get(path)).json())["data"]
            if run["status"] == "failed":
                break
            assert time.monotonic() - killed_at < TIMEOUT_S + 5, run
            await asyncio.sleep(0.25)
        took = time.monotonic() - killed_at
        assert took <= TIMEOUT_S + 2, took
        assert "heartbeat" in (run["status_reason"] or ""), run
        tasks = await (await client.get(f"{path}/tasks")).json()
        items = tasks.get("data", tasks.get("items")) if isinstance(tasks, dict) else tasks
        start = next(t for t in items if t["step_name"] == "start")
        assert start["status"] == "failed", start
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
