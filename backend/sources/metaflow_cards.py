"""Cards of runs with source='metaflow', listed for the metaflow source (backend/sources/metaflow.py).

Metaflow's ``@card`` saves each card as an HTML file in its own card store (see
``backend.metaflow_store.cards``), not as a Flowscope ``cards`` row. They are listed from there,
in the shape of native cards:

* ``attempt``: from the card's ``card-info`` metadata (``attempt_id`` tag); a card without one
  (metadata not registered) is given the task's latest attempt, the one that rendered it.
* ``card_id``: the ``id`` given to ``@card(id=...)``, else the card type; when two cards of one
  attempt would share it, each gets ``-<hash>`` appended. Ids only ever name a card found in a
  listing: the HTML route resolves them against the listing, never against a path.
* ``hash``: Metaflow's card hash (its uuid), as ``metaflow.cards.get_cards`` reports it.

A task cloned by ``resume`` shows the cards of the task it was cloned from, as Metaflow's
client does (``get_cards(..., follow_resumed=True)``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from backend.db import cards as cards_db
from backend.db import logs as logs_db
from backend.db.query import Row
from backend.keys import DB
from backend.metaflow_store.card_pages import runtime_update
from backend.metaflow_store.cards import CardFile, card_root
from backend.metaflow_store.roots import FileEntry
from backend.sources.metaflow_reader import reader_for

MAX_CLONE_HOPS = 16        # resume of a resume of …: follow at most this many origins
SETTLE_MS = 10 * 60_000    # a task that ended this long ago has rendered all its cards


@dataclass(frozen=True, slots=True)
class MetaflowCard:
    card_id: str
    attempt: int
    file: CardFile
    root: str          # the card store (``<ds-root>/mf.cards``)
    directory: str     # the task's cards directory in it
    key: tuple[str, str, str, str, str]   # (card store, flow, run, step, task) of the origin task
    final: bool        # the task has finished: the card will not change again
    data: FileEntry | None = None         # its runtime data updates (live cards), if any

    @property
    def updated_at(self) -> int:
        return max(self.file.modified_ms, self.data.modified_ms if self.data else 0)

    def row(self) -> dict[str, Any]:
        """As a card row (no change_seq: the card store has no change feed)."""
        return {"card_id": self.card_id, "type": self.file.type, "attempt": self.attempt,
                "size": self.file.size, "created_at": self.file.modified_ms, "change_seq": None,
                "hash": self.file.hash, "final": self.final, "updated_at": self.updated_at}


def finished(task: Row) -> bool:
    return task["status"] in ("completed", "failed") and task["finished_at"] is not None


def name_cards(files: list[tuple[CardFile, int]]) -> list[tuple[str, CardFile, int]]:
    """(card_id, file, attempt) for cards with their attempts; ids unique within an attempt."""
    counts: dict[tuple[int, str], int] = {}
    for f, attempt in files:
        counts[(attempt, f.id or f.type)] = counts.get((attempt, f.id or f.type), 0) + 1
    named = []
    for f, attempt in files:
        base = f.id or f.type
        named.append((base if counts[(attempt, base)] == 1 else f"{base}-{f.hash}", f, attempt))
    return named


async def _origin(app: web.Application, run: Row, task: Row) -> tuple[str, str, str, str, int, int]:
    """(flow, run, step, task, run_pk, task_pk) of the task whose cards this task shows."""
    db = app[DB]
    here = (run["flow_id"], run["run_id"], task["step_name"], task["task_id"], run["run_pk"], task["task_pk"])
    cloned_from = task["cloned_from"]
    for _ in range(MAX_CLONE_HOPS):
        if not cloned_from:
            return here
        parts = str(cloned_from).split("/")
        if len(parts) != 4:
            return here
        row = await cards_db.task_by_pathspec(db, *parts)
        if row is None:
            return here   # the origin is not recorded here: Metaflow's client would fail too
        here = (parts[0], parts[1], parts[2], parts[3], row["run_pk"], row["task_pk"])
        cloned_from = row["cloned_from"]
    return here


async def task_cards(app: web.Application, run: Row, task: Row) -> list[MetaflowCard]:
    """The task's cards, latest attempt first, then by card_id."""
    db = app[DB]
    flow, run_id, step, task_id, run_pk, task_pk = await _origin(app, run, task)
    cloned = task_pk != task["task_pk"]
    ds_root = await logs_db.metaflow_ds_root(db, run_pk, task_pk)
    if ds_root is None:
        return []   # never started: nothing can have rendered a card
    infos = await cards_db.metaflow_card_info(db, task_pk)
    attempts = {str(r["field_name"]): r["attempt"] for r in infos}
    done = finished(task)
    settled = done and int(time.time() * 1000) - int(task["finished_at"]) > SETTLE_MS
    root = card_root(ds_root)
    key = (root, flow, run_id, step, task_id)
    reader = reader_for(app)
    directory, files = await reader.cards(key, done, frozenset(attempts), settled,
                                          int(task["finished_at"] or 0) if done else 0)
    # Live cards: their runtime data updates, while the task runs (after that the page is final).
    data = {} if done else await reader.card_data_files(key)
    latest = int(task["attempt"] or 0)
    with_attempts = []
    for f in files:
        attempt = attempts.get(f.hash)
        # Attempts of an origin task are not this task's attempts: show them on its latest.
        with_attempts.append((f, latest if cloned or attempt is None else int(attempt)))
    cards = [MetaflowCard(card_id, attempt, f, root, directory, key, done, data.get(f.hash))
             for card_id, f, attempt in name_cards(with_attempts)]
    cards.sort(key=lambda c: (-c.attempt, c.card_id))
    return cards


async def card_html(app: web.Application, task: Row, card: MetaflowCard) -> bytes:
    title = "/".join(card.key[1:]) + f" · {card.card_id}"
    return await reader_for(app).card_html(card.root, card.directory, card.file, finished(task), title)


async def card_data(app: web.Application, card: MetaflowCard) -> dict[str, Any]:
    """The card's latest runtime data update, for the frame to apply; ``kind: none`` if it has none."""
    if card.data is None:
        return {"kind": "none", "final": card.final}
    raw = await reader_for(app).card_data(card.key, card.data)
    update = runtime_update(raw) if raw is not None else None
    if update is None:
        return {"kind": "none", "final": card.final}
    update["final"] = update["final"] or card.final
    return update

