"""Flows, runs, steps and tasks as the metadata service sees them (runs with source='metaflow')."""

from __future__ import annotations

from typing import Any

from backend.ingest.db.pool import Cursor, all_rows, one

FLOW_COLS = "flow_id, created_at"
GET_FLOW = f"SELECT {FLOW_COLS} FROM flows WHERE flow_id = %s"
LIST_FLOWS = f"SELECT {FLOW_COLS} FROM flows ORDER BY flow_id"
INSERT_FLOW = (f"INSERT INTO flows (flow_id, created_at) VALUES (%s, %s) "
               f"ON CONFLICT DO NOTHING RETURNING {FLOW_COLS}")
# Shared with native runs of the same flow, so the two never hand out the same run id.
ALLOC_RUN_NUMBER = ("UPDATE flows SET last_run_number = last_run_number + 1, last_run_at = %s "
                    "WHERE flow_id = %s RETURNING last_run_number")
RUN_COLS = ("r.run_pk, r.flow_id, r.run_id, r.run_number, r.user_name, r.tags, r.system_tags, "
            "r.created_at, r.heartbeat_at, r.status, r.failed_step")
GET_RUN = f"SELECT {RUN_COLS} FROM runs r WHERE r.flow_id = %s AND r.run_id = %s AND r.source = 'metaflow'"
LIST_RUNS = (f"SELECT {RUN_COLS} FROM runs r WHERE r.flow_id = %s AND r.source = 'metaflow' "
             "ORDER BY r.created_at, r.run_pk")

STEP_COLS = "step_name, created_at"
# Steps whose name starts with "_" (Metaflow's _parameters) get no `steps` row: the UI lists
# steps from that table, and those are not steps a user ran. The metadata service still has to
# answer for them, so here they exist as soon as one of their tasks does.
INTERNAL_STEP = ("SELECT step_name, min(created_at) AS created_at FROM tasks t "
                 "WHERE t.run_pk = %s AND left(t.step_name, 1) = '_' {cond} GROUP BY step_name")
GET_STEP = (f"(SELECT {STEP_COLS} FROM steps WHERE run_pk = %s AND step_name = %s) UNION ALL ("
            + INTERNAL_STEP.format(cond="AND t.step_name = %s") + ") LIMIT 1")
LIST_STEPS = (f"SELECT {STEP_COLS} FROM steps WHERE run_pk = %s UNION ALL "
              + INTERNAL_STEP.format(cond="AND NOT EXISTS (SELECT 1 FROM steps s WHERE s.run_pk = t.run_pk "
                                          "AND s.step_name = t.step_name)")
              + " ORDER BY created_at, step_name")
INSERT_STEP = (f"INSERT INTO steps (run_pk, step_name, created_at) VALUES (%s, %s, %s) "
               f"ON CONFLICT DO NOTHING RETURNING {STEP_COLS}")

TASK_COLS = "t.task_pk, t.step_name, t.task_id, t.created_at AS task_created_at, " \
            "t.heartbeat_at AS task_heartbeat_at"
GET_TASK = (f"SELECT {TASK_COLS} FROM tasks t WHERE t.run_pk = %s AND t.step_name = %s "
            "AND t.task_id = %s")
LIST_TASKS = (f"SELECT {TASK_COLS} FROM tasks t WHERE t.run_pk = %s AND t.step_name = %s "
              "ORDER BY t.task_pk")
ALLOC_TASK_ID = "SELECT nextval('metaflow_task_id') AS id"


async def get_flow(cur: Cursor, flow: str) -> dict[str, Any] | None:
    return await one(cur, GET_FLOW, (flow,))


async def list_flows(cur: Cursor) -> list[dict[str, Any]]:
    return await all_rows(cur, LIST_FLOWS)


async def insert_flow(cur: Cursor, flow: str, ts: int) -> dict[str, Any] | None:
    return await one(cur, INSERT_FLOW, (flow, ts))


async def alloc_run_number(cur: Cursor, flow: str, ts: int) -> int | None:
    row = await one(cur, ALLOC_RUN_NUMBER, (ts, flow))
    return int(row["last_run_number"]) if row else None


async def get_run(cur: Cursor, flow: str, run_id: str) -> dict[str, Any] | None:
    return await one(cur, GET_RUN, (flow, run_id))


async def list_runs(cur: Cursor, flow: str) -> list[dict[str, Any]]:
    return await all_rows(cur, LIST_RUNS, (flow,))


async def get_step(cur: Cursor, run_pk: int, step: str) -> dict[str, Any] | None:
    return await one(cur, GET_STEP, (run_pk, step, run_pk, step))


async def list_steps(cur: Cursor, run_pk: int) -> list[dict[str, Any]]:
    return await all_rows(cur, LIST_STEPS, (run_pk, run_pk))


async def insert_step(cur: Cursor, run_pk: int, step: str, ts: int) -> dict[str, Any] | None:
    if step.startswith("_"):
        # no row (see INTERNAL_STEP); the client creates the step's task right after this
        return None if await get_step(cur, run_pk, step) else {"step_name": step, "created_at": ts}
    return await one(cur, INSERT_STEP, (run_pk, step, ts))


async def get_task(cur: Cursor, run_pk: int, step: str, task_id: str) -> dict[str, Any] | None:
    return await one(cur, GET_TASK, (run_pk, step, task_id))


async def list_tasks(cur: Cursor, run_pk: int, step: str) -> list[dict[str, Any]]:
    return await all_rows(cur, LIST_TASKS, (run_pk, step))


async def alloc_task_id(cur: Cursor) -> str:
    row = await one(cur, ALLOC_TASK_ID)
    assert row is not None
    return str(row["id"])
