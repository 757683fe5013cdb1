"""Where a run's logs, artifact values, cards and DAG are read from: one interface
(``base.RunSource``), one implementation per writer of runs (docs/architecture.md, "Sources").

Handlers look the run up, then ``source_for(app, run)`` and ask it; they never ask who wrote
the run. A new writer is a class with RunSource's methods, added to ``SOURCE_CLASSES`` under the
value it writes to ``runs.source``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from aiohttp import web

from backend.db.query import Row
from backend.errors import ApiError
from backend.keys import SOURCES
from backend.sources.base import RunSource
from backend.sources.metaflow import MetaflowSource
from backend.sources.native import NativeSource

SOURCE_CLASSES: Mapping[str, Callable[[web.Application], RunSource]] = {
    "native": NativeSource,
    "metaflow": MetaflowSource,
}


def install_sources(app: web.Application) -> None:
    """One instance of each source for the app (they read the app's pools and caches)."""
    app[SOURCES] = {name: make(app) for name, make in SOURCE_CLASSES.items()}


def source_for(app: web.Application, run: Row) -> RunSource:
    """The source that reads ``run``'s contents (from its ``source`` column)."""
    name = run["source"]
    sources: dict[str, RunSource] = app[SOURCES]
    source = sources.get(name)
    if source is None:
        raise ApiError(500, f"run {run['flow_id']}/{run['run_id']} was written by {name!r}, a source "
                            f"this server cannot read (it knows {', '.join(sorted(sources))})")
    return source


__all__ = ["SOURCE_CLASSES", "RunSource", "install_sources", "source_for"]
