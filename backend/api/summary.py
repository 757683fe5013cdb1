"""/api/flows/{flow}/runs/{run}/summary (?format=md): the run in one call for agents and notebooks
(backend/resources/summary.py). Its parts are the triage resources' own answers, built at once."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from backend.api import respond
from backend.api.critical_path import build_critical_path
from backend.api.digest import build_digest
from backend.api.durations import build_durations
from backend.api.explain import build_run_explanation
from backend.api.lookup import run_row
from backend.db import summary as summary_db
from backend.db.query import Row
from backend.keys import DB
from backend.params import get_choice
from backend.resources.runs import run_object
from backend.resources.summary import TOP_GROUPS, TOP_STEPS, links, markdown
from backend.routes import Param, Route


async def build_summary(app: web.Application, run: Row, base: str) -> dict[str, Any]:
    why, digest, durations, path, last_good = await asyncio.gather(
        build_run_explanation(app, run), build_digest(app, run), build_durations(app, run),
        build_critical_path(app, run),
        summary_db.last_good_run(app[DB], run["flow_id"], run["created_at"], run["run_pk"]))
    digest["groups"] = digest["groups"][:TOP_GROUPS]
    slowest = sorted(durations["steps"], key=lambda s: -(s["wall_ms"] if s["wall_ms"] is not None
                                                          else s["max_ms"] or 0))[:TOP_STEPS]
    return {"run": run_object(run), "status": why, "failures": digest, "slowest_steps": slowest,
            "critical_path": path, "last_good_run": last_good,
            "links": links(base, run, last_good, digest["groups"])}


async def get_summary(request: web.Request) -> web.Response:
    fmt = get_choice(request.query, "format", ("json", "md"), "json")
    run = await run_row(request, with_json=True)   # the summary shows the run's own JSON
    data = await build_summary(request.app, run, str(request.url.origin()))
    if fmt == "md":
        return web.Response(text=markdown(data), content_type="text/markdown", charset="utf-8",
                            headers={"Cache-Control": "no-cache"})
    return respond.one(request, data)


ROUTES = [
    Route("/api/flows/{flow}/runs/{run}/summary", get_summary,
          "The run in one call: status and why, the failure digest, the slowest steps, the critical path, "
          "the last successful run before it and links to every view (format=md: the same as Markdown).",
          (Param("format", "json (default) or md (text/markdown).", enum=("json", "md")),),
          "object", "triage", operation="getRunSummary", item="RunSummary"),
]
