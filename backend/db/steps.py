"""Steps of a run: the per-step rows (time span and task counts kept by triggers) and the DAG."""

from __future__ import annotations

from typing import Any

from backend.db.query import Db, Row
from backend.db.runs import RUN_REF_NAMES, run_ref_columns

STEP_COLUMNS = """s.run_pk, s.step_name, s.created_at, s.started_at, s.finished_at, s.n_tasks,
                  s.n_running, s.n_completed, s.n_failed, s.change_seq"""
STEPS_OF_RUN = f"SELECT {STEP_COLUMNS} FROM steps s WHERE s.run_pk = %(run_pk)s"
STEPS_CHANGED = f"""SELECT {STEP_COLUMNS} FROM steps s
                    WHERE s.run_pk = %(run_pk)s AND s.change_seq > %(since)s ORDER BY s.change_seq"""
RUN_DAG = "SELECT dag FROM runs WHERE run_pk = %(run_pk)s"
# The most iterations a recursive step ran, over its foreach splits (index tasks_run_step).
LOOP_ITERATIONS = """SELECT t.step_name, max(t.iteration_stack[cardinality(t.iteration_stack)]) + 1 AS n
                     FROM tasks t WHERE t.run_pk = %(run_pk)s AND t.step_name = ANY(%(steps)s)
                     GROUP BY t.step_name"""


# The run (its RUN_REF columns) and its steps' rows in one round trip: a run without steps yet is
# one row of NULL steps (LEFT JOIN), no run is no row.
_STEP_NAMES = ("run_pk", "step_name", "created_at", "started_at", "finished_at", "n_tasks", "n_running",
               "n_completed", "n_failed", "change_seq")
RUN_AND_STEPS = (f"SELECT {run_ref_columns('r_')}, " + ", ".join(f"s.{c} AS {c}" for c in _STEP_NAMES)
                 + " FROM runs r LEFT JOIN steps s ON s.run_pk = r.run_pk"
                 " WHERE r.flow_id = %(flow)s AND r.run_id = %(run)s")


async def run_and_steps(db: Db, live: dict[str, Any], flow: str, run: str) -> tuple[Row, dict[str, Row]] | None:
    """The run's RUN_REF columns and its steps' rows by name (as steps_of_run); None: no such run.

    Read as plain tuples and split by position (RUN_REF's columns, then _STEP_NAMES'): one dict
    per step and one for the run, not a dict of every joined row first."""
    rows = await db.tuples(RUN_AND_STEPS, {**live, "flow": flow, "run": run}, generic=True)
    if not rows:
        return None
    n = len(RUN_REF_NAMES)
    steps = {r[n + 1]: dict(zip(_STEP_NAMES, r[n:])) for r in rows if r[n + 1] is not None}
    return dict(zip(RUN_REF_NAMES, rows[0][:n])), steps


async def steps_of_run(db: Db, run_pk: int) -> dict[str, Row]:
    return {r["step_name"]: r for r in await db.all(STEPS_OF_RUN, {"run_pk": run_pk}, generic=True)}


async def steps_changed(db: Db, run_pk: int, since: int) -> list[Row]:
    return await db.all(STEPS_CHANGED, {"run_pk": run_pk, "since": since})


async def run_dag(db: Db, run_pk: int) -> dict[str, Any] | None:
    dag = await db.scalar(RUN_DAG, {"run_pk": run_pk})
    return dag if isinstance(dag, dict) else None


# Metaflow keeps a run's DAG as the _graph_info artifact of its _parameters task.
GRAPH_INFO_ARTIFACT = """SELECT a.location, a.sha FROM tasks t JOIN artifacts a ON a.task_pk = t.task_pk
                         WHERE t.run_pk = %(run_pk)s AND t.step_name = '_parameters' AND a.name = '_graph_info'
                         ORDER BY a.attempt DESC LIMIT 1"""


async def graph_info_artifact(db: Db, run_pk: int) -> Row | None:
    return await db.one(GRAPH_INFO_ARTIFACT, {"run_pk": run_pk})


async def loop_iterations(db: Db, run_pk: int, steps: list[str]) -> dict[str, int]:
    rows = await db.all(LOOP_ITERATIONS, {"run_pk": run_pk, "steps": steps})
    return {r["step_name"]: int(r["n"]) for r in rows if r["n"] is not None}
