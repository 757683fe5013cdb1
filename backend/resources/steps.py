"""Steps and the DAG: a run's static graph joined with live per-step counts; its live feed."""

from __future__ import annotations

from typing import Any

from backend.db import runs as runs_db
from backend.db import steps as steps_db
from backend.db.query import Row
from backend.live.events import Batch, Event, Feed, FeedContext, Target
from backend.resources.schema import ANY, BOOL, INT, JSON_OBJECT, STATUS, STR, arr, nullable, obj, ref

# A step's status adds "skipped": a completed run never ran it (a switch case not taken); and
# "not_run": a run that ended otherwise (failed, or its heartbeat lost) never reached it.
STEP_STATUS = {"type": "string", "enum": [*STATUS["enum"], "skipped", "not_run"]}

SCHEMAS = {
    "Decorator": obj({"name": STR}, optional={"attributes": JSON_OBJECT}, extra=True,
                     description="A decorator as the DAG records it (Metaflow's _graph_info)."),
    "Step": obj({
        "step_name": STR, "type": nullable(STR), "next": arr(STR), "doc": STR,
        "decorators": arr(ref("Decorator")), "line": nullable(INT), "foreach_artifact": nullable(STR),
        "matching_join": nullable(STR),
        "condition": nullable(STR), "switch_cases": nullable({"type": "object", "additionalProperties": STR}),
        "recursive": BOOL, "iterations": nullable(INT),
        "status": STEP_STATUS, "started_at": nullable(INT),
        "finished_at": nullable(INT), "duration_ms": nullable(INT), "task_counts": ref("TaskCounts"),
        "seq": nullable(INT),
    }, description="A step of a run: its place in the DAG and its tasks' counts by status. A switch "
                   "(type split-switch) has condition and switch_cases (case -> step); a recursive "
                   "step (a case naming itself) has recursive and iterations (the most any foreach "
                   "split ran)."),
    "Dag": obj({
        "start_step": STR, "end_step": STR, "doc": STR, "file": nullable(STR),
        "parameters": arr(ANY), "decorators": arr(ANY), "graph_structure": arr(ANY),
        "steps": arr(ref("Step")),
    }, description="A run's DAG: steps in graph order."),
}


def _children(name: str, info: dict[str, Any]) -> list[str]:
    """Where a step leads, without a recursive step's edge to itself (and without repeats)."""
    out: list[str] = []
    for child in info.get("next") or []:
        if child != name and child not in out:
            out.append(child)
    return out


def graph_order(dag: dict[str, Any]) -> list[str]:
    """Steps from start, each after its parents (Kahn's algorithm), ties in source order.

    A recursive step's loop is not an edge here: it would keep the step (and everything after
    it, ``end`` included) from ever being ready.
    """
    steps: dict[str, Any] = dag.get("steps") or {}
    indegree = {name: 0 for name in steps}
    for name, info in steps.items():
        for child in _children(name, info):
            if child in indegree:
                indegree[child] += 1
    ready = [n for n in steps if indegree[n] == 0]
    order: list[str] = []
    while ready:
        name = ready.pop(0)
        order.append(name)
        for child in _children(name, steps[name]):
            if child in indegree:
                indegree[child] -= 1
                if indegree[child] == 0:
                    ready.append(child)
    order.extend(n for n in steps if n not in order)
    return order


def is_recursive(name: str, info: dict[str, Any] | None) -> bool:
    """A step whose switch has a case naming the step itself (Metaflow 2.19's recursion)."""
    return isinstance(info, dict) and info.get("type") == "split-switch" and name in (info.get("next") or [])


def step_status(row: Row | None, run_stale: bool, run_status: str | None = None) -> str:
    if row is None or row["n_tasks"] == 0:
        # A completed run ran every step it chose: a step without tasks is a switch case not taken.
        # A run that ended any other way will not reach it either ("pending" would say it may).
        if run_status == "completed" and not run_stale:
            return "skipped"
        return "not_run" if run_stale or run_status not in (None, "running") else "pending"
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


def step_shape(name: str, info: dict[str, Any] | None, row: Row | None, run_stale: bool,
               run_status: str | None = None, iterations: int | None = None) -> dict[str, Any]:
    """One step; ``iterations`` is the most iterations a recursive step ran (in any foreach split)."""
    recursive = is_recursive(name, info)
    info = info or {}
    started = row["started_at"] if row else None
    finished = row["finished_at"] if row else None
    status = step_status(row, run_stale, run_status)
    if status in ("running", "pending", "skipped", "not_run"):
        finished = None
    cases = info.get("switch_cases")
    return {
        "step_name": name, "type": info.get("type"), "next": list(info.get("next") or []),
        "doc": info.get("doc") or "", "decorators": info.get("decorators") or [],
        "line": info.get("line"), "foreach_artifact": info.get("foreach_artifact"),
        "matching_join": info.get("matching_join"),
        "condition": info.get("condition"),
        "switch_cases": {str(k): v for k, v in cases.items()} if isinstance(cases, dict) else None,
        "recursive": recursive, "iterations": iterations if recursive else None,
        "status": status,
        "started_at": started, "finished_at": finished,
        "duration_ms": finished - started if (finished is not None and started is not None) else None,
        "task_counts": step_counts(row, run_stale), "seq": row["change_seq"] if row else None,
    }


def dag_shape(dag: dict[str, Any], steps: list[dict[str, Any]]) -> dict[str, Any]:
    return {"start_step": dag.get("start_step", "start"), "end_step": dag.get("end_step", "end"),
            "doc": dag.get("doc") or "", "file": dag.get("file"),
            "parameters": dag.get("parameters") or [], "decorators": dag.get("decorators") or [],
            "graph_structure": dag.get("graph_structure") or [], "steps": steps}


def prepare_steps(target: Target) -> None:
    target.extra["step"] = target.path.get("step")


async def steps_feed(target: Target, since: int, ctx: FeedContext) -> Batch:
    assert target.run_pk is not None
    run = await runs_db.runs_changed(ctx.db, ctx.live, -1, 1, run_pk=target.run_pk)
    stale = bool(run and run[0]["stale"])
    infos = (ctx.dag or {}).get("steps") or {}
    only = target.extra.get("step")
    return Batch([Event("update", r["step_name"], r["change_seq"],
                        step_shape(r["step_name"], infos.get(r["step_name"]), r, stale), r["created_at"])
                  for r in await steps_db.steps_changed(ctx.db, target.run_pk, since)
                  if only is None or r["step_name"] == only])


FEEDS = (Feed("steps", "run", steps_feed, "Step", prepare_steps),)
