"""Log chunk rows: which chunks hold a line range, the last line, every chunk of a log."""

from __future__ import annotations

from backend.db.query import Db, Row

KEY = "task_pk = %(task_pk)s AND attempt = %(attempt)s AND stream = %(stream)s"
CHUNK_COLUMNS = "seq, first_line, n_lines, n_bytes, first_ts, last_ts, location, change_seq"

LAST_LINE = f"""SELECT first_line + n_lines - 1 AS last_line FROM log_chunks
                WHERE {KEY} ORDER BY seq DESC LIMIT 1"""
# Start at the last chunk beginning at or before the first wanted line (one index probe),
# then read forward while chunks begin before the end of the range.
CHUNKS_FOR_RANGE = f"""
SELECT {CHUNK_COLUMNS} FROM log_chunks
WHERE {KEY} AND first_line < %(end)s
  AND first_line >= COALESCE((SELECT first_line FROM log_chunks WHERE {KEY} AND first_line <= %(start)s
                               ORDER BY first_line DESC LIMIT 1), 1)
ORDER BY first_line
"""
# The same, with the log's last line on every row: a page by from_line costs one round trip.
CHUNKS_FOR_RANGE_WITH_LAST = CHUNKS_FOR_RANGE.replace(
    f"SELECT {CHUNK_COLUMNS} FROM",
    f"SELECT {CHUNK_COLUMNS}, ({LAST_LINE}) AS last_line FROM", 1)
ALL_CHUNKS = f"SELECT {CHUNK_COLUMNS} FROM log_chunks WHERE {KEY} ORDER BY seq"
CHUNKS_CHANGED = f"""SELECT {CHUNK_COLUMNS}, task_pk, attempt, stream FROM log_chunks
                     WHERE {KEY} AND change_seq > %(since)s ORDER BY change_seq"""


def _key(task_pk: int, attempt: int, stream: str) -> dict[str, object]:
    return {"task_pk": task_pk, "attempt": attempt, "stream": stream}


async def last_line(db: Db, task_pk: int, attempt: int, stream: str) -> int:
    value = await db.scalar(LAST_LINE, _key(task_pk, attempt, stream))
    return int(value or 0)


LAST_CHUNK = f"""SELECT first_line + n_lines - 1 AS last_line, change_seq FROM log_chunks
                 WHERE {KEY} ORDER BY seq DESC LIMIT 1"""


async def last_line_and_seq(db: Db, task_pk: int, attempt: int, stream: str) -> tuple[int, int]:
    """The log's last line and its newest chunk's change_seq (0, 0 before the first chunk). One
    writer appends a stream's chunks in order, so every chunk of it at or below that seq is read."""
    row = await db.one(LAST_CHUNK, _key(task_pk, attempt, stream))
    return (0, 0) if row is None else (int(row["last_line"]), int(row["change_seq"]))


async def chunks_for_range(db: Db, task_pk: int, attempt: int, stream: str, start: int,
                           end: int) -> list[Row]:
    return await db.all(CHUNKS_FOR_RANGE, {**_key(task_pk, attempt, stream), "start": start, "end": end})


async def chunks_and_last_line(db: Db, task_pk: int, attempt: int, stream: str, start: int,
                               end: int) -> tuple[list[Row], int]:
    """chunks_for_range and last_line together (one statement, one snapshot)."""
    rows = await db.all(CHUNKS_FOR_RANGE_WITH_LAST, {**_key(task_pk, attempt, stream), "start": start, "end": end})
    if not rows:    # nothing in the range (past the end, or no log yet): the last line alone
        return rows, await last_line(db, task_pk, attempt, stream)
    return rows, int(rows[0]["last_line"] or 0)


async def all_chunks(db: Db, task_pk: int, attempt: int, stream: str) -> list[Row]:
    return await db.all(ALL_CHUNKS, _key(task_pk, attempt, stream))


async def chunks_changed(db: Db, task_pk: int, attempt: int, stream: str, since: int) -> list[Row]:
    return await db.all(CHUNKS_CHANGED, {**_key(task_pk, attempt, stream), "since": since})


# Where a Metaflow task's datastore lives: its own ds-root metadata, else any task's of the run
# (every task of a run writes to the same root; the _parameters task registers it first).
DS_ROOT = """
SELECT COALESCE(
  (SELECT value FROM metadata WHERE task_pk = %(task_pk)s AND field_name = 'ds-root' ORDER BY id DESC LIMIT 1),
  (SELECT value FROM metadata WHERE run_pk = %(run_pk)s AND field_name = 'ds-root' ORDER BY id DESC LIMIT 1))
"""


async def metaflow_ds_root(db: Db, run_pk: int, task_pk: int) -> str | None:
    value = await db.scalar(DS_ROOT, {"run_pk": run_pk, "task_pk": task_pk})
    return None if value is None else str(value)


# DS_ROOT for many tasks of one run at once (the run-wide search of a Metaflow run).
DS_ROOTS = """
SELECT t.task_pk, COALESCE(
  (SELECT value FROM metadata m WHERE m.task_pk = t.task_pk AND m.field_name = 'ds-root' ORDER BY m.id DESC LIMIT 1),
  (SELECT value FROM metadata m WHERE m.run_pk = %(run_pk)s AND m.field_name = 'ds-root' ORDER BY m.id DESC LIMIT 1))
  AS ds_root
FROM unnest(%(task_pks)s::bigint[]) AS t(task_pk)
"""


async def metaflow_ds_roots(db: Db, run_pk: int, task_pks: list[int]) -> dict[int, str]:
    rows = await db.all(DS_ROOTS, {"run_pk": run_pk, "task_pks": task_pks})
    return {int(r["task_pk"]): str(r["ds_root"]) for r in rows if r["ds_root"] is not None}
