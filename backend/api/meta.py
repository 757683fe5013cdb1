"""/api/-/status, /api/-/settings, /api/-/version and /api/openapi.json."""

from __future__ import annotations

import asyncio
import gc
import os
import time
from typing import Any

from aiohttp import web

from backend import __version__
from backend.api import respond
from backend.cache import status as cache_status
from backend.event_loop import loop_name
from backend.keys import (
    BLOBS,
    DB,
    HUB,
    LISTENER,
    METAFLOW_CARD_POLLER,
    METAFLOW_LOG_POLLER,
    RENDERER,
    SETTINGS,
    STARTED_AT,
)
from backend.routes import Route
from contract.pg.connect import redact_dsn


async def mirrors(request: web.Request) -> list[dict[str, Any]]:
    """Mirrors of metaflow-service databases feeding this Flowscope database (their published state)."""
    from backend.mirror.status import ALL_STATES, describe

    rows = await request.app[DB].all(ALL_STATES)
    return [{"name": r["source"], **describe(r["phase"], r["detail"], r["updated_at"])} for r in rows]


def _rss_bytes() -> int | None:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None   # not Linux


async def status(request: web.Request) -> web.Response:
    app = request.app
    pool = app[DB].pool
    caches = cache_status.caches(app)
    data: dict[str, Any] = {
        "uptime_s": round(time.time() - app[STARTED_AT], 1),
        # Which process answered (several may share the port: FLOWSCOPE_WORKERS) and its memory.
        "process": {"pid": os.getpid(), "rss_bytes": _rss_bytes(),
                    "workers": app[SETTINGS].workers, "event_loop": loop_name(asyncio.get_running_loop()),
                    # objects start-up made, kept out of the garbage collector's walks (backend/cli.py)
                    "gc_frozen": gc.get_freeze_count()},
        "pool": {"size": pool.size, "free": pool.freesize, "max": pool.maxsize,
                 "timeout_s": app[DB].timeout},
        "caches": caches,
        "cache_budget": cache_status.budget(app, caches),
        "datastore": app[BLOBS].stats() if BLOBS in app else None,
        "artifact_worker": app[RENDERER].stats() if RENDERER in app else None,
        "listener": app[LISTENER].stats() if LISTENER in app else None,
        "websockets": app[HUB].stats() if HUB in app else None,
        "mirrors": await mirrors(request),
        "metaflow_log_poller": app[METAFLOW_LOG_POLLER].stats() if METAFLOW_LOG_POLLER in app else None,
        "metaflow_card_poller": app[METAFLOW_CARD_POLLER].stats() if METAFLOW_CARD_POLLER in app else None,
    }
    return respond.one(request, data)


async def settings(request: web.Request) -> web.Response:
    values = request.app[SETTINGS].as_public_dict()
    # DSNs are secret as a whole; show where they point without the password.
    for key in ("FLOWSCOPE_DSN", "FLOWSCOPE_READER_DSN"):
        raw = getattr(request.app[SETTINGS], key.removeprefix("FLOWSCOPE_").lower(), None)
        if raw:
            values[key] = redact_dsn(raw)
    return respond.one(request, values)


async def version(request: web.Request) -> web.Response:
    # heartbeat_timeout_s: when the server calls a silent running run lost, so the UI re-asks a
    # silent run just after that moment (frontend/src/live/heartbeatRecheck.ts), not before.
    return respond.one(request, {"version": __version__, "api": 1,
                                 "heartbeat_timeout_s": request.app[SETTINGS].heartbeat_timeout})


async def openapi(request: web.Request) -> web.Response:
    from backend.app import all_routes
    from backend.openapi import openapi_document

    return web.json_response(openapi_document(all_routes()))


ROUTES = [
    Route("/api/-/status", status, "Health of the pool, listener, caches, datastore and websocket hub.",
          (), "object", "meta", operation="getStatus", item="Status"),
    Route("/api/-/settings", settings, "Every FLOWSCOPE_* setting in effect, secrets redacted.", (),
          "object", "meta", operation="getSettings", item="Settings"),
    Route("/api/-/version", version, "Backend version.", (), "object", "meta", operation="getVersion",
          item="Version"),
    Route("/api/openapi.json", openapi, "This API's OpenAPI document.", (), "json", "meta",
          operation="getOpenapi"),
]
