"""``current.trigger``: what started a run (``metaflow.events``), and ``--trigger``, the local
stand-in for the runs that finished before it, which ``@trigger_on_finish`` adds to the command line.

As in Metaflow 2.19, ``python flow.py --trigger TrainFlow/12 run`` (several ``--trigger`` options
for ``@trigger_on_finish(flows=[...])``; or ``METAFLOW_TRIGGER``) checks each pathspec names a
successful run and makes ``current.trigger`` a ``Trigger`` of those runs, newest first: ``.run``,
``.runs``, ``.event`` / ``.events`` (``metaflow.<Flow>.<end step>``), ``trigger["TrainFlow"]``.
Without the option a local run has no ``current.trigger``, as in Metaflow.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, NamedTuple

from core_runtime.exception import MetaflowException


class MetaflowEvent(NamedTuple):
    """The event that triggered a run: its name, id, time and type (``event`` or ``run``)."""

    name: str
    id: str
    timestamp: Any
    type: str


class Trigger:
    """The events (or finished runs) that triggered the current run, newest first."""

    def __init__(self, _meta: list[dict[str, Any]] | None = None) -> None:
        meta = list(_meta or [])
        meta.sort(key=_sort_time, reverse=True)
        self._runs: list[Any] | None = None
        self._events = [MetaflowEvent(**{**m, **({"timestamp": datetime.fromtimestamp(m["timestamp"])}
                                               if isinstance(m.get("timestamp"), int) else {})})
                        for m in meta]

    @classmethod
    def from_runs(cls, run_objs: list[Any]) -> Trigger:
        run_objs = sorted(run_objs, key=lambda r: r.finished_at, reverse=True)
        runs, meta = [], []
        for run in run_objs:
            end_task = run.end_task
            if end_task is None:
                continue
            runs.append(run)
            flow, end_step = run.path_components[0], end_task.path_components[2]
            meta.append({"type": "run", "timestamp": run.finished_at, "name": f"metaflow.{flow}.{end_step}",
                         "id": end_task.pathspec})
            if end_step != "end":
                meta.append({"type": "run", "timestamp": run.finished_at, "name": f"metaflow.{flow}.end",
                             "id": end_task.pathspec})
        trigger = cls(meta)
        trigger._runs = runs
        return trigger

    @property
    def event(self) -> MetaflowEvent | None:
        return next(iter(self._events), None)

    @property
    def events(self) -> list[MetaflowEvent] | None:
        return list(self._events) or None

    @property
    def run(self) -> Any:
        """The newest triggering run (a client ``Run``), or None."""
        return next(iter(self.runs or []), None)

    @property
    def runs(self) -> list[Any] | None:
        if self._runs is None:
            from core_runtime.client import Run

            self._runs = [Run("/".join(e.id.split("/")[:2]), _namespace_check=False)
                          for e in self._events if e.type == "run"]
        return list(self._runs) or None

    def __getitem__(self, key: str) -> Any:
        """The triggering run of flow ``key``, or (for events) the event named ``key``."""
        if self.runs:
            for run in self.runs:
                if run.path_components[0] == key:
                    return run
        elif self.events:
            for event in self.events:
                if event.name == key:
                    return event
        raise KeyError(key)

    def __iter__(self) -> Iterator[MetaflowEvent]:
        return iter(self.events or [])

    def __contains__(self, ident: str) -> bool:
        try:
            return bool(self[ident])
        except KeyError:
            return False


def _sort_time(meta: dict[str, Any]) -> float:
    ts = meta.get("timestamp")
    if isinstance(ts, datetime):
        return ts.timestamp()
    return float(ts) if ts is not None else float("-inf")


def trigger_from_options(pathspecs: list[str]) -> Trigger | None:
    """The ``Trigger`` of the runs ``--trigger`` names, after Metaflow's checks (a ``flow/run``
    pathspec of a successful run); None when the option was not given."""
    if not pathspecs:
        return None
    from core_runtime.client import Run

    runs = []
    for pathspec in pathspecs:
        if len(pathspec.split("/")) != 2:
            raise MetaflowException("Incorrect format for run pathspec for *--trigger*. "
                                    "Supported format is flow_name/run_id.")
        run = Run(pathspec, _namespace_check=False)
        if not run.successful:
            raise MetaflowException("*--trigger* does not support runs that are not successful yet.")
        runs.append(run)
    return Trigger.from_runs(runs)
