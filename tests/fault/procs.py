"""Real processes for fault tests: a backend server, a private Postgres, a reconnecting client."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp

from tests.server_procs import free_port, start_server, stop_server

REPO = Path(__file__).resolve().parents[2]


class Backend:
    """``flowscope serve`` as a subprocess on a fixed port (so it can be restarted in place)."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.env = dict(env, FLOWSCOPE_PORT=str(self.port), FLOWSCOPE_CACHE_DIR="off", FLOWSCOPE_WS_BATCH_MS="50")
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = start_server([sys.executable, "-m", "backend.cli", "serve", "--no-ingest"], self.env,
                                 self.log, f"{self.url}/api/-/version", timeout=40)

    def stop(self) -> None:
        stop_server(self.proc, timeout=15)
        self.proc = None

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(f"{self.url}{path}", timeout=10) as resp:
            return json.loads(resp.read())


class FeedClient:
    """A websocket client like the frontend's: keeps the largest seq per subscription and
    resubscribes with ``since`` after every reconnect. ``state`` is what it would show."""

    def __init__(self, url: str, resource: str) -> None:
        self.url, self.resource = url, resource
        self.state: dict[str, dict[str, Any]] = {}
        self.since: int | None = None
        self.reconnects = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def _run(self) -> None:
        async with aiohttp.ClientSession() as session:
            while True:
                try:
                    async with session.ws_connect(f"{self.url}/api/ws", heartbeat=5) as ws:
                        msg: dict[str, Any] = {"type": "subscribe", "id": "s", "resource": self.resource}
                        if self.since is not None:
                            msg["since"] = self.since
                        await ws.send_json(msg)
                        async for raw in ws:
                            self._handle(json.loads(raw.data))
                except (TimeoutError, aiohttp.ClientError, OSError):
                    pass
                self.reconnects += 1
                await asyncio.sleep(0.3)

    def _handle(self, event: dict[str, Any]) -> None:
        if event["type"] == "subscribed" and self.since is None:
            self.since = event["seq"]
        if event["type"] in ("insert", "update"):
            data = event["data"]
            self.state[f"{data['step_name']}/{data['task_id']}"] = data
            self.since = max(self.since or 0, event["seq"])


async def wait_until(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)
