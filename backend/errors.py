"""The one error shape of the API, and the middleware that makes every failure use it.

Every 4xx/5xx, including unknown routes, wrong methods, timeouts and bugs, leaves the server as
``{"error": {"status": N, "message": "..."}}`` so clients have one thing to parse.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from contract.datastore import DatastoreError

log = logging.getLogger("flowscope.backend")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class ApiError(Exception):
    """Raised by handlers and parsers; becomes the JSON error response."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def not_found(message: str) -> ApiError:
    return ApiError(404, message)


def error_response(status: int, message: str) -> web.Response:
    return web.json_response({"error": {"status": status, "message": message}}, status=status)


_HTTP_MESSAGES = {
    404: "no such resource: {path}",
    405: "method {method} is not allowed on {path}: the Flowscope API is read-only (GET/HEAD only)",
}


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method not in READ_METHODS:
        return _method_not_allowed(request)
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.message)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        template = _HTTP_MESSAGES.get(exc.status)
        message = (template.format(path=request.path, method=request.method) if template
                   else exc.reason or str(exc))
        resp = error_response(exc.status, message)
        if exc.status == 405:
            resp.headers["Allow"] = "GET, HEAD"
        return resp
    except TimeoutError:
        return error_response(504, f"{request.path}: timed out waiting for the database or the "
                                   "datastore; try again or narrow the request")
    except DatastoreError as exc:
        return error_response(502, f"datastore error: {exc}")
    except asyncio.CancelledError:
        raise
    except (ConnectionResetError, BrokenPipeError):
        raise
    except Exception as exc:  # a bug: keep serving, say what happened, log the traceback
        log.exception("unhandled error on %s %s", request.method, request.path_qs)
        return error_response(500, f"internal error on {request.path}: {type(exc).__name__}: {exc}")


def _method_not_allowed(request: web.Request) -> web.Response:
    resp = error_response(405, _HTTP_MESSAGES[405].format(path=request.path, method=request.method))
    resp.headers["Allow"] = "GET, HEAD"
    return resp
