"""The change feed's global position (the change_seq sequence) and its safe horizon.

``change_horizon()`` (migration 0004) returns the highest seq below which every change is
committed: a cursor may advance to it without skipping a transaction that took a lower seq but
commits later. Call it in its own statement, BEFORE the data query it guards.
"""

from __future__ import annotations

from backend.db.query import Db

HORIZON = "SELECT horizon, last_after FROM change_horizon()"


async def horizon(db: Db) -> tuple[int, int]:
    """(horizon, last_after): the safe cursor and the sequence's value read after computing it."""
    row = await db.one(HORIZON)
    assert row is not None
    return int(row["horizon"]), int(row["last_after"])
