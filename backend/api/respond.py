"""Building responses: the list/object envelopes, ETags and Cache-Control for immutable data.

Bodies are encoded once, with orjson (the standard library's encoder was 15% of the event loop
serving lists under load), into an ``Encoded`` that is also left on the request for the response
cache (backend/cache/responses.py), which can answer later requests with it unchanged.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import orjson
from aiohttp import web

IMMUTABLE = "public, max-age=31536000, immutable"
LIVE = "no-cache"
# Datetimes go through default=str as they did with json.dumps (orjson would write ISO 8601 with a T).
_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME


def encode(value: Any) -> bytes:
    try:
        return orjson.dumps(value, default=str, option=_OPTIONS)
    except TypeError:
        # What orjson refuses (integers over 64 bits, strings with lone surrogates) the standard
        # library still writes.
        return json.dumps(value, separators=(",", ":"), default=str).encode()


def dumps(value: Any) -> str:
    return encode(value).decode()


@dataclass(frozen=True, slots=True)
class Encoded:
    """A JSON body ready to send; ``etag`` is set for bodies that can never change, and for answers
    that may change but are revalidated by their ETag (``cache_control`` LIVE: a run with what its
    page includes, backend/api/runs.py)."""

    body: bytes
    etag: str | None
    cache_control: str = IMMUTABLE

    def response(self, request: web.Request) -> web.Response:
        if self.etag is None:
            return web.Response(body=self.body, content_type="application/json", charset="utf-8",
                                headers={"Cache-Control": LIVE})
        headers = {"Cache-Control": self.cache_control, "ETag": self.etag}
        if self.etag in request.headers.get("If-None-Match", ""):
            return web.Response(status=304, headers=headers)
        return web.Response(body=self.body, content_type="application/json", charset="utf-8",
                            headers=headers)


# What the handler built, for the response cache's middleware (set on every JSON answer).
BUILT = web.RequestKey("flowscope_built", Encoded)


ETAG_LENGTH = 22   # etag_of's: 20 hex digits in quotes


def etag_of(body: bytes) -> str:
    """The ETag of an immutable answer's body (``ETAG_LENGTH`` characters)."""
    return '"' + hashlib.sha1(body).hexdigest()[:20] + '"'


def _respond(request: web.Request, body: bytes, immutable: bool, etag: str | None = None) -> web.Response:
    encoded = Encoded(body, (etag or etag_of(body)) if immutable else None)
    request[BUILT] = encoded
    return encoded.response(request)


def encoded(request: web.Request, body: bytes, *, immutable: bool = False, etag: str | None = None) -> web.Response:
    """An answer already encoded (as ``one`` or ``page`` would have), e.g. held by version;
    ``etag``: an immutable body's etag_of, when the caller holds it too (not hashed again)."""
    return _respond(request, body, immutable, etag)


def revalidated(request: web.Request, body: bytes) -> web.Response:
    """An answer that may change (``no-cache``) with the ETag of its body: a client that sends it
    back in If-None-Match gets 304 while the body would be the same bytes."""
    encoded = Encoded(body, etag_of(body), LIVE)
    request[BUILT] = encoded
    return encoded.response(request)


def one(request: web.Request, data: Any, *, immutable: bool = False, **extra: Any) -> web.Response:
    return _respond(request, encode({"data": data, **extra}), immutable)


def page(request: web.Request, data: list[Any], next_cursor: str | None, *, immutable: bool = False,
         **extra: Any) -> web.Response:
    return _respond(request, encode({"data": data, "next": next_cursor, **extra}), immutable)


def json_page(request: web.Request, items: list[str], next_cursor: str | None, *,
              immutable: bool = False) -> web.Response:
    """``page`` of items that are each already one JSON text (a run's or a task's JSON as Postgres
    built it): the same bytes as ``page(request, [orjson.Fragment(t) for t in items], next_cursor,
    immutable=immutable)``, joined once instead of wrapped one by one and walked by the encoder."""
    return _respond(request, json_page_body(items, next_cursor), immutable)


def json_page_body(items: list[str], next_cursor: str | None) -> bytes:
    """The body ``json_page`` sends (for a page included in another answer)."""
    return b"".join((b'{"data":[', ",".join(items).encode(), b'],"next":',
                     b"null" if next_cursor is None else encode(next_cursor), b"}"))


def attachment(filename: str) -> str:
    """A ``Content-Disposition`` for a download (RFC 6266): a plain ASCII ``filename`` for old
    clients (anything but letters, digits and ``._-+()@,`` becomes ``_``, so neither a quote nor a
    ``;`` can end it early, even for a naive parser) and the exact name as UTF-8 in ``filename*``
    (RFC 8187 percent-encoding), which browsers prefer. A name cannot break out of the header."""
    fallback = "".join(c if c.isascii() and (c.isalnum() or c in " ._-+()@,") else "_" for c in filename)
    exact = quote(filename, safe="!#$&+-.^_`|~")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{exact}"
