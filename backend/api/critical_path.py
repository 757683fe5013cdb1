"""/api/flows/{flow}/runs/{run}/critical-path: where the run's time went
(backend/resources/critical_path.py)."""

from __future__ import annotations

from typing import Any, cast

from aiohttp import web

from backend.api import respond
from backend.cache.responses import cached_for_run, settled_run
from backend.cache.run_rows import shared_run_row
from backend.db import task_spans as spans_db
from backend.db.liveness import live_params
from backend.db.query import Row
from backend.keys import DB, SETTINGS, TRIAGE
from backend.resources.critical_path import critical_path_shape
from backend.routes import Route


async def build_critical_path(app: web.Application, run: Row) -> dict[str, Any]:
    """Computed from every task of the run; a settled run's answer is kept in the triage cache
    (a few hundred bytes, where the 100,000 spans behind it would be tens of megabytes)."""
    key = ("critical-path", run["run_pk"], run["change_seq"]) if settled_run(run) else None
    if key is not None and (hit := app[TRIAGE].get(key)) is not None:
        return cast(dict[str, Any], hit)
    params = live_params(app[SETTINGS])
    spans = await spans_db.task_spans(app[DB], params, run["run_pk"])
    data = critical_path_shape(run, spans, int(params["now"]))
    if key is not None:
        app[TRIAGE].put(key, data)
    return data


async def get_critical_path(request: web.Request) -> web.Response:
    run = await shared_run_row(request)
    if (hit := cached_for_run(request, run)) is not None:
        return hit
    data = await build_critical_path(request.app, run)
    return respond.one(request, data, immutable=run["status"] != "running" and not run["stale"]
                       and not run["n_running"])


ROUTES = [
    Route("/api/flows/{flow}/runs/{run}/critical-path", get_critical_path,
          "The critical path (the chain of tasks with the largest total running time), queued time "
          "along it, per step on the path, and the run's idle gaps.",
          (), "object", "triage", operation="getCriticalPath", item="CriticalPath"),
]
