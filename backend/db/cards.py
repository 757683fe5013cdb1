"""Cards of a task (the HTML lives in the datastore)."""

from __future__ import annotations

from backend.db.query import Db, Row

CARD_COLUMNS = "c.attempt, c.card_id, c.type, c.location, c.size, c.created_at, c.change_seq"
LIST_CARDS = f"""SELECT {CARD_COLUMNS} FROM cards c WHERE c.task_pk = %(task_pk)s
                 AND (%(attempt)s::int IS NULL OR c.attempt = %(attempt)s)
                 ORDER BY c.attempt DESC, c.card_id"""
GET_CARD = f"""SELECT {CARD_COLUMNS} FROM cards c WHERE c.task_pk = %(task_pk)s AND c.card_id = %(card_id)s
               AND (%(attempt)s::int IS NULL OR c.attempt = %(attempt)s)
               ORDER BY c.attempt DESC LIMIT 1"""


async def list_cards(db: Db, task_pk: int, attempt: int | None) -> list[Row]:
    return await db.all(LIST_CARDS, {"task_pk": task_pk, "attempt": attempt})


async def get_card(db: Db, task_pk: int, card_id: str, attempt: int | None) -> Row | None:
    return await db.one(GET_CARD, {"task_pk": task_pk, "card_id": card_id, "attempt": attempt})
