"""The Metaflow ingest app: the metadata-service HTTP API of the metaflow client, on Postgres."""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import aiopg
import psycopg2
from aiohttp import web
from aiohttp.typedefs import Middleware

from backend.ingest import api_objects as o
from backend.ingest import api_records as r
from backend.ingest.keys import POOL, SETTINGS
from backend.ingest.wire import BadRequest
from backend.same_origin import SameOrigin
from contract.pg import DatabaseError, connect_writer, resolve_dsns
from contract.settings import Settings

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

RUN = "/flows/{flow}/runs/{run}"
TASK = RUN + "/steps/{step}/tasks/{task}"
ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", "/ping", o.ping),
    ("GET", "/version", o.version),
    ("GET", "/flows", o.list_flows),
    ("GET", "/flows/{flow}", o.get_flow),
    ("POST", "/flows/{flow}", o.create_flow),
    ("POST", "/flows/{flow}/run", o.create_run),
    ("GET", "/flows/{flow}/runs", o.list_runs),
    ("GET", RUN, o.get_run),
    ("POST", RUN + "/heartbeat", o.run_heartbeat),
    ("PATCH", RUN + "/tag/mutate", o.mutate_tags),
    ("GET", RUN + "/steps", o.list_steps),
    ("GET", RUN + "/steps/{step}", o.get_step),
    ("POST", RUN + "/steps/{step}/step", o.create_step),
    ("GET", RUN + "/steps/{step}/tasks", o.list_tasks),
    ("GET", TASK, o.get_task),
    ("POST", RUN + "/steps/{step}/task", o.create_task),
    ("POST", TASK + "/heartbeat", o.task_heartbeat),
    ("GET", RUN + "/steps/{step}/filtered_tasks", r.filtered_tasks),
    ("POST", TASK + "/metadata", r.post_metadata),
    ("GET", TASK + "/metadata", r.get_metadata),
    ("POST", TASK + "/artifact", r.post_artifacts),
    ("GET", TASK + "/artifacts", r.list_artifacts),
    ("GET", TASK + "/artifacts/{name}", r.get_artifact),
    ("GET", TASK + "/artifacts/{name}/attempt/{attempt:[0-9]+}", r.get_artifact),
    ("GET", TASK + "/attempt/{attempt:[0-9]+}/artifacts", r.list_artifacts),
]
# On these the client ignores a 409, so an unexpected server error there must not kill the flow.
_IGNORABLE = {r.post_metadata, r.post_artifacts}


def _token_ok(request: web.Request, token: str) -> bool:
    given = request.headers.get("x-api-key") or None
    auth = request.headers.get("Authorization", "")
    if given is None and auth.lower().startswith("bearer "):
        given = auth[7:].strip()
    return given is not None and hmac.compare_digest(given.encode(), token.encode())


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    token = request.app[SETTINGS].ingest_token
    if token and not _token_ok(request, token):
        return web.json_response({"message": "missing or wrong token (x-api-key or "
                                  "Authorization: Bearer)"}, status=401)
    return await handler(request)


# Content types a page on another site can send without a CORS preflight (HTML forms, text/plain).
CROSS_SITE_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")


def browser_guard(policy: SameOrigin) -> Middleware:
    """Refuse what a web page in the user's browser could send here (forged runs, CSRF).

    The metaflow client sends no Origin, no Sec-Fetch-* headers, and either JSON
    (``Content-Type: application/json``) or no Content-Type at all (its heartbeats post the text
    ``{}`` bare). A browser sends Origin with every cross-origin POST, including the only kind that
    can have no Content-Type (a fetch() of a Blob); a form can only send the types above."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not policy.host_allowed(request):
            log.warning("refused %s %s: Host %r", request.method, request.path, policy.host(request)[:100])
            return web.json_response({"message": f"this service does not answer to the host name "
                                      f"{policy.host(request)[:100]!r} (FLOWSCOPE_ALLOWED_HOSTS)"}, status=421)
        site = request.headers.get("Sec-Fetch-Site", "none").lower()
        if not policy.origin_allowed(request, same_origin_ok=False) or site not in ("none", "same-origin"):
            log.warning("refused %s %s from a web page (Origin %r, Sec-Fetch-Site %r)", request.method,
                        request.path, request.headers.get("Origin", "")[:100], site)
            return web.json_response({"message": "requests from web pages are refused "
                                      "(FLOWSCOPE_ALLOWED_ORIGINS)"}, status=403)
        ctype = request.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()
        if request.method not in ("GET", "HEAD") and ctype and ctype != "application/json" \
                and not ctype.endswith("+json"):
            why = "a type any web page can send" if ctype in CROSS_SITE_TYPES else "not JSON"
            log.warning("refused %s %s: Content-Type %r", request.method, request.path, ctype[:100])
            return web.json_response({"message": f"Content-Type {ctype!r} refused ({why}): send "
                                      "application/json"}, status=415)
        return await handler(request)

    return middleware


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except BadRequest as exc:
        return web.json_response({"message": str(exc)}, status=400)
    except web.HTTPNotFound:
        return web.json_response({}, status=404)
    except web.HTTPException:
        raise
    except psycopg2.DataError as exc:   # e.g. text with NUL bytes, numbers out of range
        return web.json_response({"message": f"invalid value: {str(exc).strip()}"}, status=400)
    except (TimeoutError, psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
        # Transient: the client retries a 503 with backoff.
        log.warning("database unavailable for %s %s: %s", request.method, request.path, exc)
        return web.json_response({"message": "database unavailable, retry"}, status=503)
    except Exception:
        log.exception("unexpected error in %s %s", request.method, request.path)
        route_handler = getattr(request.match_info.route, "handler", None)
        status = 409 if route_handler in _IGNORABLE else 503
        return web.json_response({"message": "internal error"}, status=status)


def _prepare_database(settings: Settings) -> str:
    """Migrate once (blocking) and return the writer DSN for the pool."""
    conn = connect_writer(settings)
    conn.close()
    writer = resolve_dsns(settings).writer
    if writer is None:
        raise DatabaseError("the ingest service writes runs: set FLOWSCOPE_DSN (the writer role)")
    return writer


async def _pool_ctx(app: web.Application) -> AsyncIterator[None]:
    loop = asyncio.get_running_loop()
    dsn = await loop.run_in_executor(None, _prepare_database, app[SETTINGS])
    pool = await aiopg.create_pool(dsn, minsize=1, maxsize=10, timeout=30.0)
    app[POOL] = pool
    yield
    pool.close()
    await pool.wait_closed()


def create_ingest_app(settings: Settings) -> web.Application:
    """The ingest app; mount it at the root of its own port, or as a sub-app under a prefix."""
    policy = SameOrigin.build(settings.allowed_hosts, [settings.ingest_host], settings.allowed_origins,
                              lambda request: False)
    app = web.Application(middlewares=[error_middleware, browser_guard(policy), auth_middleware],
                          client_max_size=64 * 1024 * 1024)
    app[SETTINGS] = settings
    for method, path, handler in ROUTES:
        app.router.add_route(method, path, handler)
        # METAFLOW_SERVICE_URL with a trailing slash yields "//flows/...": harmless upstream too.
    app.cleanup_ctx.append(_pool_ctx)
    return app
