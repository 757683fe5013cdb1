"""Parent tasks of a Metaflow task (``tasks.parent_task_ids``), derived like the Metaflow client.

Metaflow does not send a task's parents. Its client derives them from the DAG and each task's
``foreach-execution-path`` metadata (``"start:0,inner:2"``: step and index of every enclosing
foreach split); this does the same once, when the task's first attempt starts, which is when
every parent task has finished and registered its own path.
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


def derive_parents(dag: Any, step: str, own_path: str | None,
                   candidates: Iterable[tuple[str, str, str | None]]) -> list[str]:
    """``step/task_id`` of the parents of a task of ``step`` whose foreach path is ``own_path``.

    ``candidates`` are (step, task_id, foreach path) of the run's tasks in the parent steps;
    nothing is derivable without the DAG.
    """
    if step.startswith("_") or not isinstance(dag, dict) or not isinstance(dag.get("steps"), dict):
        return []
    parents = parent_steps(dag, step)
    if not parents:
        return []
    kind, want = parent_filter(dag, step, own_path or "", parents)
    wanted = set(parents)
    return [f"{s}/{t}" for s, t, path in sorted(candidates, key=lambda c: c[0])
            if s in wanted and matches(kind, want, path)]
