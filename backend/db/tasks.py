"""Tasks and their attempts: lookups, the keyset listing of a run's tasks, changes since a seq."""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from backend.db.liveness import reason_expr, status_expr, status_filter
from backend.db.query import Db, Row
from backend.db.runs import RUN_REF_NAMES, run_ref_columns
from backend.db.task_json import TASK_JSON
from backend.db.versioned import fill_json_tuples

if TYPE_CHECKING:
    from backend.cache.versions import JsonVersions

TASK_STATUSES = ("pending", "running", "completed", "failed")

TASK_COLUMNS = f"""
    t.task_pk, t.run_pk, r.flow_id, r.run_id, t.step_name, t.task_id,
    {status_expr('t')} AS status, {reason_expr('t')} AS status_reason, t.attempt,
    t.foreach_index, t.foreach_value, t.foreach_stack, t.iteration_stack, t.parent_task_ids, t.cloned_from,
    t.created_at, t.started_at, t.finished_at, t.duration_ms, t.heartbeat_at, t.change_seq
"""

_ATTEMPT_FIELDS = [
    ("a.task_pk", "task_pk"), ("a.attempt", "attempt"), (status_expr("a", False), "status"),
    (reason_expr("a", False), "status_reason"), ("a.started_at", "started_at"), ("a.finished_at", "finished_at"),
    ("a.duration_ms", "duration_ms"), ("a.heartbeat_at", "heartbeat_at"), ("a.exit_code", "exit_code"),
    ("a.exception_type", "exception_type"), ("a.exception_message", "exception_message"),
    ("a.traceback", "traceback"), ("a.change_seq", "change_seq")]
ATTEMPT_COLUMNS = ", ".join(f"{expr} AS {name}" for expr, name in _ATTEMPT_FIELDS)

GET_TASK = f"""
SELECT {TASK_COLUMNS} FROM tasks t JOIN runs r ON r.run_pk = t.run_pk
WHERE t.run_pk = %(run_pk)s AND t.step_name = %(step)s AND t.task_id = %(task)s
"""

ATTEMPTS_OF_TASKS = f"""
SELECT {ATTEMPT_COLUMNS} FROM attempts a WHERE a.task_pk = ANY(%(task_pks)s)
ORDER BY a.task_pk, a.attempt
"""

# {extra}: the subscription's own filters (step, task id, status), so a single-task feed reads
# one row, not a page of the whole run.
TASKS_CHANGED = f"""
SELECT {TASK_COLUMNS} FROM tasks t JOIN runs r ON r.run_pk = t.run_pk
WHERE t.run_pk = %(run_pk)s AND t.change_seq > %(since)s{{extra}} ORDER BY t.change_seq LIMIT %(limit)s
"""

# An attempt row changing (retry started, attempt finished) is an update of its task's shape.
TASKS_WITH_CHANGED_ATTEMPTS = f"""
SELECT {TASK_COLUMNS} FROM tasks t JOIN runs r ON r.run_pk = t.run_pk
WHERE t.task_pk IN (SELECT a.task_pk FROM attempts a
                    WHERE a.run_pk = %(run_pk)s AND a.change_seq > %(since)s
                      AND a.change_seq <= %(upto)s){{extra}}
"""
MAX_ATTEMPT_SEQ = """
SELECT a.task_pk, max(a.change_seq) AS seq FROM attempts a
WHERE a.run_pk = %(run_pk)s AND a.change_seq > %(since)s AND a.change_seq <= %(upto)s{task}
GROUP BY a.task_pk
"""
ONE_TASK = """ AND a.task_pk IN (SELECT t.task_pk FROM tasks t WHERE t.run_pk = %(run_pk)s
                                 AND t.step_name = ANY(%(steps)s) AND t.task_id = %(task_id)s)"""


async def get_task(db: Db, live: dict[str, Any], run_pk: int, step: str, task: str) -> Row | None:
    return await db.one(GET_TASK, {**live, "run_pk": run_pk, "step": step, "task": task}, generic=True)


def _task_page_where(run_match: str, params: dict[str, Any], steps: Sequence[str],
                     statuses: Sequence[str]) -> str:
    """A task page's conditions on ``t``: its run, past the cursor, listed steps only (Metaflow's
    _parameters pseudo-step, any _-prefixed step, is bookkeeping: never listed), the filters."""
    where = [run_match, "t.task_pk > %(after)s", "left(t.step_name, 1) <> '_'"]
    if steps:
        where.append("t.step_name = ANY(%(steps)s)")
        params["steps"] = list(steps)
    if statuses:
        where.append(status_filter("t", statuses))
    return " AND ".join(where)


async def list_tasks(db: Db, live: dict[str, Any], run_pk: int, steps: Sequence[str],
                     statuses: Sequence[str], after_pk: int | None, limit: int) -> tuple[list[Row], bool]:
    params: dict[str, Any] = {**live, "run_pk": run_pk, "after": after_pk or 0, "limit": limit + 1}
    where = _task_page_where("t.run_pk = %(run_pk)s", params, steps, statuses)
    sql = (f"SELECT {TASK_COLUMNS} FROM tasks t JOIN runs r ON r.run_pk = t.run_pk "
           f"WHERE {where} ORDER BY t.task_pk LIMIT %(limit)s")
    rows = await db.all(sql, params)
    return rows[:limit], len(rows) > limit


# A task's version: its row's change_seq and its attempts' newest (the JSON holds both); a task
# stored as running, or with an attempt stored as running, depends on the clock (lost heartbeats).
_TASK_VERSION = """LEFT JOIN LATERAL (SELECT max(a.change_seq) AS attempts_seq,
                                     coalesce(bool_or(a.status = 'running'), false) AS attempt_running
                              FROM attempts a WHERE a.task_pk = t.task_pk) v ON TRUE"""
TASK_KEY_COLUMNS = "t.task_pk, t.change_seq, v.attempts_seq, t.status = 'running' OR v.attempt_running AS running"
TASK_JSON_BY_PK = (f"SELECT t.task_pk, t.change_seq, v.attempts_seq, "
                   f"t.status = 'running' OR v.attempt_running AS running, {TASK_JSON} AS task_json "
                   f"FROM tasks t JOIN runs r ON r.run_pk = t.run_pk {_TASK_VERSION} "
                   "WHERE t.task_pk = ANY(%(keys)s)")


# A task's version, (change_seq, attempts_seq): the page's rows and TASK_JSON_BY_PK's both start
# (task_pk, change_seq, attempts_seq, running).
_task_version = itemgetter(1, 2)


async def _page_json(db: Db, live: dict[str, Any], rows: list[tuple[Any, ...]],
                     versions: JsonVersions) -> list[tuple[int, str]]:
    """(task_pk, its JSON) for each row of a TASK_KEY_COLUMNS page (plus the running tasks' JSON when
    the statement built it); a task gone between the two statements is left out."""
    texts = await fill_json_tuples(db, live, rows, versions, json_at=4 if rows and len(rows[0]) > 4 else None,
                                   running_at=3, version=_task_version, by_key_sql=TASK_JSON_BY_PK)
    return [(r[0], t) for r, t in zip(rows, texts) if t is not None]


async def list_task_page(db: Db, live: dict[str, Any], run_pk: int, steps: Sequence[str],
                         statuses: Sequence[str], after_pk: int | None, limit: int,
                         versions: JsonVersions | None = None,
                         run_live: bool = False) -> tuple[list[tuple[int, str]], bool]:
    """A page of tasks as (``task_pk`` for the cursor, the answer's JSON with the attempts), in one
    statement; whether more follow.

    One round trip (a task page was three with the run lookup and the attempts), and Python neither
    decodes nor re-encodes a row: Postgres builds each task's JSON (backend/db/task_json.py) for the
    page's rows only (the index scan on (run_pk, task_pk) stops at the LIMIT before it is built).
    ``versions``: task JSON held by version (backend/cache/versions.py); the statement then selects
    each task's key and version, and one more statement builds those not held or running.
    ``run_live``: the run is stored as running (live, or its heartbeat lost), so its tasks may be
    too: the statement then also builds the running tasks' JSON (one round trip, not two; planning
    the JSON expression costs ~0.1 ms more, which a finished run's page need not pay).
    Rows are read as plain tuples and split by position (Db.tuples), not a dict per row.
    """
    params: dict[str, Any] = {**live, "run_pk": run_pk, "after": after_pk or 0, "limit": limit + 1}
    where = _task_page_where("t.run_pk = %(run_pk)s", params, steps, statuses)
    if versions is None:
        sql = (f"SELECT t.task_pk, {TASK_JSON} AS task_json FROM tasks t JOIN runs r ON r.run_pk = t.run_pk "
               f"WHERE {where} ORDER BY t.task_pk LIMIT %(limit)s")
        pairs: list[tuple[int, str]] = await db.tuples(sql, params)
        return pairs[:limit], len(pairs) > limit
    # The page's rows first (the index scan stops at the LIMIT), then their versions.
    columns = TASK_KEY_COLUMNS
    if run_live:
        columns += f", CASE WHEN t.status = 'running' OR v.attempt_running THEN {TASK_JSON} END AS task_json"
    sql = (f"SELECT {columns} FROM (SELECT t.* FROM tasks t WHERE {where} "
           f"ORDER BY t.task_pk LIMIT %(limit)s) t JOIN runs r ON r.run_pk = t.run_pk {_TASK_VERSION} "
           "ORDER BY t.task_pk")
    rows = await db.tuples(sql, params)
    more = len(rows) > limit
    return await _page_json(db, live, rows[:limit], versions), more


async def run_and_task_page(db: Db, live: dict[str, Any], flow: str, run: str, steps: Sequence[str],
                            statuses: Sequence[str], after_pk: int | None, limit: int, versions: JsonVersions,
                            run_live: bool = False) -> tuple[Row, list[tuple[int, str]], bool] | None:
    """The run (RUN_REF's columns) and a page of its tasks as list_task_page gives it, in one statement
    (a run page's task list was two round trips: the run's lookup, then the page); None: no such run.

    ``run_live`` is only a guess here (the run is read by the same statement): it decides whether the
    statement builds the running tasks' JSON. A wrong guess costs time, never an answer: without it
    the running tasks' JSON is built by fill_json_tuples' second statement, as for any row not held.
    Read as plain tuples and split by position: RUN_REF's columns, then the page's (TASK_KEY_COLUMNS).
    """
    params: dict[str, Any] = {**live, "flow": flow, "run": run, "after": after_pk or 0, "limit": limit + 1}
    where = _task_page_where("t.run_pk = r.run_pk", params, steps, statuses)
    columns = TASK_KEY_COLUMNS
    if run_live:
        columns += f", CASE WHEN t.status = 'running' OR v.attempt_running THEN {TASK_JSON} END AS task_json"
    # A run without (matching) tasks is one row of NULL tasks (LEFT JOIN LATERAL), no run is no row.
    sql = (f"SELECT {run_ref_columns('r_')}, x.* FROM runs r LEFT JOIN LATERAL ("
           f"SELECT {columns} FROM (SELECT t.* FROM tasks t WHERE {where} "
           f"ORDER BY t.task_pk LIMIT %(limit)s) t {_TASK_VERSION}) x ON TRUE "
           "WHERE r.flow_id = %(flow)s AND r.run_id = %(run)s ORDER BY x.task_pk")
    # Unfiltered, the plan is the run by its key, then its tasks by (run_pk, task_pk) from the run's
    # row, whatever the values: planned once (generic). A step or status filter may pick another
    # index for some values, so it is planned for its own.
    rows = await db.tuples(sql, params, generic=not steps and not statuses)
    if not rows:
        return None
    n = len(RUN_REF_NAMES)
    ref = dict(zip(RUN_REF_NAMES, rows[0][:n]))
    tasks = [r[n:] for r in rows if r[n] is not None]
    more = len(tasks) > limit
    return ref, await _page_json(db, live, tasks[:limit], versions), more


async def attempts_of(db: Db, live: dict[str, Any], task_pks: Sequence[int]) -> dict[int, list[Row]]:
    out: dict[int, list[Row]] = {pk: [] for pk in task_pks}
    if not task_pks:
        return out
    for row in await db.all(ATTEMPTS_OF_TASKS, {**live, "task_pks": list(task_pks)}, generic=True):
        out[row["task_pk"]].append(row)
    return out


async def tasks_changed(db: Db, live: dict[str, Any], run_pk: int, since: int, limit: int, *,
                        steps: Sequence[str] = (), statuses: Sequence[str] = (),
                        task_id: str | None = None) -> tuple[list[Row], bool]:
    """Tasks of a run whose row or attempts changed after ``since``; seq = the latest of both.

    Returns (rows oldest first, complete). When the task rows hit ``limit`` the answer covers
    exactly the changes up to the last row's seq (attempt changes above it are left for the next
    call) and ``complete`` is False: the caller continues from the highest seq it got.
    """
    params: dict[str, Any] = {**live, "run_pk": run_pk, "since": since, "limit": limit,
                              "upto": 2 ** 62}
    where = []
    if steps:
        where.append("t.step_name = ANY(%(steps)s)")
        params["steps"] = list(steps)
    if task_id is not None:
        where.append("t.task_id = %(task_id)s")
        params["task_id"] = task_id
    if statuses:
        where.append(status_filter("t", statuses))
    extra = "".join(" AND " + w for w in where)
    task_rows = await db.all(TASKS_CHANGED.format(extra=extra), params)
    complete = len(task_rows) < limit
    if not complete:
        params["upto"] = task_rows[-1]["change_seq"]
    rows = {r["task_pk"]: r for r in task_rows}
    one_task = ONE_TASK if task_id is not None and steps else ""
    attempt_seq = {r["task_pk"]: r["seq"]
                   for r in await db.all(MAX_ATTEMPT_SEQ.format(task=one_task), params)}
    if any(pk not in rows for pk in attempt_seq):
        for r in await db.all(TASKS_WITH_CHANGED_ATTEMPTS.format(extra=extra), params):
            rows.setdefault(r["task_pk"], r)
    for pk, seq in attempt_seq.items():
        if pk in rows:
            rows[pk]["change_seq"] = max(rows[pk]["change_seq"], seq)
    return sorted(rows.values(), key=lambda r: r["change_seq"]), complete
