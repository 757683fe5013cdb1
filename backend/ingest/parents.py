"""Parent tasks of a Metaflow task (``tasks.parent_task_ids``), derived like the Metaflow client.

Metaflow does not send a task's parents. Its client derives them from the DAG and each task's
``foreach-execution-path`` metadata (``"start:0,inner:2"``: step and index of every enclosing
foreach split); this does the same once, when the task's first attempt starts, which is when
every parent task has finished and registered its own path.
"""

from __future__ import annotations

from typing import Any

from backend.ingest.db.pool import Cursor, all_rows, one

RUN_DAG = "SELECT dag FROM runs WHERE run_pk = %s"
TASK_PATH = ("SELECT value FROM metadata WHERE task_pk = %s AND field_name = 'foreach-execution-path' "
             "ORDER BY id DESC LIMIT 1")
CANDIDATES = (
    "SELECT t.step_name, t.task_id, (SELECT m.value FROM metadata m WHERE m.task_pk = t.task_pk "
    "AND m.field_name = 'foreach-execution-path' ORDER BY m.id DESC LIMIT 1) AS path "
    "FROM tasks t WHERE t.run_pk = %s AND t.step_name = ANY(%s) ORDER BY t.step_name, t.task_pk"
)
SET_PARENTS = "UPDATE tasks SET parent_task_ids = %s WHERE task_pk = %s AND parent_task_ids = '{}'"
SPLITS = ("split-foreach", "split-parallel")


def parent_steps(dag: dict[str, Any], step: str) -> list[str]:
    steps = dag.get("steps") or {}
    return sorted(name for name, node in steps.items()
                  if isinstance(node, dict) and step in (node.get("next") or []))


def parent_filter(dag: dict[str, Any], step: str, path: str, parents: list[str]) -> tuple[str, str | None]:
    """("any", None), ("exact", p) or ("under", p): which parent paths match (the client's rules)."""
    if len(parents) > 1 or not path:
        # a static join sees the branches at its own foreach depth; outside a foreach, all
        return ("exact", path) if len(parents) > 1 and path else ("any", None)
    node = dag["steps"].get(step) or {}
    if node.get("type") == "join":
        return "under", path + ","        # a foreach join: every task inside this iteration
    depth = len(path.split(","))
    parent_type = (dag["steps"].get(parents[0]) or {}).get("type")
    if parent_type in SPLITS:
        if depth == 1:
            return "any", None
        depth -= 1
    return "exact", ",".join(path.split(",")[:depth])


def matches(kind: str, want: str | None, path: str | None) -> bool:
    if kind == "any":
        return True
    have = path or ""
    return have == want if kind == "exact" else have.startswith(want or "")


async def fill_parents(cur: Cursor, task: dict[str, Any]) -> None:
    """Set ``parent_task_ids`` ("step/task_id") of a task that has none yet, if derivable."""
    step = task["step_name"]
    if step.startswith("_"):
        return
    row = await one(cur, RUN_DAG, (task["run_pk"],))
    dag = row["dag"] if row else None
    if not isinstance(dag, dict) or not isinstance(dag.get("steps"), dict):
        return
    parents = parent_steps(dag, step)
    if not parents:
        return
    own = await one(cur, TASK_PATH, (task["task_pk"],))
    kind, want = parent_filter(dag, step, own["value"] if own else "", parents)
    found = [f"{r['step_name']}/{r['task_id']}" for r in await all_rows(cur, CANDIDATES, (task["run_pk"], parents))
             if matches(kind, want, r["path"])]
    if found:
        await cur.execute(SET_PARENTS, (found, task["task_pk"]))
