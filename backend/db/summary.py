"""The last successful run of a flow created before a given run (for "compare with last good")."""

from __future__ import annotations

from backend.db.query import Db

# runs_flow_created serves it: walk the flow's runs newest first from the run's creation time.
LAST_GOOD = """
SELECT r.run_id FROM runs r
WHERE r.flow_id = %(flow)s AND r.status = 'completed'
  AND (r.created_at, r.run_pk) < (%(created_at)s, %(run_pk)s)
ORDER BY r.created_at DESC, r.run_pk DESC LIMIT 1
"""


async def last_good_run(db: Db, flow: str, created_at: int, run_pk: int) -> str | None:
    value = await db.scalar(LAST_GOOD, {"flow": flow, "created_at": created_at, "run_pk": run_pk})
    return None if value is None else str(value)
