"""OpenAPI 3.1 document generated from the route table, so it cannot drift from the routes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from backend import __version__
from backend.routes import Route

_CONTENT: dict[str, tuple[str, dict[str, Any]]] = {
    "object": ("application/json", {"type": "object", "required": ["data"],
                                    "properties": {"data": {"type": "object"}}}),
    "list": ("application/json", {"type": "object", "required": ["data", "next"],
                                  "properties": {"data": {"type": "array"},
                                                 "next": {"type": ["string", "null"]}}}),
    "text": ("text/plain", {"type": "string"}),
    "html": ("text/html", {"type": "string"}),
    "bytes": ("application/octet-stream", {"type": "string", "format": "binary"}),
    "ndjson": ("application/x-ndjson", {"type": "string"}),
    "websocket": ("application/json", {"type": "object"}),
}
ERROR = {"description": "Error", "content": {"application/json": {"schema": {
    "type": "object", "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["status", "message"],
                             "properties": {"status": {"type": "integer"},
                                            "message": {"type": "string"}}}}}}}}


def _operation(route: Route) -> dict[str, Any]:
    params: list[dict[str, Any]] = []
    for name in re.findall(r"{(\w+)(?::[^}]*)?}", route.path):
        params.append({"name": name, "in": "path", "required": True, "schema": {"type": "string"}})
    for p in route.params:
        schema: dict[str, Any] = {"type": p.type}
        if p.enum:
            schema["enum"] = list(p.enum)
        if p.repeated:
            schema = {"type": "array", "items": schema}
        params.append({"name": p.name, "in": "query", "required": False, "description": p.description,
                       "schema": schema, **({"explode": True} if p.repeated else {})})
    media, body = _CONTENT[route.returns]
    ok = {"description": "OK", "content": {media: {"schema": body}}}
    responses: dict[str, Any] = {"200": ok, "400": ERROR, "404": ERROR, "405": ERROR, "504": ERROR}
    if route.returns == "websocket":
        responses = {"101": {"description": "Switching to the websocket protocol (docs/api.md)."}}
    return {"summary": route.summary, "tags": [route.tag], "parameters": params,
            "responses": responses, "operationId": route.handler.__name__ + "_" + str(abs(hash(route.path)))[:6]}


def openapi_document(routes: Sequence[Route]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for route in routes:
        path = re.sub(r"{(\w+):[^}]*}", r"{\1}", route.path)
        paths[path] = {"get": _operation(route)}
    return {"openapi": "3.1.0",
            "info": {"title": "Flowscope API", "version": __version__,
                     "description": "Read-only API of Flowscope (see docs/api.md). Only GET/HEAD."},
            "paths": paths}
