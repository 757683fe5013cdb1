"""``flowscope watch PATHSPEC``: follow a run or a task's logs in the terminal over /api/ws."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime
from typing import Any
from urllib.parse import quote

from backend.summary_cli import backend_base
from contract.settings import Settings


def subscriptions(pathspec: str) -> list[dict[str, Any]]:
    parts = [quote(p, safe="") for p in pathspec.strip("/").split("/")]
    if len(parts) == 1 and parts[0]:
        return [{"type": "subscribe", "id": "runs", "resource": f"/api/flows/{parts[0]}/runs"}]
    if len(parts) == 2:
        flow, run = parts
        return [{"type": "subscribe", "id": "run", "resource": f"/api/flows/{flow}/runs/{run}", "since": 0},
                {"type": "subscribe", "id": "tasks", "resource": f"/api/flows/{flow}/runs/{run}/tasks",
                 "since": 0}]
    if len(parts) == 4:
        flow, run, step, task = parts
        base = f"/api/flows/{flow}/runs/{run}/steps/{step}/tasks/{task}"
        return [{"type": "subscribe", "id": "task", "resource": base, "since": 0},
                {"type": "subscribe", "id": "stdout", "resource": base + "/logs/stdout", "since": 0},
                {"type": "subscribe", "id": "stderr", "resource": base + "/logs/stderr", "since": 0}]
    raise ValueError(f"{pathspec!r} is not Flow, Flow/Run or Flow/Run/Step/Task")


def _time(ms: int | None) -> str:
    return datetime.fromtimestamp(ms / 1000).strftime("%H:%M:%S") if ms else "--:--:--"


def format_event(msg: dict[str, Any]) -> str | None:
    kind, data = msg.get("type"), msg.get("data") or {}
    if kind == "error":
        return f"error: {msg.get('message')}"
    if kind not in ("insert", "update"):
        return None
    sid = msg.get("id")
    if sid in ("stdout", "stderr"):
        return f"{_time(data.get('ts'))} {sid} {data.get('line'):>6} | {data.get('text')}"
    if sid in ("run", "runs"):
        counts = data.get("task_counts") or {}
        reason = f" — {data['status_reason']}" if data.get("status_reason") else ""
        return (f"run {data.get('pathspec')}: {data.get('status')}{reason} "
                f"[{counts.get('completed', 0)}/{counts.get('total', 0)} tasks done, "
                f"{counts.get('failed', 0)} failed]")
    attempt = f" attempt {data.get('attempt')}" if data.get("attempt") else ""
    reason = f" — {data['status_reason']}" if data.get("status_reason") else ""
    return f"{_time(data.get('finished_at') or data.get('started_at') or data.get('created_at'))} task " \
           f"{data.get('pathspec')}{attempt}: {data.get('status')}{reason}"


async def _follow(url: str, subs: list[dict[str, Any]], token: str | None = None) -> None:
    import websockets

    headers = {"Authorization": f"Bearer {token}"} if token else None
    async with websockets.connect(url, max_size=2**22, additional_headers=headers) as ws:
        for sub in subs:
            await ws.send(json.dumps(sub))
        async for raw in ws:
            line = format_event(json.loads(raw))
            if line is not None:
                print(line, flush=True)
        print(f"connection closed by the server ({ws.close_code} {ws.close_reason})", file=sys.stderr)


def watch(settings: Settings, pathspec: str, url: str | None) -> int:
    try:
        subs = subscriptions(pathspec)
        base = backend_base(url, settings)
    except ValueError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    ws_url = base.replace("https://", "wss://").replace("http://", "ws://") + "/api/ws"
    from websockets.exceptions import InvalidHandshake, InvalidStatus

    try:
        asyncio.run(_follow(ws_url, subs, settings.auth_token))
    except InvalidStatus as exc:
        code = exc.response.status_code
        hint = (" (set FLOWSCOPE_AUTH_TOKEN to the backend's token)" if code == 401 and not settings.auth_token
                else "")
        sys.stderr.write(f"error: the Flowscope backend at {ws_url} refused the connection: HTTP {code}{hint}\n")
        return 1
    except InvalidHandshake as exc:
        sys.stderr.write(f"error: no websocket at {ws_url}: {exc}\n")
        return 1
    except OSError as exc:
        sys.stderr.write(f"error: cannot connect to the Flowscope backend at {ws_url}: {exc}\n")
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
