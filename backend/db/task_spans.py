"""A run's task spans and parent links as columns, for the critical path and the durations.

One row of arrays (psycopg2 parses arrays in C, ~10x faster than 100,000 rows; the timeline
index reads tasks the same way). Parents come as one comma-joined text per task: a join's
100,000 parents stay one string. A task whose heartbeat was lost (no finish recorded) ends at its
last heartbeat, as on the timeline: it does not run on until every later "now".
"""

from __future__ import annotations

from typing import Any

from backend.db.liveness import end_expr, status_expr
from backend.db.query import Db
from backend.resources.critical_path import Spans

SPANS_SQL = f"""
SELECT array_agg(task_pk ORDER BY task_pk) AS pk, array_agg(step_name ORDER BY task_pk) AS step,
       array_agg(task_id ORDER BY task_pk) AS id, array_agg(foreach_value ORDER BY task_pk) AS fv,
       array_agg({status_expr('t')} ORDER BY task_pk) AS status,
       array_agg(array_to_string(parent_task_ids, ',') ORDER BY task_pk) AS parents,
       array_agg(started_at ORDER BY task_pk) AS s, array_agg({end_expr('t')} ORDER BY task_pk) AS e
FROM tasks t WHERE t.run_pk = %(run_pk)s AND left(t.step_name, 1) <> '_'
"""


async def task_spans(db: Db, live: dict[str, Any], run_pk: int) -> Spans:
    row = await db.one(SPANS_SQL, {**live, "run_pk": run_pk})
    if row is None or row["pk"] is None:
        return Spans([], [], [], [], [], [], [], [])
    parents = [p.split(",") if p else [] for p in row["parents"]]
    return Spans(row["pk"], row["step"], row["id"], row["fv"], row["status"], parents, row["s"], row["e"])
