"""Tasks of a run (with their attempts), one task, and its attempts."""

from __future__ import annotations

from aiohttp import web

from backend.api import respond
from backend.api.lookup import LIVE_RUNS, live, run_not_found, run_ref, task_row
from backend.cache.responses import cached_for_run
from backend.cache.run_rows import shared_run_row, sharing_run_rows
from backend.cache.versions import TASK_VERSIONS, versions_of
from backend.db import tasks as tasks_db
from backend.db.query import Row
from backend.errors import ApiError
from backend.keys import DB
from backend.params import decode_cursor, encode_cursor, get_limit, get_list
from backend.resources.tasks import attempt_shape, task_shape
from backend.routes import PAGE, Param, Route


def _finished(run: Row) -> bool:
    return run["status"] != "running" and not run["stale"]


def _page_params(request: web.Request) -> tuple[list[str], list[str], int, int | None]:
    """Steps, statuses, limit and the cursor's task_pk of a task page."""
    q = request.query
    steps = get_list(q, "step")
    if "step" in request.match_info:
        steps = [request.match_info["step"]]
    statuses = get_list(q, "status", tasks_db.TASK_STATUSES)
    limit = get_limit(q)
    cursor = decode_cursor(q, "tasks", 1)
    return steps, statuses, limit, int(cursor[0]) if cursor else None


async def list_tasks(request: web.Request) -> web.Response:
    versions = versions_of(request.app, TASK_VERSIONS)
    if versions is not None and not sharing_run_rows(request):
        # Response cache off: the run and the page in one statement (one round trip, not two).
        try:
            steps, statuses, limit, after = _page_params(request)
        except ApiError:
            await run_ref(request)   # no such run: its 404 comes first, as when the run was read first
            raise
        key = (request.match_info["flow"], request.match_info["run"])
        found = await tasks_db.run_and_task_page(request.app[DB], live(request), *key, steps, statuses, after,
                                                 limit, versions, run_live=key in LIVE_RUNS)
        if found is None:
            raise run_not_found(request)
        run, rows, more = found
        finished = _finished(run)
        LIVE_RUNS.saw(key, not finished)
    else:
        # Response cache on (the run page's requests share one lookup), or task JSON not held.
        run = await shared_run_row(request) if sharing_run_rows(request) else await run_ref(request)
        if (hit := cached_for_run(request, run)) is not None:
            return hit
        steps, statuses, limit, after = _page_params(request)
        finished = _finished(run)
        rows, more = await tasks_db.list_task_page(
            request.app[DB], live(request), run["run_pk"], steps, statuses, after, limit,
            versions=versions, run_live=not finished)
    return respond.encoded(request, page_body(rows, more), immutable=finished)


def page_body(rows: list[tuple[int, str]], more: bool) -> bytes:
    """A task page's body from list_task_page's rows: each task's JSON as Postgres built it
    (backend/db/task_json.py), passed through; the cursor of the next page when ``more``."""
    nxt = encode_cursor("tasks", [rows[-1][0]]) if more and rows else None
    return respond.json_page_body([text for _, text in rows], nxt)


async def get_task(request: web.Request) -> web.Response:
    run, row = await task_row(request)
    if (hit := cached_for_run(request, run)) is not None:
        return hit
    attempts = await tasks_db.attempts_of(request.app[DB], live(request), [row["task_pk"]])
    return respond.one(request, task_shape(row, attempts[row["task_pk"]]))


async def list_attempts(request: web.Request) -> web.Response:
    run, row = await task_row(request)
    if (hit := cached_for_run(request, run)) is not None:
        return hit
    attempts = await tasks_db.attempts_of(request.app[DB], live(request), [row["task_pk"]])
    return respond.page(request, [attempt_shape(a) for a in attempts[row["task_pk"]]], None)


TASK_FILTERS = (
    Param("step", "Only tasks of these steps.", repeated=True),
    Param("status", "Effective status: pending, running, completed, failed (any of).", repeated=True,
          enum=tasks_db.TASK_STATUSES),
    *PAGE,
)
T = "/api/flows/{flow}/runs/{run}/steps/{step}/tasks/{task}"
ROUTES = [
    Route("/api/flows/{flow}/runs/{run}/tasks", list_tasks,
          "Every task of the run with its attempts, by task id (keyset).", TASK_FILTERS, "list", "tasks",
          operation="listTasks", item="Task", feed="tasks"),
    Route("/api/flows/{flow}/runs/{run}/steps/{step}/tasks", list_tasks, "Tasks of one step.",
          TASK_FILTERS[1:], "list", "tasks", operation="listStepTasks", item="Task", feed="tasks"),
    Route(T, get_task, "One task with its attempts.", (), "object", "tasks", operation="getTask", item="Task",
          feed="tasks"),
    Route(T + "/attempts", list_attempts, "Attempts of a task.", (), "list", "tasks",
          operation="listAttempts", item="Attempt"),
]
