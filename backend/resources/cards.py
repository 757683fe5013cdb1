"""Cards of a task: the JSON shape of a card's entry (its HTML is served separately), its schema,
and its live feed."""

from __future__ import annotations

from typing import Any

from backend.db import artifacts as artifacts_db
from backend.db.query import Row
from backend.live.events import Batch, Event, Feed, FeedContext, Target
from backend.resources.schema import INT, STR, nullable, obj

SCHEMAS = {
    "Card": obj({
        "card_id": STR, "type": nullable(STR), "attempt": INT, "size": nullable(INT),
        "created_at": nullable(INT), "seq": nullable(INT),
        "url": {"type": "string", "description": "The card's HTML, served with a sandboxing CSP."},
        "data_url": {"type": "string", "description": "The card's latest live version (GET), for its frame."},
        "final": {"type": "boolean", "description": "False while the task may still refresh the card."},
        "updated_at": nullable(INT),
    }, optional={"hash": nullable(STR)}, description="A card of a task attempt."),
    "CardData": obj({
        "kind": {"type": "string", "enum": ["state", "components", "none"]},
        "final": {"type": "boolean"},
    }, optional={"state": {"type": "object"}, "reload_token": nullable(STR), "data": {"type": "object"},
                 "updated_at": nullable(INT)},
       description="A card's latest live version: a whole card state (Flowscope runs) or Metaflow's "
                   "component updates (docs/cards.md)."),
}

TASK_PATH = "/api/flows/{flow}/runs/{run}/steps/{step}/tasks/{task}/cards"


def card_shape(row: Row, base: str) -> dict[str, Any]:
    """``base``: the task's /cards path, under which the card's HTML is served."""
    url = f"{base}/{row['card_id']}"
    shape = {"card_id": row["card_id"], "type": row["type"], "attempt": row["attempt"],
             "size": row["size"], "created_at": row["created_at"], "seq": row["change_seq"],
             "final": bool(row.get("final", True)), "updated_at": row.get("updated_at") or row["created_at"],
             "url": f"{url}?attempt={row['attempt']}", "data_url": f"{url}/data?attempt={row['attempt']}"}
    if row.get("hash") is not None:   # Metaflow's card hash, as its client reports it
        shape["hash"] = row["hash"]
    return shape


async def cards_feed(target: Target, since: int, ctx: FeedContext) -> Batch:
    assert target.run_pk is not None and target.task_pk is not None
    rows = await artifacts_db.cards_changed(ctx.db, target.run_pk, target.task_pk, since)
    base = TASK_PATH.format(**target.path)
    return Batch([Event("insert", f"{r['attempt']}/{r['card_id']}", r["change_seq"], card_shape(r, base))
                  for r in rows])


FEEDS = (Feed("cards", "task", cards_feed, "Card"),)
