"""The route table: one entry per API path, used to register handlers, to write OpenAPI and to
resolve websocket subscriptions (a route with a ``feed`` can be subscribed to)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Param:
    name: str
    description: str
    type: str = "string"           # OpenAPI scalar type
    enum: tuple[str, ...] = ()
    repeated: bool = False         # ?tag=a&tag=b (comma-separated also accepted)


@dataclass(frozen=True)
class Route:
    path: str
    handler: Handler
    summary: str
    params: tuple[Param, ...] = ()
    returns: str = "object"        # object | list | text | html | bytes | ndjson | websocket
    tag: str = "api"
    # The stable OpenAPI operationId (generated clients and docs refer to it).
    operation: str = ""
    # The component schema (backend/resources) of the object, or of each item of a list.
    item: str | None = None
    # Extra top-level members of the JSON body beside data/next: name -> JSON Schema.
    envelope: dict[str, Any] = field(default_factory=dict)
    # Top-level members present only when a parameter asks for them: name -> JSON Schema.
    optional: dict[str, Any] = field(default_factory=dict)
    # The live feed (backend/resources/*.FEEDS) a websocket subscription to this path follows.
    feed: str | None = None


PAGE = (Param("limit", "Page size, 1-1000 (default 50).", "integer"),
        Param("cursor", "The `next` value of the previous page."))
