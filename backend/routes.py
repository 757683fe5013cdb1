"""The route table: one entry per API path, used to register handlers and to write OpenAPI."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

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
    extra: dict[str, str] = field(default_factory=dict)


PAGE = (Param("limit", "Page size, 1-1000 (default 50).", "integer"),
        Param("cursor", "The `next` value of the previous page."))
