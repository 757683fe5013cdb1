"""Writing a card while its task runs and when it ends (in the task process).

Every accepted ``refresh()`` writes the card state (document + seq) to a new datastore key, and
the page too when the card's layout changed (components added or removed); then it tells the
scheduler, which records the card row — the row is the event the UI's live feed follows. The
final version is written when the task ends: the page at the card's permanent key.
"""

from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import dataclass
from typing import Any

from contract.cards.page import card_page
from contract.datastore import card_key, card_version_key


@dataclass
class CardTarget:
    """Where one card of one task attempt goes."""
    flow: str
    run_id: str
    step: str
    task_id: str
    attempt: int
    card_id: str
    card_type: str
    decorator_id: str | None = None     # the id given to @card (Metaflow's card id), if any

    @property
    def pathspec(self) -> str:
        return f"{self.flow}/{self.run_id}/{self.step}/{self.task_id}"


class CardPublisher:
    """Writes card versions to the datastore; ``events_fd`` (a pipe to the scheduler) carries one
    JSON line per version. Without it (``spin``) runtime refreshes are not written."""

    def __init__(self, ds: Any, events_fd: int | None) -> None:
        self.ds = ds
        self.events_fd = events_fd
        self.seqs: dict[str, int] = {}
        self.page_keys: dict[str, str] = {}
        self.warned = False

    @property
    def live(self) -> bool:
        return self.events_fd is not None

    def publish(self, t: CardTarget, doc: dict[str, Any], *, final: bool, new_page: bool) -> dict[str, Any]:
        """Writes one version; returns its cards-table row (also sent to the scheduler if live)."""
        seq = self.seqs.get(t.card_id, 0) + 1
        self.seqs[t.card_id] = seq
        now = int(time.time() * 1000)
        state = {"doc": doc, "seq": seq, "final": final, "updated_at": now, "reload_token": None}
        data_key = card_version_key(t.flow, t.run_id, t.step, t.task_id, t.attempt, t.card_id, seq, "json")
        self.ds.put(data_key, json.dumps(state, separators=(",", ":"), default=str).encode("utf-8"))
        page_key = self.page_keys.get(t.card_id)
        size = None
        if final or new_page or page_key is None:
            page_key = (card_key(t.flow, t.run_id, t.step, t.task_id, t.attempt, t.card_id) if final
                        else card_version_key(t.flow, t.run_id, t.step, t.task_id, t.attempt, t.card_id, seq, "html"))
            body = card_page(state, t.pathspec + (f" · {t.card_id}" if t.card_id != t.card_type else "")).encode("utf-8")
            self.ds.put(page_key, body)
            self.page_keys[t.card_id] = page_key
            size = len(body)
        row = {"card_id": t.card_id, "type": t.card_type, "location": page_key, "size": size,
               "data_location": data_key, "final": final, "updated_at": now, "decorator_id": t.decorator_id}
        if not final:
            self._send(t.attempt, row)
        return row

    def publish_page(self, t: CardTarget, page: str) -> dict[str, Any]:
        """The final page of a card that is not a card document (a custom card type's HTML):
        there is no card state, so no live versions and no data."""
        key = card_key(t.flow, t.run_id, t.step, t.task_id, t.attempt, t.card_id)
        body = page.encode("utf-8")
        self.ds.put(key, body)
        return {"card_id": t.card_id, "type": t.card_type, "location": key, "size": len(body),
                "data_location": None, "final": True, "updated_at": int(time.time() * 1000),
                "decorator_id": t.decorator_id}

    def _send(self, attempt: int, row: dict[str, Any]) -> None:
        if self.events_fd is None:
            return
        line = (json.dumps({"kind": "card", "attempt": attempt, **row}) + "\n").encode("utf-8")
        try:
            os.write(self.events_fd, line)   # < PIPE_BUF: one atomic write
        except OSError as exc:
            if not self.warned:
                print(f"[@card WARNING] live card update not delivered: {exc}", file=sys.stderr)
                self.warned = True
