"""Resolving path parameters to rows, with the 404 messages every handler shares."""

from __future__ import annotations

from aiohttp import web

from backend.db import runs as runs_db
from backend.db import tasks as tasks_db
from backend.db.liveness import live_params
from backend.db.query import Row
from backend.errors import ApiError, not_found
from backend.keys import DB, SETTINGS


class LiveRuns:
    """Runs last seen stored as running, by (flow, run id).

    With the response cache off, a handler that reads its run in the same statement as its answer
    must choose that statement before it knows the run's status: one that also builds what a
    running run needs (it costs more to plan), or the cheaper one. This is the guess; a wrong one
    costs one more statement, never a different answer.
    """

    def __init__(self, most: int = 4096) -> None:
        self.most = most
        self._keys: set[tuple[str, str]] = set()

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def saw(self, key: tuple[str, str], running: bool) -> None:
        if not running:
            self._keys.discard(key)
            return
        if len(self._keys) >= self.most:
            self._keys.clear()
        self._keys.add(key)


LIVE_RUNS = LiveRuns()


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
