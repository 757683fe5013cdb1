"""Finding the run and task a request's path names (ids always come from the URL)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from backend.ingest.db import objects as db
from backend.ingest.db.pool import Cursor


async def run_of(cur: Cursor, request: web.Request) -> dict[str, Any] | None:
    m = request.match_info
    return await db.get_run(cur, m["flow"], m["run"])


async def task_of(cur: Cursor, request: web.Request,
                  task_id: str | None = None) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The run and task of the request's path (or of ``task_id`` in the path's step)."""
    run = await run_of(cur, request)
    if run is None:
        return None
    m = request.match_info
    task = await db.get_task(cur, run["run_pk"], m["step"], task_id or m["task"])
    if task is None:
        return None
    return run, task
