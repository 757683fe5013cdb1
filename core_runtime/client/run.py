"""Run: status, times, tags, parameters, its steps and the end step's data."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from core_runtime.client import context, queries
from core_runtime.client.base import TimedObject, check_namespace, live_status, split_pathspec, to_datetime
from core_runtime.client.errors import FlowscopeKeyNotFound, FlowscopeNotFound
from core_runtime.client.source import Source
from core_runtime.client.step import Step

if TYPE_CHECKING:
    from core_runtime.client.flow import Flow
    from core_runtime.client.task import Task, TaskData
    from core_runtime.events import Trigger


def _run_by_pathspec(pathspec: str) -> Run:
    return Run(pathspec, _namespace_check=False)


class Run(TimedObject):
    _kind = "Run"

    def __init__(self, pathspec: str | None = None, *, _namespace_check: bool = True,
                 _row: tuple[Any, ...] | None = None, _current_metadata: str | None = None,
                 _src: Source | None = None) -> None:
        self._src = _src or context.source_for(_current_metadata)
        if _row is None:
            flow, run_id = split_pathspec(pathspec or "", 2, "Run")
            rows = self._src.query(queries.RUN, (flow, run_id))
            if not rows:
                raise FlowscopeNotFound(f"run {flow}/{run_id} not found")
            _row = rows[0]
        (self._run_pk, self.flow_id, self.id, self.user, tags, system_tags, status, reason, self.failed_step,
         parameters, dag, self.origin_run_id, self._created, self._started, self._finished,
         heartbeat) = _row
        self.user_tags: frozenset[str] = frozenset(tags or [])
        self.system_tags: frozenset[str] = frozenset(system_tags or [])
        self.tags: frozenset[str] = self.user_tags | self.system_tags
        self.status, self.status_reason = live_status(status, reason, heartbeat)
        self.parameters: dict[str, Any] = dict(parameters or {})
        self.dag: dict[str, Any] | None = dag
        self.pathspec = f"{self.flow_id}/{self.id}"
        if _namespace_check:
            check_namespace(self.pathspec, self.tags)

    # -- tags (Metaflow's rules: client/tags.py) -------------------------------------------------------
    def add_tag(self, tag: str) -> None:
        """Add a user tag; a tag that is already a system tag is not added (no error)."""
        self.replace_tags([], [tag] if isinstance(tag, (str, bytes)) else tag)

    def add_tags(self, tags: Iterable[str]) -> None:
        self.replace_tags([], tags)

    def remove_tag(self, tag: str) -> None:
        """Remove a user tag; removing a system tag is an error, an absent tag a no-op."""
        self.replace_tags([tag] if isinstance(tag, (str, bytes)) else tag, [])

    def remove_tags(self, tags: Iterable[str]) -> None:
        self.replace_tags(tags, [])

    def replace_tag(self, tag_to_remove: str, tag_to_add: str) -> None:
        """Remove one tag and add another atomically (the removal first)."""
        self.replace_tags([tag_to_remove] if isinstance(tag_to_remove, (str, bytes)) else tag_to_remove,
                          [tag_to_add] if isinstance(tag_to_add, (str, bytes)) else tag_to_add)

    def replace_tags(self, tags_to_remove: Iterable[str], tags_to_add: Iterable[str]) -> None:
        from core_runtime.client.tags import tag_list

        remove = tag_list(tags_to_remove, "tags_to_remove")
        add = tag_list(tags_to_add, "tags_to_add")
        self.user_tags = self._src.mutate_run_tags(self.flow_id, self.id, remove, add)
        self.tags = self.user_tags | self.system_tags

    @property
    def parent(self) -> Flow:
        from core_runtime.client.flow import Flow

        return Flow(self.flow_id, _src=self._src)

    @property
    def end_step_name(self) -> str:
        return str((self.dag or {}).get("end_step") or "end")

    @property
    def start_step_name(self) -> str:
        return str((self.dag or {}).get("start_step") or "start")

    @property
    def trigger(self) -> Trigger | None:
        """The events that triggered this run, or None, as Metaflow's client derives it: the start
        task's ``execution-triggers`` metadata (a JSON list of events, which Metaflow's Argo
        Workflows deployments record; runs they made reach Flowscope through the ingest service or
        the mirror). None for a run no event started, which is every run core_runtime makes, as
        every local Metaflow run: ``--trigger`` sets only ``current.trigger``."""
        import json

        from core_runtime.events import Trigger

        start = self.start_step_name
        if start not in self:
            return None
        task = self[start].task
        meta = task.metadata_dict.get("execution-triggers") if task is not None else None
        if not meta:
            return None
        return Trigger(json.loads(meta))

    # -- state (Metaflow: a run is finished when its end step has finished) -----------------------
    @property
    def finished(self) -> bool:
        end = self.end_task
        return end is not None and end.finished

    @property
    def finished_at(self) -> datetime | None:
        """When the run ended (completed or failed); None while it runs."""
        return to_datetime(self._finished) if self.status != "running" else None

    # -- children -----------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Step]:
        """Steps, most recently started first (like Metaflow)."""
        for row in self._src.query(queries.STEPS, (self._run_pk,)):
            yield Step(_run=self, _row=row)

    def steps(self, *tags: str) -> Iterator[Step]:
        """Steps, most recently started first, those having every tag in ``tags``."""
        wanted = set(tags)
        return (s for s in self if wanted <= s.tags)

    @property
    def origin_pathspec(self) -> str | None:
        """``Flow/origin-run`` for a resumed run, else None."""
        return f"{self.flow_id}/{self.origin_run_id}" if self.origin_run_id else None

    def __reduce__(self) -> Any:
        return (_run_by_pathspec, (self.pathspec,))

    def __getitem__(self, name: str) -> Step:
        rows = self._src.query(queries.STEP, (self._run_pk, name))
        if not rows:
            raise FlowscopeKeyNotFound(f"step {self.pathspec}/{name} not found")
        return Step(_run=self, _row=rows[0])

    def __contains__(self, name: str) -> bool:
        return bool(self._src.query(queries.STEP, (self._run_pk, name)))

    @property
    def code(self) -> None:
        """None, as for a local Metaflow run (Metaflow packs code only when a step runs remotely);
        no code package is exposed here."""
        return None

    @property
    def end_task(self) -> Task | None:
        if self.end_step_name not in self:
            return None
        return self[self.end_step_name].task

    @property
    def data(self) -> TaskData | None:
        """Artifacts of the end step (None until the end step has run)."""
        end = self.end_task
        return end.data if end is not None else None
