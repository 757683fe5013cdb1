"""Handles the runtime keeps for the rows it writes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RunRef:
    run_pk: int
    flow_id: str
    run_id: str


@dataclass(frozen=True)
class TaskRef:
    task_pk: int
    run_pk: int
    step_name: str
    task_id: str


class StoreError(RuntimeError):
    """A write was refused for a reason a person can act on (e.g. the run id is taken)."""
