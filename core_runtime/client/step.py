"""Step: the tasks of one step of a run."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from core_runtime.client import queries
from core_runtime.client.base import ClientObject, split_pathspec, to_datetime
from core_runtime.client.errors import FlowscopeNotFound
from core_runtime.client.task import Task

if TYPE_CHECKING:
    from core_runtime.client.run import Run

PAGE = 500


class Step(ClientObject):
    _kind = "Step"

    def __init__(self, pathspec: str | None = None, *, _namespace_check: bool = True,
                 _run: Run | None = None, _row: tuple[Any, ...] | None = None,
                 _current_metadata: str | None = None) -> None:
        if _run is None or _row is None:
            from core_runtime.client.run import Run

            flow, run_id, name = split_pathspec(pathspec or "", 3, "Step")
            _run = Run(f"{flow}/{run_id}", _namespace_check=_namespace_check,
                       _current_metadata=_current_metadata)
            rows = _run._src.query(queries.STEP, (_run._run_pk, name))
            if not rows:
                raise FlowscopeNotFound(f"step {flow}/{run_id}/{name} not found "
                                        f"(it has no tasks yet, or the flow has no such step)")
            _row = rows[0]
        self._run = _run
        self._src = _run._src
        (self.id, self._created, self._started, self._finished, self.n_tasks, self.n_completed,
         self.n_failed) = _row
        self.pathspec = f"{_run.pathspec}/{self.id}"
        self.tags = _run.tags

    @property
    def run(self) -> Run:
        return self._run

    @property
    def parent(self) -> Run:
        return self._run

    @property
    def created_at(self) -> datetime | None:
        return to_datetime(self._created)

    @property
    def finished_at(self) -> datetime | None:
        return to_datetime(self._finished)

    def __iter__(self) -> Iterator[Task]:
        """Tasks in creation order, fetched in pages (a step can have 100,000 tasks)."""
        after = -1
        while True:
            rows = self._src.query(queries.TASKS_PAGE, (self._run._run_pk, self.id, after, PAGE))
            for row in rows:
                yield Task(_step=self, _row=row)
            if len(rows) < PAGE:
                return
            after = rows[-1][0]

    @property
    def tasks(self) -> list[Task]:
        return list(self)

    @property
    def task(self) -> Task | None:
        """The first task: the only one for steps outside a foreach."""
        return next(iter(self), None)

    def __getitem__(self, task_id: str) -> Task:
        rows = self._src.query(queries.TASK, (self._run._run_pk, self.id, str(task_id)))
        if not rows:
            raise FlowscopeNotFound(f"task {self.pathspec}/{task_id} not found")
        return Task(_step=self, _row=rows[0])

    def __contains__(self, task_id: str) -> bool:
        return bool(self._src.query(queries.TASK, (self._run._run_pk, self.id, str(task_id))))
