"""What the scheduler's loop keeps per run and per attempt: the run's setup, a queued task, a
running attempt with its pipes and log writers, and the exception that fails the run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core_runtime.scheduler.console import Console, LinePrinter
from core_runtime.scheduler.executor import Executor, TaskAttempt
from core_runtime.scheduler.plan import TaskPlan

# A step past its @timeout raises TimeoutException; one that does not stop is killed this much later.
TIMEOUT_GRACE_SECONDS = 5.0


@dataclass
class RunSetup:
    flow_cls: type
    graph: Any
    settings: Any
    store: Any                     # RunStore
    ds: Any                        # Datastore (parent side; children open their own)
    run: Any                       # RunRef
    username: str | None
    tags: list[str]
    run_values: dict[str, Any]
    max_workers: int
    console: Console
    origin_run_id: str | None = None
    cloner: Any = None             # resume: object with try_clone(plan) -> Finished | None
    environments: Any = None       # environments.StepEnvironments of @pypi/@conda steps, if any
    parameter_names: list[str] = field(default_factory=list)
    project: dict[str, Any] = field(default_factory=dict)
    graph_info: dict[str, Any] | None = None
    max_num_splits: int | None = None
    remote: Executor | None = None  # the distributed executor (Ray), when one is configured
    remote_all: str | None = None  # --with ray|kubernetes|batch: every step asks for the remote executor


@dataclass
class Queued:
    plan: TaskPlan
    task: Any = None               # TaskRef once created
    attempt: int = 0
    not_before: float = 0.0
    fallback: dict[str, Any] | None = None


@dataclass
class Running:
    q: Queued
    proc: TaskAttempt
    writers: dict[str, Any]
    printers: dict[str, LinePrinter]
    deadline: float | None
    open_fds: set[int] = field(default_factory=set)
    timed_out: float | None = None
    events: Any = None             # CardEvents: live card versions from the task


class RunFailed(Exception):
    def __init__(self, reason: str, step: str | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.step = step
