"""Flow (its runs, newest first, in the current namespace) and Metaflow (all flows)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from core_runtime.client import context, queries
from core_runtime.client.base import ClientObject, split_pathspec, to_datetime
from core_runtime.client.errors import FlowscopeNotFound
from core_runtime.client.namespace import get_namespace
from core_runtime.client.run import Run
from core_runtime.client.source import Source

PAGE = 100


class Flow(ClientObject):
    _kind = "Flow"

    def __init__(self, pathspec: str, *, _current_metadata: str | None = None,
                 _src: Source | None = None) -> None:
        (name,) = split_pathspec(pathspec, 1, "Flow")
        self._src = _src or context.source_for(_current_metadata)
        rows = self._src.query(queries.FLOW, (name,))
        if not rows:
            raise FlowscopeNotFound(f"flow {name} not found (no run of it has been recorded)")
        self.id, self._created, self._last_run = rows[0]
        self.pathspec = self.id
        self.tags: frozenset[str] = frozenset()     # flows carry no tags (runs do), as in Metaflow

    @property
    def created_at(self) -> datetime | None:
        return to_datetime(self._created)

    def runs(self, *tags: str, status: str | None = None) -> Iterator[Run]:
        """Runs in the current namespace (and with all ``tags``), newest first, paged by keyset."""
        wanted = set(tags)
        args = {"flow": self.id, "ns": get_namespace(), "status": status, "after_created": None,
                "after_pk": None, "limit": PAGE}
        while True:
            rows = self._src.query(queries.RUNS_PAGE, args)
            for row in rows:
                run = Run(_row=row, _namespace_check=False, _src=self._src)
                if wanted <= run.tags:
                    yield run
            if len(rows) < PAGE:
                return
            args.update(after_created=rows[-1][12], after_pk=rows[-1][0])

    def __iter__(self) -> Iterator[Run]:
        return self.runs()

    def __getitem__(self, run_id: str) -> Run:
        return Run(f"{self.id}/{run_id}", _src=self._src)

    @property
    def latest_run(self) -> Run | None:
        return next(self.runs(), None)

    @property
    def latest_successful_run(self) -> Run | None:
        return next(self.runs(status="completed"), None)


class Metaflow:
    """Entry point listing every flow (Metaflow's ``Metaflow().flows``)."""

    def __init__(self, _current_metadata: str | None = None) -> None:
        self._metadata = _current_metadata

    @property
    def flows(self) -> list[Flow]:
        src = context.source_for(self._metadata)
        return [Flow(row[0], _src=src) for row in src.query(queries.FLOWS)]

    def __iter__(self) -> Iterator[Flow]:
        return iter(self.flows)
