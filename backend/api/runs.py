"""/api/runs, /api/flows/{flow}/runs and /api/flows/{flow}/runs/{run}."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web
from multidict import MultiDict, MultiMapping

from backend.api import respond
from backend.api.lookup import LIVE_RUNS, live
from backend.api.steps import steps_answer
from backend.api.tasks import page_body
from backend.cache.responses import cached_for_run
from backend.cache.run_rows import sharing_run_rows
from backend.cache.versions import RUN_VERSIONS, TASK_VERSIONS, versions_of
from backend.db import runs as runs_db
from backend.db import steps as steps_db
from backend.db import tasks as tasks_db
from backend.db.query import Row
from backend.errors import bad_request, not_found
from backend.keys import DB
from backend.params import decode_cursor, encode_cursor, get_choice, get_int, get_limit, get_list
from backend.resources.runs import parse_filters
from backend.resources.schema import Schema, arr, ref
from backend.routes import PAGE, Param, Route


def parse_order(q: MultiMapping[str]) -> runs_db.Order:
    """``order=created`` (newest first), ``order=duration:asc``, ``order=-finished`` or ``dir=asc``."""
    raw = q.get("order") or "created"
    direction = get_choice(q, "dir", ("asc", "desc"))
    name = raw
    if raw.startswith("-"):
        name, direction = raw[1:], direction or "desc"
    elif ":" in raw:
        name, _, direction = raw.partition(":")
    if name not in runs_db.ORDER_COLUMNS or direction not in (None, "asc", "desc"):
        raise bad_request(f"parameter 'order' must be created, finished or duration, optionally with "
                          f":asc or :desc; got {raw!r}")
    return runs_db.make_order(name, (direction or "desc") == "desc")


async def list_runs(request: web.Request) -> web.Response:
    q = request.query
    flow = request.match_info.get("flow")
    filters = parse_filters(q, flow)
    order = parse_order(q)
    group_by = get_choice(q, "group_by", ("flow", "user"))
    if group_by:
        return await _list_groups(request, filters, order, group_by)
    limit = get_limit(q)
    cursor = decode_cursor(q, order.cursor_kind, 2)
    rows, texts, more = await runs_db.list_runs(request.app[DB], live(request), filters, order, cursor, limit,
                                                versions=versions_of(request.app, RUN_VERSIONS))
    nxt = encode_cursor(order.cursor_kind, runs_db.sort_key(order, rows[-1])) if more and rows else None
    # Each run's JSON as Postgres built it (backend/db/run_json.py), passed through.
    return respond.json_page(request, texts, nxt)


async def _list_groups(request: web.Request, filters: runs_db.RunFilters, order: runs_db.Order,
                       group_by: str) -> web.Response:
    q = request.query
    limit = get_limit(q, default=20, maximum=200)
    group_limit = get_int(q, "group_limit", 5, minimum=1, maximum=100)
    assert group_limit is not None
    cursor = decode_cursor(q, f"groups:{group_by}", 1)
    groups, last = await runs_db.list_run_groups(request.app[DB], live(request), filters, order, group_by,
                                                 cursor[0] if cursor else "", limit, group_limit,
                                                 versions=versions_of(request.app, RUN_VERSIONS))
    data = []
    for key, rows, texts, more in groups:
        nxt = encode_cursor(order.cursor_kind, runs_db.sort_key(order, rows[-1])) if more and rows else None
        data.append({"group": key, "group_by": group_by, "runs": [orjson.Fragment(t) for t in texts],
                     "next": nxt})
    return respond.page(request, data, encode_cursor(f"groups:{group_by}", [last]) if last else None)


# What a run's answer can include (?include=dag,steps,tasks): the run page's first paint in one
# request. Each member is byte for byte the body of the run's sub-resource of that name (/tasks:
# its first page, default limit, no filters), read in the same request.
INCLUDES = ("dag", "steps", "tasks")


async def get_run(request: web.Request) -> web.Response:
    flow, run = request.match_info["flow"], request.match_info["run"]
    with_source = request.query.get("source") in ("1", "true")
    include = get_list(request.query, "include", INCLUDES)
    if include:
        return await _run_with_included(request, flow, run, with_source, set(include))
    versions = versions_of(request.app, RUN_VERSIONS)
    if versions is not None and not with_source and not sharing_run_rows(request) and (flow, run) not in LIVE_RUNS:
        # Response cache off: the answer held by the run's version (one small statement), else built.
        found = await runs_db.get_run_detail(request.app[DB], live(request), flow, run, versions)
        if found is None:
            raise not_found(f"run {flow}/{run} not found")
        detail, running = found
        LIVE_RUNS.saw((flow, run), running)
        return respond.one(request, orjson.Fragment(detail), immutable=False)
    # One query: the run and its file name (and the source text only when asked for).
    row = await runs_db.get_run_with_source(request.app[DB], live(request), flow, run, with_source)
    if row is None:
        raise not_found(f"run {flow}/{run} not found")
    LIVE_RUNS.saw((flow, run), row["status"] == "running" or bool(row["stale"]))
    if (hit := cached_for_run(request, row)) is not None:
        return hit
    return respond.one(request, orjson.Fragment(row["detail_json"]), immutable=False)


async def _run_with_included(request: web.Request, flow: str, run: str, with_source: bool,
                             include: set[str]) -> web.Response:
    """The run's answer plus ``included``: {name: the body of …/runs/{run}/{name}}, in as few
    statements as the sub-resources' own readers allow: with the response cache off, the run and
    its steps' rows in one (the DAG and the steps answers are both made from it, a settled run's
    held by version), the run's answer held by the version that statement read, the task page in
    one more (with the run when the steps are not asked for). With the response cache on, the run
    (and its file name) in one statement and the answer cached like the run's own (the settled
    run's key or the generation). No ETag/304 of the parts: the whole answer has the ETag of its
    body (Cache-Control no-cache), so it changes whenever any part does."""
    db, lv = request.app[DB], live(request)
    key = (flow, run)
    limit = get_limit(MultiDict())           # the task page as /tasks gives it without parameters
    versions = versions_of(request.app, RUN_VERSIONS)
    task_versions = versions_of(request.app, TASK_VERSIONS)
    detail: str | None = None
    steps_rows: dict[str, Row] | None = None
    tasks_page: tuple[list[tuple[int, str]], bool] | None = None
    if versions is not None and task_versions is not None and not with_source and not sharing_run_rows(request):
        # Response cache off: the run read with the rows of the first part asked for.
        ref_row: Row
        if include & {"dag", "steps"}:
            found = await steps_db.run_and_steps(db, lv, flow, run)
            if found is None:
                raise not_found(f"run {flow}/{run} not found")
            ref_row, steps_rows = found
        else:
            paged = await tasks_db.run_and_task_page(db, lv, flow, run, [], [], None, limit, task_versions,
                                                     run_live=key in LIVE_RUNS)
            if paged is None:
                raise not_found(f"run {flow}/{run} not found")
            ref_row, rows, more = paged
            tasks_page = (rows, more)
        # Stored as running: running, or running with its heartbeat lost (then its effective status
        # is failed and ``stale`` is set): the answer depends on the clock and is never held.
        stored_running = ref_row["status"] == "running" or bool(ref_row["stale"])
        got = await runs_db.run_detail_of(db, lv, ref_row["run_pk"], ref_row["change_seq"], stored_running, versions)
        if got is None:
            raise not_found(f"run {flow}/{run} not found")
        detail = got[0]
        run_row: Row = ref_row
    else:
        full = await runs_db.get_run_with_source(db, lv, flow, run, with_source)
        if full is None:
            raise not_found(f"run {flow}/{run} not found")
        stored_running = full["status"] == "running" or bool(full["stale"])
        if (hit := cached_for_run(request, full)) is not None:
            return hit
        detail = full["detail_json"]
        run_row = full
        if include & {"dag", "steps"}:
            steps_rows = await steps_db.steps_of_run(db, full["run_pk"])
    LIVE_RUNS.saw(key, stored_running)
    finished = not stored_running
    included: dict[str, Any] = {}
    for name in INCLUDES:
        if name not in include:
            continue
        if name == "tasks":
            if tasks_page is None:
                tasks_page = await tasks_db.list_task_page(db, lv, run_row["run_pk"], [], [], None, limit,
                                                           versions=task_versions, run_live=not finished)
            included[name] = orjson.Fragment(page_body(*tasks_page))
        else:
            body, _, _ = await steps_answer(request, name, run_row, steps_rows)
            included[name] = orjson.Fragment(body)
    return respond.revalidated(request, respond.encode({"data": orjson.Fragment(detail), "included": included}))


# The `included` member of a run's answer with include (its members only those asked for).
INCLUDED: dict[str, Schema] = {"included": {
    "type": "object", "additionalProperties": False,
    "description": "With include: each named sub-resource's answer, as its own route gives it.",
    "properties": {
        "dag": {"type": "object", "required": ["data"], "additionalProperties": False,
                "properties": {"data": ref("Dag")}},
        "steps": {"type": "object", "required": ["data", "next"], "additionalProperties": False,
                  "properties": {"data": arr(ref("Step")), "next": {"type": ["string", "null"]}}},
        "tasks": {"type": "object", "required": ["data", "next"], "additionalProperties": False,
                  "properties": {"data": arr(ref("Task")), "next": {"type": ["string", "null"]}}},
    }}}

RUN_FILTERS = (
    Param("status", "Effective status: running, completed, failed (several: any of).", repeated=True,
          enum=runs_db.RUN_STATUSES),
    Param("flow", "Flow name (several: any of).", repeated=True),
    Param("user", "User name (several: any of).", repeated=True),
    Param("tag", "Runs carrying all of these tags.", repeated=True),
    Param("any_tag", "Runs carrying any of these tags.", repeated=True),
    Param("system_tag", "Runs carrying all of these system tags.", repeated=True),
    Param("created_after", "Created at or after (epoch ms).", "integer"),
    Param("created_before", "Created before (epoch ms).", "integer"),
    Param("q", "Text contained in the flow name, run id, user or tags."),
    Param("order", "created | finished | duration, optionally :asc or :desc (default created:desc)."),
    Param("dir", "asc | desc (alternative to the order suffix).", enum=("asc", "desc")),
    Param("group_by", "flow | user: a page of groups, each with its first runs.", enum=("flow", "user")),
    Param("group_limit", "Runs per group with group_by (1-100, default 5).", "integer"),
    *PAGE,
)

ROUTES = [
    Route("/api/runs", list_runs, "Runs of all flows, filtered, ordered, keyset-paged (with group_by: a "
          "page of RunGroup).", RUN_FILTERS, "list", "runs", operation="listRuns", item="RunListEntry", feed="runs"),
    Route("/api/flows/{flow}/runs", list_runs, "Runs of one flow (same filters as /api/runs).",
          RUN_FILTERS, "list", "runs", operation="listFlowRuns", item="RunListEntry", feed="runs"),
    Route("/api/flows/{flow}/runs/{run}", get_run, "One run (with include: plus its page's DAG, steps and "
          "tasks, as their own routes answer them, in `included`).",
          (Param("source", "true: include the flow file's source text as source_code."),
           Param("include", "dag, steps, tasks (any of): `included` then holds each one's answer, byte for "
                 "byte the body of …/runs/{run}/{name} (tasks: its first page, default limit, no filters).",
                 repeated=True, enum=INCLUDES)),
          "object", "runs", operation="getRun", item="RunDetail", feed="run", optional=INCLUDED),
]
