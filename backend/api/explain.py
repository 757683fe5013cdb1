"""Why a status is what it is: /api/flows/{flow}/runs/{run}/status and
…/steps/{step}/tasks/{task}/status (backend/resources/explain.py)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from backend.api import respond
from backend.api.lookup import task_row
from backend.api.steps import load_dag
from backend.cache.run_rows import shared_run_row
from backend.db import explain as explain_db
from backend.db import tasks as tasks_db
from backend.db.liveness import live_params
from backend.db.query import Row
from backend.keys import DB, SETTINGS
from backend.resources.explain import explain_run, explain_task, task_timing
from backend.routes import Route
from backend.sources import source_for


def _decorators(dag: dict[str, Any], step: str) -> Any:
    return ((dag.get("steps") or {}).get(step) or {}).get("decorators")


async def _task_evidence(app: web.Application, task: Row) -> tuple[list[Row], list[Row]]:
    db = app[DB]
    attempts = (await tasks_db.attempts_of(db, live_params(app[SETTINGS]), [task["task_pk"]]))[task["task_pk"]]
    return attempts, await explain_db.attempt_metadata(db, task["task_pk"])


def _mark_stale(task: Row) -> Row:
    return {**task, "stale": task.get("stored_status") == "running" and task["status"] == "failed"}


async def build_run_explanation(app: web.Application, run: Row) -> dict[str, Any]:
    db, params = app[DB], live_params(app[SETTINGS])
    dag = await source_for(app, run).dag(run)
    end_step = str(dag.get("end_step") or "end")
    decider = None
    if run["status"] == "completed":
        decider = await explain_db.end_task(db, params, run["run_pk"], end_step)
    elif run["status"] == "failed" and not run["stale"]:
        decider = await explain_db.failed_task(db, params, run["run_pk"], run.get("failed_step"))
    attempts, meta = await _task_evidence(app, decider) if decider else ([], [])
    decorators = _decorators(dag, decider["step_name"]) if decider else None
    return {**explain_run(run, end_step, _mark_stale(decider) if decider else None, attempts, meta, decorators,
                          app[SETTINGS].heartbeat_timeout), "timing": None}


async def get_run_status(request: web.Request) -> web.Response:
    run = await shared_run_row(request)
    return respond.one(request, await build_run_explanation(request.app, run))


async def get_task_status(request: web.Request) -> web.Response:
    run, task = await task_row(request)
    stored = await explain_db.stored_status(request.app[DB], task["task_pk"])
    attempts, meta = await _task_evidence(request.app, task)
    dag = await load_dag(request, run)
    marked = _mark_stale({**task, "stored_status": stored})
    data = explain_task(run, marked, attempts, meta, _decorators(dag, task["step_name"]),
                        request.app[SETTINGS].heartbeat_timeout)
    parents = await explain_db.parents_finished(request.app[DB], task["run_pk"], task["parent_task_ids"] or [])
    return respond.one(request, {**data, "timing": task_timing(run, task, parents, bool(marked["stale"]))})


ROUTES = [
    Route("/api/flows/{flow}/runs/{run}/status", get_run_status,
          "Why the run has its status: the rule that fired and its evidence (heartbeat age against the "
          "threshold, the end step's attempt, the failed task's exception, exit code or timeout).",
          (), "object", "triage", operation="getRunStatusExplanation", item="StatusExplanation"),
    Route("/api/flows/{flow}/runs/{run}/steps/{step}/tasks/{task}/status", get_task_status,
          "Why the task has its status, and the rule behind each attempt's.",
          (), "object", "triage", operation="getTaskStatusExplanation", item="StatusExplanation"),
]
