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

Where they are read: ``<ds-root>/mf.cards``, as Metaflow's client reads them; for a local root
whose ``mf.cards`` has none of the task's ``card-info`` cards, the same layout under ``<ds-root>``
itself (where metaflow 2.19.39 saves them when ``METAFLOW_CARD_LOCALROOT`` is set). Entries still
without a file (a run started outside its sysroot: Metaflow saved them beside its working
directory) make the list's ``notice`` (``missing_notice``; docs/metaflow.md#cards).
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
    return (await task_card_listing(app, run, task))[0]


async def task_card_listing(app: web.Application, run: Row, task: Row
                            ) -> tuple[list[MetaflowCard], dict[str, int], tuple[str, str] | None]:
    """(the task's cards, latest attempt first, then by card_id; the hashes of its ``card-info``
    entries with no file in the card store, with their attempts; that card store and the task's
    directory in it)."""
    db = app[DB]
    flow, run_id, step, task_id, run_pk, task_pk = await _origin(app, run, task)
    cloned = task_pk != task["task_pk"]
    ds_root = await logs_db.metaflow_ds_root(db, run_pk, task_pk)
    if ds_root is None:
        return [], {}, None   # never started: nothing can have rendered a card
    infos = await cards_db.metaflow_card_info(db, task_pk)
    attempts = {str(r["field_name"]): r["attempt"] for r in infos}
    done = finished(task)
    settled = done and int(time.time() * 1000) - int(task["finished_at"]) > SETTLE_MS
    root = card_root(ds_root)
    key = (root, flow, run_id, step, task_id)
    reader = reader_for(app)
    directory, files = await reader.cards(key, done, frozenset(attempts), settled,
                                          int(task["finished_at"] or 0) if done else 0)
    if not files and attempts and not ds_root.startswith("s3://"):
        # With METAFLOW_CARD_LOCALROOT set, Metaflow 2.19's ``card create`` saves local cards under
        # the datastore root itself (its get_storage_root("local") returns nothing then), where its
        # ``card list/get`` find them and its client does not (docs/metaflow.md#cards).
        beside = (ds_root.rstrip("/"), flow, run_id, step, task_id)
        there, beside_files = await reader.cards(beside, done, frozenset(attempts), settled,
                                                 int(task["finished_at"] or 0) if done else 0)
        if beside_files:
            root, key, directory, files = beside[0], beside, there, beside_files
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
    # ``card create`` registers a card's card-info entry just after saving its file: an entry
    # without a file means the card was saved to another card store than the task's ds-root names.
    found = {f.hash for f in files}
    missing = {h: latest if cloned or a is None else int(a) for h, a in attempts.items() if h not in found}
    return cards, missing, (root, directory)


def missing_notice(count: int, root: str, directory: str) -> str:
    """Why ``count`` cards Metaflow recorded for a task are not listed (docs/metaflow.md#cards)."""
    cards = "1 card" if count == 1 else f"{count} cards"
    text = (f"Metaflow recorded {cards} for this task (card-info metadata) that {'is' if count == 1 else 'are'} "
            f"not in the card store its datastore root names: {root}/{directory}. ")
    if root.startswith("s3://"):
        return text + (f"Metaflow saves cards under METAFLOW_CARD_S3ROOT when it is set: leave it unset, "
                       f"or set it to {root} (docs/metaflow.md, Cards).")
    return text + ("With a local datastore Metaflow saves cards in the .metaflow directory it finds from "
                   "the working directory of the run, not under METAFLOW_DATASTORE_SYSROOT_LOCAL, and its "
                   "own client (get_cards) cannot find them either. Run flows from the directory "
                   "METAFLOW_DATASTORE_SYSROOT_LOCAL names, or from one below it (docs/metaflow.md, Cards).")


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

