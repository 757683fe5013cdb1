"""/api/runs, /api/flows/{flow}/runs and /api/flows/{flow}/runs/{run}."""

from __future__ import annotations

import orjson
from aiohttp import web
from multidict import MultiMapping

from backend.api import respond
from backend.api.lookup import LIVE_RUNS, live
from backend.cache.responses import cached_for_run
from backend.cache.run_rows import sharing_run_rows
from backend.cache.versions import RUN_VERSIONS, versions_of
from backend.db import runs as runs_db
from backend.errors import bad_request, not_found
from backend.keys import DB
from backend.params import decode_cursor, encode_cursor, get_choice, get_int, get_limit
from backend.resources.runs import parse_filters
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


async def get_run(request: web.Request) -> web.Response:
    flow, run = request.match_info["flow"], request.match_info["run"]
    with_source = request.query.get("source") in ("1", "true")
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
    Route("/api/flows/{flow}/runs/{run}", get_run, "One run.",
          (Param("source", "true: include the flow file's source text as source_code."),), "object", "runs",
          operation="getRun", item="RunDetail", feed="run"),
]
