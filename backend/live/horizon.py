"""The live feed's safe horizon (why: a transaction may commit after one with a higher seq).

A writer that took seq 10 may commit after a writer with seq 11. If a client were sent 11 and
later resumed with ``since=11``, the row with seq 10 would be lost. So the hub sends a change
only once the database's change horizon (migration 0004) has reached its seq: every row at or
below the horizon is committed, so any ``since`` a client learned from an event is complete
below. Events above the horizon are held back and retried every batch until the open
transactions below them finish (writer transactions are short; the delay is one batch or two).
"""

from __future__ import annotations

from backend.db.changes import horizon
from backend.db.query import Db


class Horizons:
    def __init__(self, db: Db) -> None:
        self.db = db
        self.current = 0
        self.samples = 0

    async def sample(self) -> int:
        """Read the horizon now; call it BEFORE the data queries it guards."""
        h, _ = await horizon(self.db)
        self.samples += 1
        self.current = max(self.current, h)
        return h
