"""Live cards of Metaflow-recorded runs: polled, because Metaflow's refreshes leave no database trace.

``current.card.refresh()`` in a real Metaflow task overwrites ``runtime/<card>.data.json`` (and,
on layout changes, the card page) in Metaflow's datastore; the metadata service hears nothing. So
for every websocket subscription to the cards of a Metaflow-recorded task, this task lists the
card store every ``metaflow_card_poll_ms`` while anyone watches, and sends each card whose page or
data changed to the subscription, shaped like the REST list's items. Subscriptions to the same task
share one listing per pass; a finished task's listing is cached by the reader.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web

from backend.api.respond import dumps
from backend.db import runs as runs_db
from backend.db import tasks as tasks_db
from backend.db.liveness import live_params
from backend.live.datastore_poller import DatastorePoller
from backend.live.hub import Hub
from backend.resources.cards import card_shape
from backend.sources import metaflow_cards

log = logging.getLogger("flowscope.live")


class MetaflowCardPoller(DatastorePoller):
    feed, what = "cards", "Metaflow card"

    def __init__(self, app: web.Application, hub: Hub, every_s: float) -> None:
        super().__init__(app, hub, every_s)
        self.sent: dict[tuple[int, str], dict[tuple[str, int], tuple[int, bool]]] = {}

    async def _cards(self, path: dict[str, str]) -> list[Any]:
        db, settings = self.hub.db, self.hub.settings
        run = await runs_db.get_run(db, live_params(settings), path["flow"], path["run"])
        if run is None:
            return []
        task = await tasks_db.get_task(db, live_params(settings), run["run_pk"], path["step"], path["task"])
        if task is None:
            return []
        return await metaflow_cards.task_cards(self.app, run, task)

    async def poll_once(self) -> None:
        groups = self.watched()
        live_keys = {(c.n, s.id) for members in groups.values() for c, s in members}
        for key in list(self.sent):
            if key not in live_keys:
                del self.sent[key]
        for members in groups.values():
            target = members[0][1].target
            try:
                cards = await self._cards(target.path)
            except Exception as exc:  # noqa: BLE001 - a datastore hiccup: try again next pass
                self.errors += 1
                log.warning("polling Metaflow cards of %s failed: %s", target.path, exc)
                continue
            base = "/api/flows/{flow}/runs/{run}/steps/{step}/tasks/{task}/cards".format(**target.path)
            for client, sub in members:
                sent = self.sent.setdefault((client.n, sub.id), {})
                for card in cards:
                    want = sub.target.query.get("attempt")
                    if want is not None and str(card.attempt) != want:
                        continue
                    sig = (card.updated_at, card.final)
                    if sent.get((card.card_id, card.attempt)) == sig:
                        continue
                    message = dumps({"type": "update", "id": sub.id, "resource": sub.resource,
                                     "data": card_shape(card.row(), base)})
                    if not self.hub.offer_or_drop(client, message):
                        break   # a client too slow to keep up is being closed
                    sent[(card.card_id, card.attempt)] = sig
        self.polls += 1

    def stats(self) -> dict[str, Any]:
        return {"every_ms": int(self.every_s * 1000), "polls": self.polls, "errors": self.errors,
                "subscriptions": len(self.sent)}
