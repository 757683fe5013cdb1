"""The change feed's global position (the change_seq sequence)."""

from __future__ import annotations

from backend.db.query import Db

CURRENT_SEQ = "SELECT last_value FROM change_seq"


async def current_seq(db: Db) -> int:
    return int(await db.scalar(CURRENT_SEQ) or 0)
