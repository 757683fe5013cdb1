"""FLOWSCOPE_LIVE_DSN (the feed's own pool, e.g. on the primary) and FLOWSCOPE_LIVE_POLL_MS."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from backend.app import create_app
from backend.keys import HUB
from contract.settings import Settings
from tests.backend.live_helpers import new_run, new_store, next_event


async def test_live_dsn_and_polling(aiohttp_client: Any, settings: Settings, pg_dsn: str, pg_reader_dsn: str,
                                    tmp_path: Path) -> None:
    (tmp_path / "static").mkdir()
    app = create_app(settings.replace(cache_dir="off", static_dir=str(tmp_path / "static"))
                     .replace(live_dsn=pg_reader_dsn, live_poll_ms=200))
    client = await aiohttp_client(app)
    assert app[HUB].db is not None
    store = new_store(pg_dsn)
    run = new_run(store, "PollFlow")
    ws = await client.ws_connect("/api/ws")
    await ws.send_json({"type": "subscribe", "id": "t", "resource": f"/api/flows/PollFlow/runs/{run.run_id}/tasks"})
    await asyncio.sleep(0.3)
    task = store.create_task(run, "start")
    event = await next_event(ws, timeout=10)
    assert event["data"]["task_id"] == task.task_id
    flushes = app[HUB].flushes
    await asyncio.sleep(1.0)
    assert app[HUB].flushes >= flushes + 3   # the poller keeps re-checking without notifications
    shown = (await (await client.get("/api/-/settings")).json())["data"]
    assert shown["FLOWSCOPE_LIVE_POLL_MS"] == 200 and shown["FLOWSCOPE_LIVE_DSN"] == "***"   # secret
    await ws.close()
