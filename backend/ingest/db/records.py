"""Metadata rows and artifact records of tasks."""

from __future__ import annotations

from typing import Any

from backend.ingest.db.pool import Cursor, all_rows

LIST_METADATA = (
    "SELECT id, field_name, value, type, tags, created_at FROM metadata WHERE task_pk = %s "
    "ORDER BY created_at DESC, id DESC"
)
# Unanchored regex search like the official service; the client anchors patterns itself.
FILTERED_TASKS = (
    "SELECT t.task_id FROM tasks t WHERE t.run_pk = %s AND t.step_name = %s AND EXISTS ("
    " SELECT 1 FROM metadata m WHERE m.task_pk = t.task_pk"
    " AND (%s::text IS NULL OR m.field_name = %s) AND (%s::text IS NULL OR m.value ~ %s))"
    " ORDER BY t.task_pk"
)

ART_COLS = "name, sha, encoding, location, attempt, created_at"
# "Latest attempt" = the task's highest attempt that has artifact records (official service).
LIST_ARTIFACTS_LATEST = (
    f"SELECT {ART_COLS} FROM artifacts WHERE task_pk = %s AND attempt = "
    "(SELECT max(attempt) FROM artifacts WHERE task_pk = %s) ORDER BY name"
)
LIST_ARTIFACTS_ATTEMPT = f"SELECT {ART_COLS} FROM artifacts WHERE task_pk = %s AND attempt = %s ORDER BY name"
GET_ARTIFACT_LATEST = (f"SELECT {ART_COLS} FROM artifacts WHERE task_pk = %s AND name = %s "
                       "ORDER BY attempt DESC LIMIT 1")
GET_ARTIFACT_ATTEMPT = f"SELECT {ART_COLS} FROM artifacts WHERE task_pk = %s AND name = %s AND attempt = %s"


async def list_metadata(cur: Cursor, task_pk: int) -> list[dict[str, Any]]:
    return await all_rows(cur, LIST_METADATA, (task_pk,))


async def filtered_task_ids(cur: Cursor, run_pk: int, step: str, field: str | None,
                            pattern: str | None) -> list[str]:
    rows = await all_rows(cur, FILTERED_TASKS, (run_pk, step, field, field, pattern, pattern))
    return [r["task_id"] for r in rows]


async def list_artifacts(cur: Cursor, task_pk: int, attempt: int | None) -> list[dict[str, Any]]:
    if attempt is None:
        return await all_rows(cur, LIST_ARTIFACTS_LATEST, (task_pk, task_pk))
    return await all_rows(cur, LIST_ARTIFACTS_ATTEMPT, (task_pk, attempt))


async def get_artifact(cur: Cursor, task_pk: int, name: str, attempt: int | None) -> dict[str, Any] | None:
    if attempt is None:
        rows = await all_rows(cur, GET_ARTIFACT_LATEST, (task_pk, name))
    else:
        rows = await all_rows(cur, GET_ARTIFACT_ATTEMPT, (task_pk, name, attempt))
    return rows[0] if rows else None
