"""@parallel gangs: which gang a task belongs to, its workers, and the `current.parallel` a task sees.

A gang is the num_parallel tasks of one step under one foreach path; the first (index 0) is its
control task, as in Metaflow.
"""

from __future__ import annotations

from typing import Any

from core_runtime.current import Parallel
from core_runtime.scheduler.child import PARALLEL_VAR
from core_runtime.scheduler.plan import TaskPlan


def gang_of(plan: TaskPlan) -> tuple[Any, ...] | None:
    """The key of the @parallel gang a task belongs to (None outside one)."""
    if not plan.stack or plan.stack[-1]["var"] != PARALLEL_VAR:
        return None
    return (plan.step, tuple((f["step"], f["index"]) for f in plan.stack[:-1]))


def is_gang_worker(plan: TaskPlan) -> bool:
    """A task of a gang other than its control task."""
    return gang_of(plan) is not None and int(plan.stack[-1]["index"]) != 0


def parallel_of(plan: TaskPlan, task_id: str, control_tasks: dict[tuple[Any, ...], str]) -> Parallel | None:
    """``current.parallel`` for a gang's task (None outside one); ``control_tasks`` maps a gang to
    its control task's id, known once that task was created."""
    gang = gang_of(plan)
    if gang is None:
        return None
    top = plan.stack[-1]
    return Parallel("127.0.0.1", int(top["num_splits"]), int(top["index"]), control_tasks.get(gang, task_id))
