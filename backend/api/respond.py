"""Building responses: the list/object envelopes, ETags and Cache-Control for immutable data."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from aiohttp import web

IMMUTABLE = "public, max-age=31536000, immutable"
LIVE = "no-cache"


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


def _respond(request: web.Request, body: str, immutable: bool) -> web.Response:
    headers = {"Cache-Control": IMMUTABLE if immutable else LIVE}
    if immutable:
        etag = '"' + hashlib.sha1(body.encode()).hexdigest()[:20] + '"'
        headers["ETag"] = etag
        if etag in request.headers.get("If-None-Match", ""):
            return web.Response(status=304, headers=headers)
    return web.Response(text=body, content_type="application/json", headers=headers)


def one(request: web.Request, data: Any, *, immutable: bool = False, **extra: Any) -> web.Response:
    return _respond(request, dumps({"data": data, **extra}), immutable)


def page(request: web.Request, data: list[Any], next_cursor: str | None, *, immutable: bool = False,
         **extra: Any) -> web.Response:
    return _respond(request, dumps({"data": data, "next": next_cursor, **extra}), immutable)
