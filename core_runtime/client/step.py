"""Step: the tasks of one step of a run."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from core_runtime.client import queries
from core_runtime.client.base import ClientObject, split_pathspec, to_datetime
from core_runtime.client.errors import FlowscopeKeyNotFound, FlowscopeNotFound
from core_runtime.client.task import Task

if TYPE_CHECKING:
    from core_runtime.client.run import Run

PAGE = 500


def _step_by_pathspec(pathspec: str) -> Step:
    return Step(pathspec, _namespace_check=False)


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

    def tasks(self, *tags: str) -> Iterator[Task]:
        """Tasks in creation order, those having every tag in ``tags``."""
        wanted = set(tags)
        return (t for t in self if wanted <= t.tags)

    def control_tasks(self, *tags: str) -> Iterator[Task]:
        """The control task of each @parallel gang of this step."""
        return (t for t in self.tasks(*tags)
                if t.metadata_dict.get("internal_task_type") == "control_task")

    @property
    def origin_pathspec(self) -> str | None:
        """``Flow/origin-run/step`` for a step of a resumed run, else None."""
        origin = self._run.origin_run_id
        return f"{self._run.flow_id}/{origin}/{self.id}" if origin else None

    @property
    def child_steps(self) -> list[Step]:
        """Steps that run after this one (from the run's recorded DAG), those with tasks."""
        dag = (self._run.dag or {}).get("steps", {})
        names = list((dag.get(self.id) or {}).get("next", []))
        return [self._run[n] for n in names if n in self._run]

    @property
    def parent_steps(self) -> list[Step]:
        dag = (self._run.dag or {}).get("steps", {})
        names = [n for n, info in dag.items() if self.id in (info.get("next") or [])]
        return [self._run[n] for n in names if n in self._run]

    def __reduce__(self) -> Any:
        return (_step_by_pathspec, (self.pathspec,))

    @property
    def environment_info(self) -> None:
        """None, as Metaflow gives for a step whose tasks have no code package."""
        return None

    @property
    def task(self) -> Task | None:
        """The first task: the only one for steps outside a foreach."""
        return next(iter(self), None)

    def __getitem__(self, task_id: str) -> Task:
        rows = self._src.query(queries.TASK, (self._run._run_pk, self.id, str(task_id)))
        if not rows:
            raise FlowscopeKeyNotFound(f"task {self.pathspec}/{task_id} not found")
        return Task(_step=self, _row=rows[0])

    def __contains__(self, task_id: str) -> bool:
        return bool(self._src.query(queries.TASK, (self._run._run_pk, self.id, str(task_id))))
