"""What the pollers of Metaflow's datastore share (backend/live/metaflow_logs.py, metaflow_cards.py).

Metaflow writes log uploads and runtime card data to its own datastore with no database event, so
for subscriptions of one feed to runs that Metaflow wrote, a poller looks every ``every_s`` while
anyone is connected. Subscriptions with the same target are grouped so they share one read.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web

from backend.live.hub import Client, Hub, Subscription

log = logging.getLogger("flowscope.live")

Groups = dict[tuple[Any, ...], list[tuple[Client, Subscription]]]


class DatastorePoller:
    feed = ""        # the feed whose Metaflow-run subscriptions this poller serves
    what = ""        # for log lines: "Metaflow log", "Metaflow card"

    def __init__(self, app: web.Application, hub: Hub, every_s: float) -> None:
        self.app, self.hub, self.every_s = app, hub, every_s
        self.polls = 0
        self.errors = 0

    def watched(self) -> Groups:
        """This feed's subscriptions to Metaflow-written runs, grouped by target."""
        groups: Groups = {}
        for client in list(self.hub.clients):
            for sub in list(client.subs.values()):
                if sub.target.feed == self.feed and sub.target.extra.get("source") == "metaflow":
                    groups.setdefault(sub.target.key, []).append((client, sub))
        return groups

    async def poll_once(self) -> None:
        raise NotImplementedError

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.every_s)
            if not self.hub.clients:
                continue
            try:
                await self.poll_once()
            except Exception as exc:  # noqa: BLE001 - never let the poller die
                self.errors += 1
                log.warning("%s poll failed: %s", self.what, exc)
