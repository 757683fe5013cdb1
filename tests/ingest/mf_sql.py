"""Reading what the ingest service wrote, straight from the Flowscope tables."""

from __future__ import annotations

from typing import Any


def q(db: Any, sql: str, *params: Any) -> list[dict[str, Any]]:
    with db.cursor() as cur:
        cur.execute(sql, params)
        cols = [c.name for c in cur.description]
        return [dict(zip(cols, row)) for row in cur.fetchall()]


def run_row(db: Any, flow: str, run_id: str) -> dict[str, Any]:
    rows = q(db, "SELECT * FROM runs WHERE flow_id = %s AND run_id = %s", flow, run_id)
    assert rows, f"no run {flow}/{run_id}"
    return rows[0]


def tasks_of(db: Any, run_pk: int) -> list[dict[str, Any]]:
    return q(db, "SELECT * FROM tasks WHERE run_pk = %s ORDER BY task_pk", run_pk)


def attempts_of(db: Any, run_pk: int) -> list[dict[str, Any]]:
    return q(db, "SELECT t.step_name, t.task_id, a.* FROM attempts a JOIN tasks t USING (task_pk) "
                 "WHERE a.run_pk = %s ORDER BY t.task_pk, a.attempt", run_pk)


def artifacts_of(db: Any, run_pk: int, step: str) -> dict[tuple[int, str], dict[str, Any]]:
    rows = q(db, "SELECT t.task_id, a.* FROM artifacts a JOIN tasks t USING (task_pk) "
                 "WHERE a.run_pk = %s AND t.step_name = %s", run_pk, step)
    return {(r["attempt"], r["name"]): r for r in rows}


def metadata_fields(db: Any, run_pk: int, step: str) -> list[dict[str, Any]]:
    return q(db, "SELECT t.task_id, m.* FROM metadata m JOIN tasks t USING (task_pk) "
                 "WHERE m.run_pk = %s AND t.step_name = %s ORDER BY m.id", run_pk, step)
