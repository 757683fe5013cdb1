"""Metaflow-style metadata fields of a task, keyset by id."""

from __future__ import annotations

from backend.db.query import Db, Row

LIST_METADATA = """
SELECT m.id, m.attempt, m.field_name, m.value, m.type, m.tags, m.created_at FROM metadata m
WHERE m.task_pk = %(task_pk)s AND m.id > %(after)s
  AND (%(attempt)s::int IS NULL OR m.attempt = %(attempt)s OR m.attempt IS NULL)
ORDER BY m.id LIMIT %(limit)s
"""


async def list_metadata(db: Db, task_pk: int, attempt: int | None, after: int,
                        limit: int) -> tuple[list[Row], bool]:
    rows = await db.all(LIST_METADATA, {"task_pk": task_pk, "attempt": attempt, "after": after,
                                        "limit": limit + 1})
    return rows[:limit], len(rows) > limit
