"""A writer that counts the tasks it inserts (``StateStore.precount``, migration 0013) writes the
runs and steps rows the counting trigger would have written, and the trigger then adds nothing.

The same runs and tasks are flushed twice, into two flows: once counted by the trigger, once
counted by the store. Every column of their runs and steps rows must be equal: the counts by
status, "_"-steps not counted, a step named only by its tasks, a step without tasks, first start
and last finish with NULLs skipped. A later flush adding a task to the (now existing) run falls
back to the trigger. change_seq shows who wrote the counts: the trigger updates the run and the
steps after their tasks are inserted, the store writes them with their first version.
"""

from __future__ import annotations

from typing import Any

import aiopg
import psycopg2
import psycopg2.extras

from backend.ingest.db.pool import transaction
from backend.ingest.state.model import RunState, TaskState
from backend.ingest.state.store import StateStore

TASKS = (  # step, task id, status, created_at, started_at, finished_at
    ("start", "1", "completed", 101, 110, 120),
    ("train", "2", "running", 105, 130, None),
    ("train", "3", "failed", 104, 125, 140),
    ("train", "4", "pending", 106, None, None),
    ("only-tasks-name-it", "5", "completed", 107, None, 150),
    ("_parameters", "0", "completed", 100, 100, 100),
)


async def _first(pool: Any, flow: str, precount: bool) -> None:
    async with transaction(pool) as cur:
        store = StateStore(cur)
        store.precount = precount
        store.add_flow(flow, 90)
        run = RunState(flow_id=flow, run_id="1", run_number=1, created_at=100, started_at=100)
        store.add_run(run)
        for step, ts in (("start", 95), ("train", 96), ("empty", 97), ("end", 98)):
            store.add_step(run, step, ts)
        for step, task_id, status, created, started, finished in TASKS:
            store.add_task(TaskState(run=run, step_name=step, task_id=task_id, created_at=created, status=status,
                                     started_at=started, finished_at=finished))
        await store.flush()


async def _second(pool: Any, flow: str, precount: bool) -> None:
    """A task more, of a run that exists now."""
    async with transaction(pool) as cur:
        store = StateStore(cur)
        store.precount = precount
        old = await store.run(flow, "1")
        assert old is not None
        store.add_task(TaskState(run=old, step_name="train", task_id="6", created_at=103, status="running",
                                 started_at=121))
        await store.flush()


def _rows(pg_dsn: str, flow: str) -> dict[str, Any]:
    conn = psycopg2.connect(pg_dsn)
    try:
        with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute("SELECT run_pk, n_tasks, n_running, n_completed, n_failed, change_seq FROM runs "
                        "WHERE flow_id = %s", (flow,))
            run = dict(cur.fetchone())
            cur.execute("SELECT * FROM steps WHERE run_pk = %s ORDER BY step_name", (run["run_pk"],))
            steps = [dict(r) for r in cur.fetchall()]
            cur.execute("SELECT step_name, task_id, change_seq FROM tasks WHERE run_pk = %s", (run["run_pk"],))
            tasks = {(r["step_name"], r["task_id"]): r["change_seq"] for r in cur.fetchall()}
    finally:
        conn.close()
    return {"run": run, "steps": steps, "tasks": tasks}


def _plain(rows: dict[str, Any]) -> tuple[Any, ...]:
    cut = {"run_pk", "change_seq"}
    return ({k: v for k, v in rows["run"].items() if k not in cut},
            [{k: v for k, v in s.items() if k not in cut} for s in rows["steps"]])


async def test_counted_by_the_store_as_by_the_trigger(pg_dsn: str) -> None:
    pool = await aiopg.create_pool(pg_dsn, minsize=1, maxsize=1)
    first: dict[str, Any] = {}
    try:
        for flow, precount in (("CountedByTrigger", False), ("CountedByStore", True)):
            await _first(pool, flow, precount)
            first[flow] = _rows(pg_dsn, flow)
            await _second(pool, flow, precount)
    finally:
        pool.close()
        await pool.wait_closed()
    for rows in first.values():
        assert rows["run"]["n_tasks"] == 5
    assert _plain(first["CountedByStore"]) == _plain(first["CountedByTrigger"])
    by_trigger, by_store = _rows(pg_dsn, "CountedByTrigger"), _rows(pg_dsn, "CountedByStore")
    assert _plain(by_store) == _plain(by_trigger)
    run, steps = _plain(by_store)
    assert run == {"n_tasks": 6, "n_running": 2, "n_completed": 2, "n_failed": 1}
    got = {s["step_name"]: (s["created_at"], s["started_at"], s["finished_at"], s["n_tasks"], s["n_running"],
                            s["n_completed"], s["n_failed"]) for s in steps}
    assert got == {"empty": (97, None, None, 0, 0, 0, 0), "end": (98, None, None, 0, 0, 0, 0),
                   "only-tasks-name-it": (107, None, 150, 1, 0, 1, 0), "start": (95, 110, 120, 1, 0, 1, 0),
                   "train": (96, 121, 140, 4, 2, 0, 1)}
    # Who wrote the first flush's counts: the trigger updates the run and the counted steps after
    # the tasks' rows are in; the store wrote them with their first version, before the tasks.
    trig, mine = first["CountedByTrigger"], first["CountedByStore"]
    assert trig["run"]["change_seq"] > max(trig["tasks"].values())
    assert mine["run"]["change_seq"] < min(mine["tasks"].values())
    for s in mine["steps"]:
        assert s["change_seq"] < min(mine["tasks"].values()), s["step_name"]
    # The second flush's task (its run existed) was counted by the trigger, with the store's flag too.
    train = next(s for s in by_store["steps"] if s["step_name"] == "train")
    assert train["change_seq"] > by_store["tasks"][("train", "6")]
    assert by_store["run"]["change_seq"] > by_store["tasks"][("train", "6")]
