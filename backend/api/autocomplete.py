"""/api/autocomplete/{flows|runs|steps|tags|users}?q=."""

from __future__ import annotations

from aiohttp import web

from backend.api import respond
from backend.db import autocomplete as autocomplete_db
from backend.errors import bad_request, not_found
from backend.keys import DB
from backend.params import get_int
from backend.routes import Param, Route


async def autocomplete(request: web.Request) -> web.Response:
    kind = request.match_info["kind"]
    if kind not in autocomplete_db.QUERIES:
        raise not_found(f"no autocomplete for {kind!r}: use one of {', '.join(autocomplete_db.QUERIES)}")
    q = request.query
    limit = get_int(q, "limit", 20, minimum=1, maximum=100) or 20
    if kind == "tasks" and not (q.get("flow") and q.get("run")):
        raise bad_request("autocomplete for tasks needs 'flow' and 'run' (and optionally 'step')")
    values = await autocomplete_db.complete(request.app[DB], kind, q.get("q", ""), limit,
                                            q.get("flow") or None, q.get("run") or None,
                                            q.get("step") or None)
    return respond.page(request, values, None)


ROUTES = [
    Route("/api/autocomplete/{kind}", autocomplete,
          "Suggestions for flows, runs (flow/run), steps, tags, users or task ids starting with q.",
          (Param("q", "The text typed so far."), Param("flow", "Restrict runs, steps and tags to a flow."),
           Param("run", "Restrict steps to a run (with flow); tasks need flow and run."),
           Param("step", "Restrict tasks to a step."),
           Param("limit", "Most suggestions (1-100, default 20).", "integer")), "list", "autocomplete",
          operation="autocomplete", item="Suggestion"),
]
