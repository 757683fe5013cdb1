"""/dag, /steps and /steps/{step} of a run: the static DAG joined with live per-step counts."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from backend.api import respond
from backend.cache.responses import cached_for_run
from backend.cache.run_rows import shared_run_row
from backend.db import steps as steps_db
from backend.db.query import Db, Row
from backend.errors import not_found
from backend.keys import DB
from backend.routes import Route
from backend.sources import source_for


def graph_order(dag: dict[str, Any]) -> list[str]:
    """Steps from start, each after its parents (Kahn's algorithm), ties in source order."""
    steps: dict[str, Any] = dag.get("steps") or {}
    indegree = {name: 0 for name in steps}
    for info in steps.values():
        for child in info.get("next") or []:
            if child in indegree:
                indegree[child] += 1
    ready = [n for n in steps if indegree[n] == 0]
    order: list[str] = []
    while ready:
        name = ready.pop(0)
        order.append(name)
        for child in steps[name].get("next") or []:
            if child in indegree:
                indegree[child] -= 1
                if indegree[child] == 0:
                    ready.append(child)
    order.extend(n for n in steps if n not in order)
    return order


def step_status(row: Row | None, run_stale: bool) -> str:
    if row is None or row["n_tasks"] == 0:
        return "pending"
    if row["n_failed"] > 0 or (run_stale and row["n_running"] > 0):
        return "failed"
    if row["n_running"] > 0 or row["n_completed"] < row["n_tasks"]:
        return "running" if row["n_running"] > 0 or row["n_completed"] > 0 else "pending"
    return "completed"


def step_counts(row: Row | None, run_stale: bool) -> dict[str, int]:
    if row is None:
        return {"total": 0, "pending": 0, "running": 0, "completed": 0, "failed": 0}
    running, failed = row["n_running"], row["n_failed"]
    if run_stale:
        running, failed = 0, failed + running
    total = row["n_tasks"]
    return {"total": total, "pending": max(0, total - row["n_running"] - row["n_completed"] - row["n_failed"]),
            "running": running, "completed": row["n_completed"], "failed": failed}


def step_shape(name: str, info: dict[str, Any] | None, row: Row | None, run_stale: bool) -> dict[str, Any]:
    info = info or {}
    started = row["started_at"] if row else None
    finished = row["finished_at"] if row else None
    status = step_status(row, run_stale)
    if status in ("running", "pending"):
        finished = None
    return {
        "step_name": name, "type": info.get("type"), "next": list(info.get("next") or []),
        "doc": info.get("doc") or "", "decorators": info.get("decorators") or [],
        "line": info.get("line"), "foreach_artifact": info.get("foreach_artifact"),
        "matching_join": info.get("matching_join"), "status": status,
        "started_at": started, "finished_at": finished,
        "duration_ms": finished - started if (finished is not None and started is not None) else None,
        "task_counts": step_counts(row, run_stale), "seq": row["change_seq"] if row else None,
    }


async def load_dag(request: web.Request, run: Row) -> dict[str, Any]:
    """The run's DAG from its source (cached there; {} while it is not known yet)."""
    return await source_for(request.app, run).dag(run)


async def all_steps(db: Db, dag: dict[str, Any], run: Row) -> list[dict[str, Any]]:
    rows = await steps_db.steps_of_run(db, run["run_pk"])
    infos = dag.get("steps") or {}
    names = graph_order(dag) + [n for n in rows if n not in infos]
    return [step_shape(n, infos.get(n), rows.get(n), bool(run["stale"])) for n in names]


async def get_dag(request: web.Request) -> web.Response:
    run = await shared_run_row(request)
    if (hit := cached_for_run(request, run)) is not None:
        return hit
    dag = await load_dag(request, run)
    data = {"start_step": dag.get("start_step", "start"), "end_step": dag.get("end_step", "end"),
            "doc": dag.get("doc") or "", "file": dag.get("file"),
            "parameters": dag.get("parameters") or [], "decorators": dag.get("decorators") or [],
            "graph_structure": dag.get("graph_structure") or [],
            "steps": await all_steps(request.app[DB], dag, run)}
    return respond.one(request, data, immutable=run["status"] != "running" and not run["stale"])


async def list_steps(request: web.Request) -> web.Response:
    run = await shared_run_row(request)
    if (hit := cached_for_run(request, run)) is not None:
        return hit
    dag = await load_dag(request, run)
    return respond.page(request, await all_steps(request.app[DB], dag, run), None)


async def get_step(request: web.Request) -> web.Response:
    run = await shared_run_row(request)
    if (hit := cached_for_run(request, run)) is not None:
        return hit
    dag = await load_dag(request, run)
    name = request.match_info["step"]
    for step in await all_steps(request.app[DB], dag, run):
        if step["step_name"] == name:
            return respond.one(request, step)
    raise not_found(f"step {run['flow_id']}/{run['run_id']}/{name} not found")


ROUTES = [
    Route("/api/flows/{flow}/runs/{run}/dag", get_dag,
          "The run's DAG: steps in graph order with type, next, doc, decorators, line and task counts.",
          (), "object", "steps"),
    Route("/api/flows/{flow}/runs/{run}/steps", list_steps, "Steps of the run in graph order.", (),
          "list", "steps"),
    Route("/api/flows/{flow}/runs/{run}/steps/{step}", get_step, "One step.", (), "object", "steps"),
]
