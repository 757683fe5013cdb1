"""/metadata of a task."""

from __future__ import annotations

from aiohttp import web

from backend.api import respond
from backend.api.lookup import task_row
from backend.db import metadata as metadata_db
from backend.keys import DB
from backend.params import decode_cursor, encode_cursor, get_int, get_limit
from backend.resources.metadata import metadata_shape
from backend.routes import PAGE, Param, Route


async def list_metadata(request: web.Request) -> web.Response:
    _, task = await task_row(request)
    q = request.query
    cursor = decode_cursor(q, "metadata", 1)
    limit = get_limit(q, default=200)
    rows, more = await metadata_db.list_metadata(request.app[DB], task["task_pk"],
                                                 get_int(q, "attempt", minimum=0),
                                                 int(cursor[0]) if cursor else 0, limit)
    data = [metadata_shape(r) for r in rows]
    nxt = encode_cursor("metadata", [rows[-1]["id"]]) if more and rows else None
    return respond.page(request, data, nxt)


ROUTES = [
    Route("/api/flows/{flow}/runs/{run}/steps/{step}/tasks/{task}/metadata", list_metadata,
          "Metadata fields of a task (Metaflow-style).",
          (Param("attempt", "Only this attempt's fields (and task-wide ones).", "integer"), *PAGE),
          "list", "metadata", operation="listMetadata", item="MetadataField"),
]
