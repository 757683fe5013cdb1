"""Cards of a task (the HTML lives in the datastore)."""

from __future__ import annotations

from backend.db.query import Db, Row

CARD_COLUMNS = ("c.attempt, c.card_id, c.type, c.location, c.size, c.created_at, c.change_seq, "
                "c.data_location, c.final, c.updated_at")
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


# Cards of runs recorded from Metaflow live in its own datastore; the database only has the
# `card-info` metadata `card create` registers per card (field_name = the card's hash).
METAFLOW_CARD_INFO = """SELECT m.field_name, m.attempt FROM metadata m
                        WHERE m.task_pk = %(task_pk)s AND m.type = 'card-info' ORDER BY m.id"""
# A task by pathspec, for following a resumed task to the task it was cloned from.
TASK_BY_PATHSPEC = """SELECT t.task_pk, t.run_pk, t.cloned_from FROM tasks t JOIN runs r ON r.run_pk = t.run_pk
                      WHERE r.flow_id = %(flow)s AND r.run_id = %(run)s AND t.step_name = %(step)s
                        AND t.task_id = %(task)s"""


async def metaflow_card_info(db: Db, task_pk: int) -> list[Row]:
    return await db.all(METAFLOW_CARD_INFO, {"task_pk": task_pk})


async def task_by_pathspec(db: Db, flow: str, run: str, step: str, task: str) -> Row | None:
    return await db.one(TASK_BY_PATHSPEC, {"flow": flow, "run": run, "step": step, "task": task})
