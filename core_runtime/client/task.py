"""Task, its artifacts (DataArtifact, ``task.data``), logs and exception."""

from __future__ import annotations

import builtins
import re
from collections import namedtuple
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from core_runtime.artifacts import load_artifact
from core_runtime.client import queries
from core_runtime.client.base import ClientObject, TimedObject, live_status, split_pathspec, to_datetime
from core_runtime.client.errors import FlowscopeKeyNotFound, FlowscopeNotFound
from core_runtime.client.logs import log_lines, log_text
from core_runtime.exception import MetaflowExceptionWrapper

if TYPE_CHECKING:
    from core_runtime.client.run import Run
    from core_runtime.client.step import Step


# One metadata record of a task, as Metaflow's client gives them (``task.metadata``).
Metadata = namedtuple("Metadata", ["name", "value", "created_at", "type", "task"])


# Exceptions the runtime records without a traceback to read the class from: their classes.
_RUNTIME_EXCEPTIONS = {
    "TimeoutException": "core_runtime.plugins.timeout_decorator.TimeoutException",
    "ArtifactError": "core_runtime.artifacts.ArtifactError",
}


def qualified_type(name: str, traceback: str) -> str:
    """The exception class as Metaflow's stored exception names it (``module.Name``) from what an
    attempt recorded: the class's name (runs of pip metaflow recorded the qualified name without
    ``builtins.``) and the traceback, whose last line Python writes as ``module.Name: message`` but
    as a bare ``Name`` for the ``builtins`` and ``__main__`` modules (a flow file run as a script:
    ``__main__``), told apart by whether ``builtins`` has an exception class of that name."""
    if "." in name:
        return name
    pattern = re.compile(rf"^((?:[A-Za-z_][\w]*\.)*){re.escape(name)}(?::|$)")
    for line in reversed(traceback.splitlines()):
        found = pattern.match(line)
        if found and found.group(1):
            return found.group(1) + name
        if found:
            break
    else:
        if name in _RUNTIME_EXCEPTIONS:
            return _RUNTIME_EXCEPTIONS[name]
    builtin = getattr(builtins, name, None)
    if isinstance(builtin, type) and issubclass(builtin, BaseException):
        return f"builtins.{name}"
    return f"__main__.{name}"


class TaskException(MetaflowExceptionWrapper):
    """What a failed attempt raised, as Metaflow's client returns it (a ``MetaflowExceptionWrapper``):
    ``.type`` the class (``builtins.ValueError``, ``__main__.MyError``), ``.exception`` the message,
    ``.stacktrace`` the traceback, which is also its ``str()``; ``.message`` and ``.traceback`` too."""

    def __init__(self, type: str, message: str, traceback: str) -> None:
        super().__init__()
        self.type = type
        self.exception = message
        self.stacktrace = traceback or None

    @property
    def message(self) -> str:
        return str(self.exception)

    @property
    def traceback(self) -> str:
        return self.stacktrace or ""

    def __str__(self) -> str:
        return self.stacktrace or f"[no stacktrace]\n{self.type}: {self.exception}"

    __repr__ = __str__


class DataArtifact(ClientObject):
    _kind = "DataArtifact"

    def __init__(self, pathspec: str | None = None, *, _task: Task | None = None,
                 _row: tuple[Any, ...] | None = None, _current_metadata: str | None = None) -> None:
        if _task is None or _row is None:
            flow, run, step, task_id, name = split_pathspec(pathspec or "", 5, "DataArtifact")
            _task = Task(f"{flow}/{run}/{step}/{task_id}", _current_metadata=_current_metadata)
            found = _task._artifact_rows().get(name)
            if found is None:
                raise FlowscopeNotFound(f"artifact {name} not found in task {_task.pathspec}")
            _row = found
        self._task = _task
        (self.id, self.sha, self.type, self.size, self.encoding, self.location, self.preview,
         created_at, self.attempt) = _row
        self._created_ms = created_at
        self.pathspec = f"{_task.pathspec}/{self.id}"

    @property
    def data(self) -> Any:
        """The value, unpickled from the datastore (runs the unpickling in this process)."""
        return load_artifact(self._task._src.datastore(), self.location)

    @property
    def created_at(self) -> datetime | None:
        return to_datetime(self._created_ms)

    @property
    def task(self) -> Task:
        return self._task

    @property
    def tags(self) -> frozenset[str]:
        return self._task.tags


class TaskData:
    """``task.data.x``: artifact values by attribute, loaded on access."""

    def __init__(self, task: Task) -> None:
        self._task = task

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        rows = self._task._artifact_rows()
        if name not in rows:
            raise AttributeError(f"task {self._task.pathspec} has no artifact '{name}' "
                                 f"(artifacts: {', '.join(sorted(rows)) or 'none'})")
        return DataArtifact(_task=self._task, _row=rows[name]).data

    def __contains__(self, name: str) -> bool:
        return name in self._task._artifact_rows()

    def __dir__(self) -> list[str]:
        return sorted(self._task._artifact_rows())

    def __repr__(self) -> str:
        return f"<TaskData {', '.join(sorted(self._task._artifact_rows()))}>"


def _task_by_pathspec(pathspec: str) -> Task:
    return Task(pathspec, _namespace_check=False)


def _caught(reason: str | None) -> bool:
    """A completed task's reason says @catch took its exception: the runtime's, or the ingest's for a
    Metaflow-recorded run (backend/ingest/state/fold.py)."""
    if not reason:
        return False
    return reason == "exception caught by @catch" or reason.startswith("@catch caught")


class Task(TimedObject):
    _kind = "Task"

    def __init__(self, pathspec: str | None = None, *, _namespace_check: bool = True,
                 _step: Step | None = None, _row: tuple[Any, ...] | None = None,
                 _current_metadata: str | None = None, attempt: int | None = None) -> None:
        if _step is None or _row is None:
            from core_runtime.client.step import Step

            flow, run, step, task_id = split_pathspec(pathspec or "", 4, "Task")
            _step = Step(f"{flow}/{run}/{step}", _namespace_check=_namespace_check,
                         _current_metadata=_current_metadata)
            rows = _step._src.query(queries.TASK, (_step.run._run_pk, step, task_id))
            if not rows:
                raise FlowscopeNotFound(f"task {flow}/{run}/{step}/{task_id} not found")
            _row = rows[0]
        self._step = _step
        self._src = _step._src
        (self._task_pk, _name, self.id, status, reason, self.current_attempt, self.index, self.foreach_value,
         self.foreach_stack, parents, self.cloned_from, self._created, self._started, self._finished,
         heartbeat, iteration) = _row
        # Which iteration of a recursive step this task is ([] outside a loop), outermost first.
        self.iteration_stack: list[int] = list(iteration or [])
        self.parent_task_ids: list[str] = list(parents or [])
        self.status, self.status_reason = live_status(status, reason, heartbeat)
        self.pathspec = f"{_step.pathspec}/{self.id}"
        self._artifacts: dict[str, tuple[Any, ...]] | None = None
        self.tags = _step.run.tags
        self._pinned_attempt: int | None = None
        if attempt is not None:
            self._pin_attempt(attempt)

    def _pin_attempt(self, attempt: Any) -> None:
        """``Task(pathspec, attempt=N)`` as in Metaflow: the object reads attempt N — its status,
        times, artifacts, logs and exception — instead of the latest one."""
        latest = self.current_attempt
        if isinstance(attempt, bool) or not isinstance(attempt, int) or not 0 <= attempt <= latest:
            raise FlowscopeNotFound(f"task {self.pathspec} has no attempt {attempt!r} "
                                    f"(its attempts are 0 to {latest})")
        rows = self._src.query(queries.ATTEMPT, (self._task_pk, attempt))
        if not rows:
            raise FlowscopeNotFound(f"task {self.pathspec} has no attempt {attempt!r}")
        _a, status, reason, started, finished, *_rest = rows[0]
        self.current_attempt = attempt
        self.status, self.status_reason = status, reason
        self._started, self._finished = started, finished
        self._pinned_attempt = attempt

    def __reduce__(self) -> Any:
        # A Task stored as an artifact (``self.me = current.task``) is read back by pathspec.
        return (_task_by_pathspec, (self.pathspec,))

    # -- what Metaflow keeps for tasks that ran from a code package ------------------------------
    @property
    def code(self) -> None:
        """None, as for a task of a local Metaflow run: no code package is exposed here."""
        return None

    @property
    def environment_info(self) -> None:
        """None, as Metaflow gives for a task without a code package."""
        return None

    @property
    def runtime_name(self) -> str | None:
        """The runtime the task ran on, from the run's ``runtime:`` system tag (``flowscope``)."""
        for tag in sorted(self._step.run.system_tags):
            if tag.startswith("runtime:"):
                return tag.split(":", 1)[1]
        return None

    @property
    def successful(self) -> bool:
        """As Metaflow's: False for a task whose exception ``@catch`` caught (it finished and the run
        went on, but its step did not succeed: Metaflow records ``_success`` False), and for a task
        ``resume`` cloned from one."""
        if self.status != "completed":
            return False
        if _caught(self.status_reason):
            return False
        if self.cloned_from:
            try:
                return Task(self.cloned_from, _namespace_check=False).successful
            except FlowscopeNotFound:
                return True
        return True

    # -- place in the hierarchy ---------------------------------------------------------------
    @property
    def parent(self) -> Step:
        return self._step

    @property
    def origin_pathspec(self) -> str | None:
        """The task this one was cloned from by resume (None if it ran in this run)."""
        return self.cloned_from  # type: ignore[no-any-return]

    @property
    def parent_task_pathspecs(self) -> Iterator[str]:
        run = self._step.run.pathspec
        return (f"{run}/{p}" for p in self.parent_task_ids)

    @property
    def parent_tasks(self) -> Iterator[Task]:
        """The tasks whose outputs this task started from (the join's inputs, or the one before)."""
        return (Task(p, _namespace_check=False) for p in self.parent_task_pathspecs)

    @property
    def child_task_pathspecs(self) -> Iterator[str]:
        run = self._step.run
        me = f"{self._step.id}/{self.id}"
        rows = self._src.query(queries.CHILD_TASKS, (run._run_pk, me))
        return (f"{run.pathspec}/{step}/{task_id}" for step, task_id in rows)

    @property
    def child_tasks(self) -> Iterator[Task]:
        """The tasks that started from this task's outputs."""
        return (Task(p, _namespace_check=False) for p in self.child_task_pathspecs)

    @property
    def run(self) -> Run:
        return self._step.run

    # -- state ----------------------------------------------------------------------------------
    @property
    def finished(self) -> bool:
        """As Metaflow's (its ``_task_ok``): True once the step completed, a task whose exception
        ``@catch`` caught included; False for a failed task and while it runs."""
        return self.status == "completed"

    @property
    def finished_at(self) -> datetime | None:
        return to_datetime(self._finished)

    @property
    def exception(self) -> TaskException | None:
        """The exception of the latest attempt, if it raised one."""
        rows = self._src.query(queries.ATTEMPT, (self._task_pk, self.current_attempt))
        if not rows or rows[0][6] is None:
            return None
        _a, _s, _r, _st, _fi, _code, etype, emsg, tb = rows[0]
        return TaskException(type=qualified_type(etype, tb or ""), message=emsg or "", traceback=tb or "")

    # -- artifacts ------------------------------------------------------------------------------
    def _artifact_rows(self) -> dict[str, tuple[Any, ...]]:
        if self._artifacts is None or self.status not in ("completed", "failed"):
            rows = self._src.query(queries.ARTIFACTS, {"task": self._task_pk}) if self._pinned_attempt is None \
                else self._src.query(queries.ATTEMPT_ARTIFACTS, {"task": self._task_pk,
                                                                 "attempt": self._pinned_attempt})
            self._artifacts = {row[0]: row for row in rows}
        return self._artifacts

    @property
    def data(self) -> TaskData:
        return TaskData(self)

    @property
    def artifacts(self) -> list[DataArtifact]:
        return [DataArtifact(_task=self, _row=row) for row in self._artifact_rows().values()]

    def __getitem__(self, name: str) -> DataArtifact:
        rows = self._artifact_rows()
        if name not in rows:
            raise FlowscopeKeyNotFound(f"artifact {name} not found in task {self.pathspec}")
        return DataArtifact(_task=self, _row=rows[name])

    def __contains__(self, name: str) -> bool:
        return name in self._artifact_rows()

    def __iter__(self) -> Iterator[DataArtifact]:
        return iter(self.artifacts)

    # -- logs and metadata ----------------------------------------------------------------------
    @property
    def stdout(self) -> str:
        return log_text(self._src, self._task_pk, self.current_attempt, "stdout")

    @property
    def stderr(self) -> str:
        return log_text(self._src, self._task_pk, self.current_attempt, "stderr")

    def loglines(self, stream: str, attempt: int | None = None) -> list[tuple[datetime | None, str]]:
        """(time, text) per line of ``stdout`` or ``stderr`` of an attempt (default: the latest)."""
        if stream not in ("stdout", "stderr"):
            raise ValueError(f"stream must be 'stdout' or 'stderr', got {stream!r}")
        return log_lines(self._src, self._task_pk, self.current_attempt if attempt is None else attempt, stream)

    @property
    def metadata(self) -> list[Metadata]:
        """Every metadata record, oldest first."""
        return [Metadata(name, value, created, mtype, self)
                for name, value, mtype, _a, created in self._src.query(queries.METADATA, (self._task_pk, self._task_pk))]

    @property
    def metadata_dict(self) -> dict[str, str]:
        """Metadata field → value (the latest value of each field)."""
        return {name: value for name, value, _t, _a, _c in self._src.query(queries.METADATA, (self._task_pk, self._task_pk))}
