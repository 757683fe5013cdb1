"""Wiring the live parts into the app: the hub and listener live in a cleanup_ctx, and open
websockets are closed with GOING_AWAY on shutdown (before the pool goes away).

With FLOWSCOPE_LIVE_DSN the hub gets its own small pool on that server (the primary): LISTEN
does not work on a hot standby, and the change horizon reads pg_locks, which on a standby does
not show the primary's writers. With FLOWSCOPE_LIVE_POLL_MS the hub also re-checks every
subscription on a timer, for setups where notifications cannot arrive.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiopg
from aiohttp import web

from backend.db.query import READER_PLAN_OPTIONS, Db
from backend.keys import (
    BLOBS,
    DAG_CACHE,
    DB,
    HUB,
    LISTENER,
    METAFLOW_CARD_POLLER,
    METAFLOW_LOG_POLLER,
    SETTINGS,
)
from backend.live.hub import Hub
from backend.live.listener import Listener
from backend.live.metaflow_cards import MetaflowCardPoller
from backend.live.metaflow_logs import MetaflowLogPoller
from backend.shutdown import POOL_GRACE_S, close_pool, stop_task
from contract.pg import DatabaseError
from contract.pg.connect import redact_dsn, resolve_dsns


async def _poll(hub: Hub, every_s: float) -> None:
    while True:
        await asyncio.sleep(every_s)
        hub.notify_all()


async def _live(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    live_dsn = settings.live_dsn
    db, pool = app[DB], None
    if live_dsn:
        timeout = settings.query_timeout
        try:
            pool = await aiopg.create_pool(live_dsn, minsize=1, maxsize=4, timeout=timeout,
                                           options=f"-c statement_timeout={int(timeout * 1000)} {READER_PLAN_OPTIONS}")
        except Exception as exc:  # noqa: BLE001 - any connect failure becomes one clear line, as the reader's
            first = (str(exc).strip().splitlines() or ["connection failed"])[0]
            raise DatabaseError(f"cannot connect to Postgres (FLOWSCOPE_LIVE_DSN) at {redact_dsn(live_dsn)}: "
                                f"{first}") from None
        db = Db(pool, timeout)
    hub = Hub(db, settings, app[BLOBS], app[DAG_CACHE])
    listener = Listener(live_dsn or resolve_dsns(settings).reader, hub)
    app[HUB], app[LISTENER] = hub, listener
    hub.start()
    listener.start()
    poll_ms = settings.live_poll_ms
    poller = asyncio.create_task(_poll(hub, poll_ms / 1000)) if poll_ms > 0 else None
    logs = MetaflowLogPoller(app, hub, settings.metaflow_log_poll_ms / 1000)
    app[METAFLOW_LOG_POLLER] = logs
    log_poller = asyncio.create_task(logs.run(), name="flowscope-metaflow-logs")
    cards = MetaflowCardPoller(app, hub, settings.metaflow_card_poll_ms / 1000)
    app[METAFLOW_CARD_POLLER] = cards
    card_poller = asyncio.create_task(cards.run(), name="flowscope-metaflow-cards")
    yield
    await stop_task(card_poller, 5.0, "the Metaflow card poller")
    await stop_task(log_poller, 5.0, "the Metaflow log poller")
    await stop_task(poller, 5.0, "the live poller")
    await listener.stop()
    await hub.stop()
    if pool is not None:
        await close_pool(pool, grace=POOL_GRACE_S)


async def _close_websockets(app: web.Application) -> None:
    if HUB in app:
        await app[HUB].stop()


def install_live(app: web.Application) -> None:
    app.cleanup_ctx.append(_live)
    app.on_shutdown.append(_close_websockets)
