"""Run-wide log search: the run's tasks that have log chunks, in batches, and their chunk rows."""

from __future__ import annotations

from collections.abc import Sequence

from backend.db.query import Db, Row

# Only tasks with at least one chunk to read (of the streams/attempt asked for): a run of
# 100,000 tasks where few print anything costs a few batches, not 200 of empty ones.
TASK_BATCH = """SELECT task_pk, step_name, task_id FROM tasks t
                WHERE run_pk = %(run_pk)s AND task_pk > %(after)s
                  AND (%(steps)s::text[] IS NULL OR step_name = ANY(%(steps)s))
                  AND (%(tasks)s::text[] IS NULL OR task_id = ANY(%(tasks)s))
                  AND EXISTS (SELECT 1 FROM log_chunks c WHERE c.task_pk = t.task_pk
                                AND (%(streams)s::text[] IS NULL OR c.stream = ANY(%(streams)s))
                                AND (%(attempt)s::int IS NULL OR c.attempt = %(attempt)s))
                ORDER BY task_pk LIMIT %(limit)s"""
CHUNKS_OF_TASKS = """SELECT task_pk, attempt, stream, seq, first_line, n_lines, n_bytes, location
                     FROM log_chunks WHERE task_pk = ANY(%(task_pks)s)
                       AND (%(streams)s::text[] IS NULL OR stream = ANY(%(streams)s))
                       AND (%(attempt)s::int IS NULL OR attempt = %(attempt)s)
                     ORDER BY task_pk, attempt, stream, seq"""


async def task_batch(db: Db, run_pk: int, after: int, steps: Sequence[str] | None, limit: int,
                     tasks: Sequence[str] | None = None, streams: Sequence[str] | None = None,
                     attempt: int | None = None) -> list[Row]:
    return await db.all(TASK_BATCH, {"run_pk": run_pk, "after": after, "limit": limit,
                                     "steps": list(steps) if steps else None,
                                     "tasks": list(tasks) if tasks else None,
                                     "streams": list(streams) if streams else None, "attempt": attempt})


async def chunks_of_tasks(db: Db, task_pks: Sequence[int], streams: Sequence[str] | None,
                          attempt: int | None = None) -> list[Row]:
    return await db.all(CHUNKS_OF_TASKS, {"task_pks": list(task_pks), "attempt": attempt,
                                          "streams": list(streams) if streams else None})


# Runs that Metaflow wrote have no log_chunks rows: their logs are files per attempt in Metaflow's
# datastore. Tasks with an attempt in scope may have one (Metaflow's _parameters task never does).
METAFLOW_TASK_BATCH = """SELECT task_pk, step_name, task_id FROM tasks t
                         WHERE run_pk = %(run_pk)s AND task_pk > %(after)s AND left(step_name, 1) <> '_'
                           AND (%(steps)s::text[] IS NULL OR step_name = ANY(%(steps)s))
                           AND (%(tasks)s::text[] IS NULL OR task_id = ANY(%(tasks)s))
                           AND EXISTS (SELECT 1 FROM attempts a WHERE a.task_pk = t.task_pk
                                         AND (%(attempt)s::int IS NULL OR a.attempt = %(attempt)s))
                         ORDER BY task_pk LIMIT %(limit)s"""


async def metaflow_task_batch(db: Db, run_pk: int, after: int, steps: Sequence[str] | None, limit: int,
                              tasks: Sequence[str] | None = None, attempt: int | None = None) -> list[Row]:
    return await db.all(METAFLOW_TASK_BATCH, {"run_pk": run_pk, "after": after, "limit": limit,
                                              "steps": list(steps) if steps else None,
                                              "tasks": list(tasks) if tasks else None, "attempt": attempt})
