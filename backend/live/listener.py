"""LISTEN flowscope_changes on a dedicated connection; reconnects with backoff forever.

The notification payload is only a key ("run:<run_pk>" / "flow:<flow_id>"); the hub queries
what changed. After a reconnect the hub re-checks every subscribed run, because notifications
sent while we were disconnected are lost (the queries by change_seq are not).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import aiopg

from backend.live.hub import Hub
from backend.shutdown import stop_task

log = logging.getLogger("flowscope.live")

CHANNEL = "flowscope_changes"


class Listener:
    def __init__(self, dsn: str, hub: Hub) -> None:
        self.dsn = dsn
        self.hub = hub
        self.connected = False
        self.notifications = 0
        self.reconnects = 0
        self.last_error: str | None = None
        self.last_notification_at: int | None = None
        self._task: asyncio.Task[None] | None = None
        self._conn: Any = None
        self._stopping = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="flowscope-listener")

    async def stop(self) -> None:
        self._stopping = True
        await stop_task(self._task, 5.0, "the change listener")
        if self._conn is not None and not self._conn.closed:
            await self._conn.close()

    async def _run(self) -> None:
        delay = 0.5
        first = True
        while not self._stopping:
            try:
                self._conn = await aiopg.connect(self.dsn, timeout=10)
                async with self._conn.cursor() as cur:
                    await cur.execute(f"LISTEN {CHANNEL}")
                self.connected = self.hub.listening = True
                self.hub.generation += 1
                delay = 0.5
                if not first:
                    self.reconnects += 1
                first = False
                # Changes committed before LISTEN took effect sent notifications nobody heard;
                # clients may already be subscribed (at start-up too): re-check them all.
                self.hub.notify_all()
                while True:
                    message = await self._conn.notifies.get()
                    self.notifications += 1
                    self.last_notification_at = int(time.time() * 1000)
                    self.hub.notify(message.payload)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - any failure: reconnect, never die
                self.last_error = f"{type(exc).__name__}: {exc}".strip()[:300]
                log.warning("change listener lost its connection (%s); retrying in %.1f s",
                            self.last_error, delay)
            finally:
                self.connected = self.hub.listening = False
                self.hub.generation += 1
                if self._conn is not None and not self._conn.closed:
                    with contextlib.suppress(Exception):  # already broken; closing is best effort
                        await self._conn.close()
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)

    def stats(self) -> dict[str, Any]:
        return {"channel": CHANNEL, "connected": self.connected, "notifications": self.notifications,
                "reconnects": self.reconnects, "last_error": self.last_error,
                "last_notification_at": self.last_notification_at}
