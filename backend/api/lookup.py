"""Resolving path parameters to rows, with the 404 messages every handler shares."""

from __future__ import annotations

from aiohttp import web

from backend.db import runs as runs_db
from backend.db import tasks as tasks_db
from backend.db.liveness import live_params
from backend.db.query import Row
from backend.errors import ApiError, not_found
from backend.keys import DB, SETTINGS


def live(request: web.Request) -> dict[str, int]:
    return live_params(request.app[SETTINGS])


async def run_row(request: web.Request, with_json: bool = False) -> Row:
    flow, run = request.match_info["flow"], request.match_info["run"]
    row = await runs_db.get_run(request.app[DB], live(request), flow, run, with_json)
    if row is None:
        raise run_not_found(request)
    return row


async def run_ref(request: web.Request) -> Row:
    """The run's RUN_REF columns (backend/db/runs.py: what its DAG, steps and tasks need of it)."""
    flow, run = request.match_info["flow"], request.match_info["run"]
    row = await runs_db.get_run_ref(request.app[DB], live(request), flow, run)
    if row is None:
        raise run_not_found(request)
    return row


def run_not_found(request: web.Request) -> ApiError:
    return not_found(f"run {request.match_info['flow']}/{request.match_info['run']} not found")


async def task_row(request: web.Request) -> tuple[Row, Row]:
    run = await run_row(request)
    step, task = request.match_info["step"], request.match_info["task"]
    row = await tasks_db.get_task(request.app[DB], live(request), run["run_pk"], step, task)
    if row is None:
        raise not_found(f"task {run['flow_id']}/{run['run_id']}/{step}/{task} not found")
    return run, row
