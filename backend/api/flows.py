"""/api/flows and /api/flows/{flow}."""

from __future__ import annotations

from aiohttp import web

from backend.api import respond
from backend.api.lookup import live
from backend.db import flows as flows_db
from backend.errors import not_found
from backend.keys import DB
from backend.params import decode_cursor, encode_cursor, get_limit
from backend.resources.flows import flow_shape
from backend.routes import PAGE, Param, Route


async def list_flows(request: web.Request) -> web.Response:
    q = request.query
    limit = get_limit(q)
    cursor = decode_cursor(q, "flows", 1)
    rows, more = await flows_db.list_flows(request.app[DB], live(request), q.get("q") or None,
                                           cursor[0] if cursor else None, limit)
    nxt = encode_cursor("flows", [rows[-1]["flow_id"]]) if more and rows else None
    return respond.page(request, [flow_shape(r) for r in rows], nxt)


async def get_flow(request: web.Request) -> web.Response:
    flow = request.match_info["flow"]
    row = await flows_db.get_flow(request.app[DB], live(request), flow)
    if row is None:
        raise not_found(f"flow {flow} not found")
    return respond.one(request, flow_shape(row))


ROUTES = [
    Route("/api/flows", list_flows, "Flows by name, each with its latest run.",
          (*PAGE, Param("q", "Only flows whose name contains this text.")), "list", "flows",
          operation="listFlows", item="Flow", feed="flows"),
    Route("/api/flows/{flow}", get_flow, "One flow with its latest run.", (), "object", "flows",
          operation="getFlow", item="Flow"),
]
