"""Flowscope's rows of one Metaflow run, in memory, while Metaflow's records are applied to them.

The translation (``fold.py``) changes these objects; the store (``store.py``) loads them from
Flowscope's database and writes back what changed. ``dirty`` names the columns to write; ``new``
rows are inserted whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class Tracked:
    """A row whose changed columns are remembered (``set`` marks a column only if it changes)."""

    dirty: set[str]
    new: bool

    def set(self, name: str, value: Any) -> None:
        if getattr(self, name) != value:
            setattr(self, name, value)
            self.dirty.add(name)


@dataclass(eq=False)
class MetadataRecord:
    """One metadatum as Metaflow registered it (``attempt`` from its ``attempt_id:N`` tag)."""

    field_name: str
    value: str
    type: str | None
    tags: list[str]
    attempt: int | None
    ts: int


@dataclass(eq=False)
class ArtifactRecord:
    """One artifact registration; ``type``/``size``/``preview`` come from the datastore."""

    name: str
    sha: str
    attempt: int
    root: str | None          # the ``:root:`` of the location (where data.json lives)
    location: str | None      # the full blob address
    encoding: str
    ts: int
    type: str | None = None
    size: int | None = None
    preview: str | None = None


@dataclass(eq=False)
class AttemptState(Tracked):
    attempt: int
    status: str
    started_at: int
    finished_at: int | None = None
    status_reason: str | None = None
    heartbeat_at: int | None = None
    exception_type: str | None = None
    exception_message: str | None = None
    traceback: str | None = None
    new: bool = True
    dirty: set[str] = field(default_factory=set)


@dataclass(eq=False)
class TaskState(Tracked):
    run: RunState
    step_name: str
    task_id: str
    created_at: int
    task_pk: int | None = None
    status: str = "pending"
    status_reason: str | None = None
    attempt: int = 0
    started_at: int | None = None
    finished_at: int | None = None
    heartbeat_at: int | None = None
    foreach_index: int | None = None
    foreach_value: str | None = None
    foreach_stack: list[dict[str, Any]] | None = None
    # [k] for the k-th iteration of a recursive step (Metaflow's _iteration_stack), [] elsewhere.
    iteration_stack: list[int] = field(default_factory=list)
    parent_task_ids: list[str] = field(default_factory=list)
    cloned_from: str | None = None
    # Not a column: the latest foreach-execution-path, which parent derivation matches on.
    foreach_path: str | None = None
    attempts: dict[int, AttemptState] = field(default_factory=dict)
    needs_parents: bool = False
    new: bool = True
    dirty: set[str] = field(default_factory=set)

    @property
    def internal(self) -> bool:
        """Metaflow's ``_parameters`` (and any ``_`` step): stored, but not a step a user ran."""
        return self.step_name.startswith("_")


@dataclass(eq=False)
class RunState(Tracked):
    flow_id: str
    run_id: str
    created_at: int
    run_pk: int | None = None
    run_number: int | None = None
    user_name: str | None = None
    tags: list[str] = field(default_factory=list)
    system_tags: list[str] = field(default_factory=list)
    status: str = "running"
    status_reason: str | None = None
    failed_step: str | None = None
    started_at: int | None = None
    finished_at: int | None = None
    heartbeat_at: int | None = None
    origin_run_id: str | None = None
    dag: dict[str, Any] | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    # Not a column: the end step named by the _parameters task's ``end_step`` metadata.
    end_step_meta: str | None = None
    # True when every task of the run is in memory (a run created in this batch): parent
    # derivation then needs no query.
    complete_in_memory: bool = False
    new: bool = True
    dirty: set[str] = field(default_factory=set)

    @property
    def end_step(self) -> str:
        dag_end = self.dag.get("end_step") if isinstance(self.dag, dict) else None
        return dag_end if isinstance(dag_end, str) else (self.end_step_meta or "end")

    def decorators(self, step: str) -> Any:
        steps = self.dag.get("steps") if isinstance(self.dag, dict) else None
        node = steps.get(step) if isinstance(steps, dict) else None
        return node.get("decorators") if isinstance(node, dict) else None
