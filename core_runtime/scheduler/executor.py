"""The executor seam: launch, observe and kill one task attempt.

The runner decides *what* runs (transitions, retries, @catch, timeouts, recording); an executor
decides *where*: ``LocalExecutor`` forks a process on this machine (the default), ``RayExecutor``
runs the same task process on a node of a Ray cluster. Both hand back a ``TaskAttempt`` whose
stdout/stderr are pipes the runner's selector reads, so logs, console lines and the log store work
the same whichever executor ran the task.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from core_runtime.compute import ComputeRequest
from core_runtime.scheduler.child import TaskContext
from core_runtime.scheduler.plan import ChildResult, TaskPlan


@dataclass
class AttemptSpec:
    """Everything one attempt needs, whichever executor runs it."""

    ctx: TaskContext
    plan: TaskPlan
    settings: Any
    request: ComputeRequest
    key: str                     # "<task_pk>.<attempt>": unique within the run


@dataclass
class AttemptEnd:
    """How an attempt ended, as the runner records it."""

    exit_code: int | None
    how: str                     # "exited with code 1", "killed by SIGKILL", ...
    result: ChildResult | None
    # Set when the infrastructure, not the task, ended the attempt ("node lost: …"); it is the
    # attempt's reason as it stands.
    lost: str | None = None


@dataclass
class Placement:
    """Where an attempt runs: recorded as the attempt's metadata (type "executor")."""

    executor: str                # "local" | "ray"
    host: str
    node_id: str | None = None
    pid: int | None = None
    resources: dict[str, float] = field(default_factory=dict)

    def metadata(self, attempt: int) -> list[tuple[str, str, str, int | None]]:
        import json

        out: list[tuple[str, str, str, int | None]] = [("executor", self.executor, "executor", attempt),
                                                       ("host", self.host, "executor", attempt)]
        if self.node_id:
            out.append(("node-id", self.node_id, "executor", attempt))
        if self.resources:
            out.append(("node-resources", json.dumps(self.resources, sort_keys=True), "executor", attempt))
        return out


class TaskAttempt(Protocol):
    @property
    def key(self) -> int:
        """Unique among the running attempts (the pid for local processes)."""
        ...

    @property
    def pid(self) -> int | None:
        """The task process's pid, shown on console lines; None until known."""
        ...

    @property
    def stdout_fd(self) -> int: ...

    @property
    def stderr_fd(self) -> int: ...

    @property
    def events_fd(self) -> int | None:
        """The task's own events pipe (live card versions, JSON lines); None where the executor
        has none (Ray: cards then appear when the attempt ends)."""
        ...

    @property
    def event_fd(self) -> int | None:
        """Readable when something happened (placement, end); None: the runner polls collect()."""
        ...

    @property
    def started(self) -> float:
        """time.monotonic() at launch."""
        ...

    def on_event(self) -> bool:
        """Consume what made event_fd readable; True once the attempt has ended."""
        ...

    def take_placement(self) -> Placement | None:
        """The attempt's placement once it is known, returned once."""
        ...

    def collect(self, block: bool) -> AttemptEnd | None:
        """How it ended (None: still running and block is False)."""
        ...

    def close(self) -> None:
        """Release event_fd once the attempt has ended and the runner has unregistered it.

        Never before: forked tasks hold copies of the scheduler's fds, so a closed-but-registered
        fd stays in epoll and would report its events under a number a new attempt may reuse.
        """
        ...

    def kill(self) -> None:
        ...


class Executor(Protocol):
    name: str

    def launch(self, spec: AttemptSpec) -> TaskAttempt:
        ...

    def health(self) -> str | None:
        """None while tasks can run; else why the executor can no longer run any."""
        ...

    def close(self) -> None:
        ...
