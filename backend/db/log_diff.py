"""The two tasks a log diff lines up: a run's task of a step, preferably at the same foreach index."""

from __future__ import annotations

from typing import Any

from backend.db.query import Db, Row
from backend.db.tasks import TASK_COLUMNS

STEP_TASK = f"""
SELECT {TASK_COLUMNS} FROM tasks t JOIN runs r ON r.run_pk = t.run_pk
WHERE t.run_pk = %(run_pk)s AND t.step_name = %(step)s
ORDER BY (t.foreach_index IS NOT DISTINCT FROM %(index)s) DESC, (t.status = 'failed') DESC, t.task_pk
LIMIT 1
"""


async def step_task(db: Db, live: dict[str, Any], run_pk: int, step: str, foreach_index: int | None) -> Row | None:
    """The step's task at ``foreach_index`` if there is one, else its first failed, else its first."""
    return await db.one(STEP_TASK, {**live, "run_pk": run_pk, "step": step, "index": foreach_index})
