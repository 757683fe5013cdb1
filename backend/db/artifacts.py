"""Artifact records (from Postgres: the writer's preview; never the pickled value)."""

from __future__ import annotations

from backend.db.query import Db, Row

ARTIFACT_COLUMNS = "a.name, a.attempt, a.sha, a.type, a.size, a.encoding, a.location, a.preview, a.change_seq"
LATEST_ATTEMPT = "SELECT max(attempt) FROM artifacts WHERE task_pk = %(task_pk)s"
LIST_ARTIFACTS = f"""SELECT {ARTIFACT_COLUMNS} FROM artifacts a
                     WHERE a.task_pk = %(task_pk)s AND a.attempt = %(attempt)s ORDER BY a.name"""
GET_ARTIFACT = f"""SELECT {ARTIFACT_COLUMNS} FROM artifacts a
                   WHERE a.task_pk = %(task_pk)s AND a.attempt = %(attempt)s AND a.name = %(name)s"""
ARTIFACTS_CHANGED = f"""SELECT {ARTIFACT_COLUMNS}, a.task_pk FROM artifacts a
                        WHERE a.run_pk = %(run_pk)s AND a.task_pk = %(task_pk)s AND a.change_seq > %(since)s
                        ORDER BY a.change_seq"""


async def artifact_attempt(db: Db, task_pk: int, attempt: int | None) -> int | None:
    """The attempt asked for, else the latest attempt that recorded artifacts."""
    if attempt is not None:
        return attempt
    latest = await db.scalar(LATEST_ATTEMPT, {"task_pk": task_pk})
    return None if latest is None else int(latest)


async def list_artifacts(db: Db, task_pk: int, attempt: int) -> list[Row]:
    return await db.all(LIST_ARTIFACTS, {"task_pk": task_pk, "attempt": attempt})


async def get_artifact(db: Db, task_pk: int, attempt: int, name: str) -> Row | None:
    return await db.one(GET_ARTIFACT, {"task_pk": task_pk, "attempt": attempt, "name": name})

CARDS_CHANGED = """SELECT c.task_pk, c.attempt, c.card_id, c.type, c.location, c.size, c.created_at, c.change_seq,
                          c.data_location, c.final, c.updated_at
                   FROM cards c WHERE c.run_pk = %(run_pk)s AND c.task_pk = %(task_pk)s
                   AND c.change_seq > %(since)s
                   ORDER BY c.change_seq"""


async def artifacts_changed(db: Db, run_pk: int, task_pk: int, since: int) -> list[Row]:
    return await db.all(ARTIFACTS_CHANGED, {"run_pk": run_pk, "task_pk": task_pk, "since": since})


async def cards_changed(db: Db, run_pk: int, task_pk: int, since: int) -> list[Row]:
    return await db.all(CARDS_CHANGED, {"run_pk": run_pk, "task_pk": task_pk, "since": since})
