"""OpenAPI 3.1 document generated from the route table and the resources' schemas, so it cannot
drift from either. ``python -m backend.openapi`` prints it (the frontend's types are generated
from that output: frontend/src/api/schema.gen.ts, `npm run gen:api`)."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from typing import Any

from backend import __version__
from backend.resources import feeds, schemas
from backend.resources.schema import Schema, arr, ref
from backend.routes import Route

_MEDIA = {"object": "application/json", "list": "application/json", "json": "application/json",
          "text": "text/plain", "html": "text/html", "bytes": "application/octet-stream",
          "ndjson": "application/x-ndjson", "websocket": "application/json"}
ERROR = {"description": "Error", "content": {"application/json": {"schema": {
    "type": "object", "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["status", "message"],
                             "properties": {"status": {"type": "integer"},
                                            "message": {"type": "string"}}}}}}}}


def _body(route: Route) -> Schema:
    """The 200 body's schema: the envelope around the route's item schema."""
    item = ref(route.item) if route.item else {}
    if route.returns == "object":
        return {"type": "object", "required": ["data", *route.envelope], "additionalProperties": False,
                "properties": {"data": item, **route.envelope, **route.optional}}
    if route.returns == "list":
        return {"type": "object", "required": ["data", "next", *route.envelope], "additionalProperties": False,
                "properties": {"data": arr(item), "next": {"type": ["string", "null"]}, **route.envelope,
                               **route.optional}}
    if route.returns == "json":
        return {"type": "object"}
    if route.returns == "bytes":
        return {"type": "string", "format": "binary"}
    return {"type": "string"}


def _operation(route: Route) -> dict[str, Any]:
    if not route.operation:
        raise ValueError(f"route {route.path} has no operation id")
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
    content: dict[str, Any] = {"schema": _body(route)}
    if route.returns == "ndjson" and route.item:
        content["x-line-schema"] = ref(route.item)    # each line of the stream
    ok = {"description": "OK", "content": {_MEDIA[route.returns]: content}}
    responses: dict[str, Any] = {"200": ok, "400": ERROR, "404": ERROR, "405": ERROR, "504": ERROR}
    if route.returns == "websocket":
        responses = {"101": {"description": "Switching to the websocket protocol (docs/api.md); each "
                                            "message is a LiveMessage."}}
    op: dict[str, Any] = {"operationId": route.operation, "summary": route.summary, "tags": [route.tag],
                          "parameters": params, "responses": responses}
    if route.feed:
        op["x-live-feed"] = route.feed
    return op


def openapi_document(routes: Sequence[Route]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    seen: set[str] = set()
    for route in routes:
        if route.operation in seen:
            raise ValueError(f"operation id {route.operation!r} is used twice")
        seen.add(route.operation)
        path = re.sub(r"{(\w+):[^}]*}", r"{\1}", route.path)
        paths[path] = {"get": _operation(route)}
    components = schemas()
    # What each live feed's insert/update events carry as data: one name per feed (x-live-feed).
    components["LiveFeeds"] = {"type": "object", "additionalProperties": False,
                               "required": sorted(feeds()),
                               "properties": {name: ref(f.item) for name, f in sorted(feeds().items())},
                               "description": "The data schema of each live feed's events."}
    return {"openapi": "3.1.0",
            "info": {"title": "Flowscope API", "version": __version__,
                     "description": "Read-only API of Flowscope (see docs/api.md). Only GET/HEAD."},
            "paths": paths, "components": {"schemas": components}}


def main() -> int:
    from backend.app import all_routes

    sys.stdout.write(json.dumps(openapi_document(all_routes()), indent=2, sort_keys=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
