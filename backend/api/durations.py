"""/api/flows/{flow}/runs/{run}/durations: per-step duration distributions
(backend/resources/durations.py)."""

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
from backend.resources.durations import durations_shape
from backend.resources.steps import graph_order
from backend.routes import Route
from backend.sources import source_for


async def build_durations(app: web.Application, run: Row) -> dict[str, Any]:
    """A settled run's answer is kept in the triage cache, like its critical path."""
    key = ("durations", run["run_pk"], run["change_seq"]) if settled_run(run) else None
    if key is not None and (hit := app[TRIAGE].get(key)) is not None:
        return cast(dict[str, Any], hit)
    spans = await spans_db.task_spans(app[DB], live_params(app[SETTINGS]), run["run_pk"])
    data = durations_shape(run, spans, graph_order(await source_for(app, run).dag(run)))
    if key is not None:
        app[TRIAGE].put(key, data)
    return data


async def get_durations(request: web.Request) -> web.Response:
    run = await shared_run_row(request)
    if (hit := cached_for_run(request, run)) is not None:
        return hit
    data = await build_durations(request.app, run)
    return respond.one(request, data, immutable=run["status"] != "running" and not run["stale"]
                       and not run["n_running"])


ROUTES = [
    Route("/api/flows/{flow}/runs/{run}/durations", get_durations,
          "Per-step duration distributions: percentiles, histogram, outliers, queued time.",
          (), "object", "triage", operation="getRunDurations", item="RunDurations"),
]
