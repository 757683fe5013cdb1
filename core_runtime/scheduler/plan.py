"""Plain data passed between the scheduler and its task processes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Record = dict[str, Any]        # an ArtifactRecord as a dict (name, sha, type, size, encoding, location, preview)
Frame = dict[str, Any]         # a foreach frame: {"step", "var", "num_splits", "index", "value"}


@dataclass
class Finished:
    """A completed task (run here or cloned from the origin run of a resume)."""

    step: str
    task_id: str
    task_pk: int
    records: dict[str, Record]
    stack: list[Frame]
    next: list[str]
    foreach_var: str | None = None
    num_splits: int = 0
    labels: list[str] = field(default_factory=list)
    iteration: list[int] = field(default_factory=list)   # see TaskPlan.iteration
    cloned: bool = False           # resume: copied from the origin run rather than run

    @property
    def path(self) -> str:
        return f"{self.step}/{self.task_id}"


@dataclass
class TaskPlan:
    """A task to run: its step, its parents and where it sits in the foreach nesting."""

    step: str
    parents: list[Finished]
    stack: list[Frame]
    is_join: bool = False
    # Which iteration of a recursive step this task is: [] outside a loop, [k] for the k-th
    # (0-based) run of the step in the loop (Metaflow's _iteration_stack).
    iteration: list[int] = field(default_factory=list)

    @property
    def index(self) -> int | None:
        # The innermost enclosing foreach (steps after a nested join see the outer one).
        return int(self.stack[-1]["index"]) if self.stack else None

    @property
    def foreach_value(self) -> str | None:
        if self.index is None:
            return None
        return str(self.stack[-1]["value"])

    def key(self) -> tuple[Any, ...]:
        """Where the task sits in the run: step, foreach indices, iteration (resume matches on it)."""
        return (self.step, tuple(int(f["index"]) for f in self.stack), tuple(self.iteration))


@dataclass
class ChildResult:
    """What a task process reports back (written as JSON to its result file)."""

    ok: bool
    records: list[Record] = field(default_factory=list)
    next: list[str] = field(default_factory=list)
    foreach_var: str | None = None
    num_splits: int = 0
    labels: list[str] = field(default_factory=list)
    exception_type: str | None = None
    exception_class: str | None = None     # qualified: builtins.ValueError, mymodule.MyError
    exception_message: str | None = None
    traceback: str | None = None
    cards: list[dict[str, Any]] = field(default_factory=list)
    caught: bool = False
    set_here: list[str] = field(default_factory=list)   # artifacts the step itself set (spin shows them)
