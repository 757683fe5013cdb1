"""Parent tasks of a Metaflow task (``tasks.parent_task_ids``), derived like the Metaflow client.

Metaflow does not send a task's parents. Its client derives them from the DAG and each task's
``foreach-execution-path`` metadata (``"start:0,inner:2"``: step and index of every enclosing
foreach split); this does the same once, when the task's first attempt starts, which is when
every parent task has finished and registered its own path.

Switches and recursive steps (Metaflow 2.19) make the DAG ambiguous: a step where two cases meet
lists both as parents, and a recursive step lists itself. A task that is not a join has exactly one
parent task, and it is the one that finished last before this task was made: the case that ran, the
previous iteration of the loop, or, after a loop, its last iteration. So a non-join task whose DAG
parents match several tasks takes the latest one created before it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

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


Candidate = tuple[str, str, str | None, int]   # step, task_id, foreach path, creation order


def derive_parents(dag: Any, step: str, own_path: str | None, candidates: Iterable[Candidate],
                   own_order: int) -> list[str]:
    """``step/task_id`` of the parents of a task of ``step`` whose foreach path is ``own_path``.

    ``candidates`` are (step, task_id, foreach path, creation order) of the run's tasks in the
    parent steps; ``own_order`` is the task's own creation order (task_pk, or its position among
    tasks not yet inserted). Nothing is derivable without the DAG.
    """
    if step.startswith("_") or not isinstance(dag, dict) or not isinstance(dag.get("steps"), dict):
        return []
    parents = parent_steps(dag, step)
    if not parents:
        return []
    kind, want = parent_filter(dag, step, own_path or "", parents)
    wanted = set(parents)
    found = sorted((c for c in candidates if c[0] in wanted and c[3] != own_order and matches(kind, want, c[2])),
                   key=lambda c: (c[0], c[3]))
    if len(found) > 1 and (dag["steps"].get(step) or {}).get("type") != "join":
        earlier = [c for c in found if c[3] < own_order]
        found = [max(earlier, key=lambda c: c[3])] if earlier else []
    return [f"{s}/{t}" for s, t, _path, _order in found]
