"""/api/compare?a=Flow/12&b=Flow/15: what changed between two runs, in one response.

Runs of different flows may be compared (a renamed flow, a copy under test); the response says
so with ``same_flow: false`` and a ``note``. Everything that grows with the number of tasks is
aggregated in SQL (backend.db.compare); Python only merges two small per-step tables.
"""

from __future__ import annotations

import asyncio

from aiohttp import web

from backend.api import respond
from backend.api.lookup import live
from backend.api.steps import load_dag
from backend.db import compare as compare_db
from backend.db import runs as runs_db
from backend.db import steps as steps_db
from backend.db.query import Row
from backend.errors import bad_request, not_found
from backend.keys import DB
from backend.params import get_list
from backend.resources.compare import (
    diff_artifacts,
    diff_tags,
    diff_values,
    failure_shape,
    merge_order,
    ratio,
    step_side,
)
from backend.resources.runs import run_shape
from backend.resources.steps import graph_order
from backend.routes import Param, Route

MAX_ARTIFACTS = 1000
MAX_STEPS = 20


def parse_run(request: web.Request, name: str) -> tuple[str, str]:
    raw = request.query.get(name, "").strip().strip("/")
    if not raw:
        raise bad_request(f"parameter {name!r} is required: a run as Flow/RunId, e.g. {name}=MyFlow/12")
    parts = raw.split("/")
    if len(parts) != 2 or not all(parts):
        raise bad_request(f"parameter {name!r} must be a run as Flow/RunId (e.g. MyFlow/12); got {raw!r}")
    return parts[0], parts[1]


async def _load(request: web.Request, flow: str, run_id: str, which: str) -> Row:
    row = await runs_db.get_run(request.app[DB], live(request), flow, run_id, with_json=True)
    if row is None:
        raise not_found(f"run {which} ({flow}/{run_id}) not found")
    return row


async def compare_runs(request: web.Request) -> web.Response:
    fa, ra = parse_run(request, "a")
    fb, rb = parse_run(request, "b")
    if (fa, ra) == (fb, rb):
        raise bad_request(f"parameters 'a' and 'b' name the same run ({fa}/{ra}): pick two different runs")
    chosen = get_list(request.query, "steps")
    if len(chosen) > MAX_STEPS:
        raise bad_request(f"parameter 'steps' names {len(chosen)} steps; at most {MAX_STEPS}")
    db = request.app[DB]
    run_a = await _load(request, fa, ra, "a")
    run_b = await _load(request, fb, rb, "b")
    dag_a, dag_b = await load_dag(request, run_a), await load_dag(request, run_b)
    rows_a = await steps_db.steps_of_run(db, run_a["run_pk"])
    rows_b = await steps_db.steps_of_run(db, run_b["run_pk"])
    order_a = graph_order(dag_a) + [n for n in rows_a if n not in (dag_a.get("steps") or {})]
    order_b = graph_order(dag_b) + [n for n in rows_b if n not in (dag_b.get("steps") or {})]
    names = merge_order(order_a, order_b)
    unknown = [s for s in chosen if s not in names]
    if unknown:
        raise bad_request(f"parameter 'steps': {', '.join(map(repr, unknown))} is a step of neither run")

    end_steps = list(dict.fromkeys([dag_a.get("end_step", "end"), dag_b.get("end_step", "end"), *chosen]))
    # Independent aggregates run side by side on the pool: the request costs the slowest one.
    durations, art_a, art_b, fail_a, fail_b = await asyncio.gather(
        compare_db.step_durations(db, [run_a["run_pk"], run_b["run_pk"]]),
        compare_db.step_artifacts(db, run_a["run_pk"], end_steps, MAX_ARTIFACTS),
        compare_db.step_artifacts(db, run_b["run_pk"], end_steps, MAX_ARTIFACTS),
        compare_db.first_failure(db, live(request), run_a["run_pk"]),
        compare_db.first_failure(db, live(request), run_b["run_pk"]))
    steps = []
    for name in names:
        in_a, in_b = name in order_a, name in order_b
        side_a = step_side(run_a, rows_a.get(name), durations.get((run_a["run_pk"], name))) if in_a else None
        side_b = step_side(run_b, rows_b.get(name), durations.get((run_b["run_pk"], name))) if in_b else None
        change = None
        if side_a and side_b:
            change = {k: ratio(side_a[k], side_b[k]) for k in ("wall_ms", "task_total_ms", "p50_ms", "p95_ms")}
        steps.append({"step_name": name, "status": "unchanged" if in_a and in_b else ("added" if in_b else "removed"),
                      "a": side_a, "b": side_b, "ratio": change})

    same_flow = fa == fb
    data = {
        "a": run_shape(run_a), "b": run_shape(run_b), "same_flow": same_flow,
        "note": None if same_flow else f"comparing runs of two different flows ({fa} and {fb})",
        "parameters": diff_values(run_a["parameters"] or {}, run_b["parameters"] or {}),
        "tags": diff_tags(list(run_a["tags"] or []), list(run_b["tags"] or [])),
        "steps": steps,
        "artifact_steps": end_steps,
        "artifacts": diff_artifacts(art_a, art_b),
        "artifacts_truncated": max(len(art_a), len(art_b)) >= MAX_ARTIFACTS,
        "failures": {"a": failure_shape(run_a, fail_a), "b": failure_shape(run_b, fail_b)},
    }
    finished = all(r["status"] != "running" and not r["stale"] for r in (run_a, run_b))
    return respond.one(request, data, immutable=finished)


ROUTES = [
    Route("/api/compare", compare_runs,
          "What changed between two runs: parameters, tags, DAG steps, per-step counts and durations, "
          "artifacts of the end step (and chosen steps), the first failure of each.",
          (Param("a", "The first (baseline) run as Flow/RunId."),
           Param("b", "The second run as Flow/RunId (may be of another flow)."),
           Param("steps", "Also compare the artifacts of these steps (the end step always).", repeated=True)),
          "object", "compare", operation="compareRuns", item="Comparison"),
]
