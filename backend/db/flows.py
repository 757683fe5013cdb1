"""Flows: the list (by name, keyset) with each flow's latest run (one index probe per flow)."""

from __future__ import annotations

from typing import Any

from backend.db.query import Db, Row
from backend.db.runs import RUN_COLUMNS

_LATEST = f"""
LEFT JOIN LATERAL (
    SELECT row_to_json(x) AS latest FROM (
        SELECT {RUN_COLUMNS} FROM runs r WHERE r.flow_id = f.flow_id
        ORDER BY r.created_at DESC, r.run_pk DESC LIMIT 1) x) l ON TRUE
"""

LIST_FLOWS = f"""
SELECT f.flow_id, f.created_at, f.last_run_at, f.last_run_number, f.change_seq, l.latest
FROM flows f {_LATEST}
WHERE f.flow_id > %(after)s AND (%(q)s::text IS NULL OR f.flow_id ILIKE '%%' || %(q)s || '%%')
ORDER BY f.flow_id LIMIT %(limit)s
"""

GET_FLOW = f"""
SELECT f.flow_id, f.created_at, f.last_run_at, f.last_run_number, f.change_seq, l.latest
FROM flows f {_LATEST} WHERE f.flow_id = %(flow)s
"""


async def list_flows(db: Db, live: dict[str, Any], q: str | None, after: str | None,
                     limit: int) -> tuple[list[Row], bool]:
    rows = await db.all(LIST_FLOWS, {**live, "q": q, "after": after or "", "limit": limit + 1})
    return rows[:limit], len(rows) > limit


async def get_flow(db: Db, live: dict[str, Any], flow: str) -> Row | None:
    return await db.one(GET_FLOW, {**live, "flow": flow})

FLOWS_CHANGED = f"""
SELECT f.flow_id, f.created_at, f.last_run_at, f.last_run_number, f.change_seq, l.latest
FROM flows f {_LATEST} WHERE f.change_seq > %(since)s ORDER BY f.change_seq LIMIT 1000
"""


async def flows_changed(db: Db, live: dict[str, Any], since: int) -> list[Row]:
    return await db.all(FLOWS_CHANGED, {**live, "since": since})
