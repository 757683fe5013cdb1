"""Wiring the live parts into the app: the hub and listener live in a cleanup_ctx, and open
websockets are closed with GOING_AWAY on shutdown (before the pool goes away)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from backend.keys import BLOBS, DAG_CACHE, DB, HUB, LISTENER, SETTINGS
from backend.live.hub import Hub
from backend.live.listener import Listener
from core_runtime.pg.connect import resolve_dsns


async def _live(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    hub = Hub(app[DB], settings, app[BLOBS], app[DAG_CACHE])
    listener = Listener(resolve_dsns(settings).reader, hub)
    app[HUB], app[LISTENER] = hub, listener
    hub.start()
    listener.start()
    yield
    await listener.stop()
    await hub.stop()


async def _close_websockets(app: web.Application) -> None:
    if HUB in app:
        await app[HUB].stop()


def install_live(app: web.Application) -> None:
    app.cleanup_ctx.append(_live)
    app.on_shutdown.append(_close_websockets)
