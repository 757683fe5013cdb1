"""/dag, /steps and /steps/{step} of a run: the static DAG joined with live per-step counts."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from backend.api import respond
from backend.api.lookup import live, run_not_found
from backend.cache.responses import cached_for_run
from backend.cache.run_rows import shared_run_row, sharing_run_rows
from backend.db import steps as steps_db
from backend.db.query import Db, Row
from backend.errors import not_found
from backend.keys import DB
from backend.resources.steps import dag_shape, graph_order, is_recursive, step_shape
from backend.routes import Route
from backend.sources import source_for


async def load_dag(request: web.Request, run: Row) -> dict[str, Any]:
    """The run's DAG from its source (cached there; {} while it is not known yet)."""
    return await source_for(request.app, run).dag(run)


async def run_and_steps(request: web.Request) -> tuple[Row, dict[str, Row] | None]:
    """The run of the path (404 if there is none) and its steps' rows.

    With the response cache on, the run comes from the shared lookup (the full row, shared by the
    run page's requests) and the rows are None (read by all_steps once the response cache has been
    checked); off, both come from one statement: one round trip instead of two.
    """
    if sharing_run_rows(request):
        return await shared_run_row(request), None
    found = await steps_db.run_and_steps(request.app[DB], live(request), request.match_info["flow"],
                                         request.match_info["run"])
    if found is None:
        raise run_not_found(request)
    return found


async def all_steps(db: Db, dag: dict[str, Any], run: Row, rows: dict[str, Row] | None = None) -> list[dict[str, Any]]:
    """Every step in graph order; ``rows``: the steps' rows when already read (else read here)."""
    if rows is None:
        rows = await steps_db.steps_of_run(db, run["run_pk"])
    infos = dag.get("steps") or {}
    names = graph_order(dag) + [n for n in rows if n not in infos]
    loops = [n for n in names if is_recursive(n, infos.get(n)) and n in rows]
    iterations = await steps_db.loop_iterations(db, run["run_pk"], loops) if loops else {}
    return [step_shape(n, infos.get(n), rows.get(n), bool(run["stale"]), run["status"], iterations.get(n))
            for n in names]


async def get_dag(request: web.Request) -> web.Response:
    run, rows = await run_and_steps(request)
    if (hit := cached_for_run(request, run)) is not None:
        return hit
    dag = await load_dag(request, run)
    data = dag_shape(dag, await all_steps(request.app[DB], dag, run, rows))
    return respond.one(request, data, immutable=run["status"] != "running" and not run["stale"])


async def list_steps(request: web.Request) -> web.Response:
    run, rows = await run_and_steps(request)
    if (hit := cached_for_run(request, run)) is not None:
        return hit
    dag = await load_dag(request, run)
    return respond.page(request, await all_steps(request.app[DB], dag, run, rows), None)


async def get_step(request: web.Request) -> web.Response:
    run, rows = await run_and_steps(request)
    if (hit := cached_for_run(request, run)) is not None:
        return hit
    dag = await load_dag(request, run)
    name = request.match_info["step"]
    for step in await all_steps(request.app[DB], dag, run, rows):
        if step["step_name"] == name:
            return respond.one(request, step)
    raise not_found(f"step {run['flow_id']}/{run['run_id']}/{name} not found")


ROUTES = [
    Route("/api/flows/{flow}/runs/{run}/dag", get_dag,
          "The run's DAG: steps in graph order with type, next, doc, decorators, line and task counts.",
          (), "object", "steps", operation="getDag", item="Dag", feed="steps"),
    Route("/api/flows/{flow}/runs/{run}/steps", list_steps, "Steps of the run in graph order.", (),
          "list", "steps", operation="listSteps", item="Step", feed="steps"),
    Route("/api/flows/{flow}/runs/{run}/steps/{step}", get_step, "One step.", (), "object", "steps",
          operation="getStep", item="Step", feed="steps"),
]
