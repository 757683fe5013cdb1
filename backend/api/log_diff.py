"""/api/compare/logs?a=Flow/10&b=Flow/12: run b's failing task's log beside the same step's log
in run a (backend/resources/log_diff.py). Logs are read through each run's source, so native and
Metaflow-written runs (and one of each) can be compared."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from backend.api import respond
from backend.api.compare import parse_run
from backend.api.lookup import live
from backend.db import explain as explain_db
from backend.db import log_diff as log_diff_db
from backend.db import runs as runs_db
from backend.db.query import Row
from backend.errors import bad_request, not_found
from backend.keys import DB
from backend.params import get_choice
from backend.resources.log_diff import MAX_LINES, align
from backend.routes import Param, Route
from backend.sources import source_for
from backend.sources.base import LogWindow
from contract.logs_format import STREAMS


async def _side(app: web.Application, run: Row, task: Row, stream: str) -> tuple[dict[str, Any], list[Any], bool]:
    complete = task["status"] in ("completed", "failed")
    page = await source_for(app, run).log_page(run, task, task["attempt"], stream, complete,
                                               LogWindow(1, MAX_LINES, MAX_LINES))
    first = page.lines[0]["line"] if page.lines else 1
    side = {"pathspec": f"{run['flow_id']}/{run['run_id']}/{task['step_name']}/{task['task_id']}",
            "step_name": task["step_name"], "task_id": task["task_id"], "attempt": task["attempt"],
            "status": task["status"], "total_lines": page.total, "first_line": first}
    return side, page.lines, page.total > len(page.lines)


async def build_log_diff(app: web.Application, live_: dict[str, int], run_a: Row, run_b: Row,
                         stream: str, step: str | None) -> dict[str, Any]:
    db = app[DB]
    out: dict[str, Any] = {"stream": stream, "a": None, "b": None, "truncated": False, "changed": 0,
                           "rows": [], "note": None}
    if step:
        task_b = await log_diff_db.step_task(db, live_, run_b["run_pk"], step, None)
    else:
        task_b = await explain_db.failed_task(db, live_, run_b["run_pk"], run_b.get("failed_step"))
    if task_b is None:
        out["note"] = (f"run {run_b['flow_id']}/{run_b['run_id']} has no task in step {step!r}" if step else
                       f"run {run_b['flow_id']}/{run_b['run_id']} has no failed task: choose a step to compare")
        return out
    task_a = await log_diff_db.step_task(db, live_, run_a["run_pk"], task_b["step_name"], task_b["foreach_index"])
    side_b, lines_b, cut_b = await _side(app, run_b, task_b, stream)
    out["b"] = side_b
    if task_a is None:
        out["note"] = f"run {run_a['flow_id']}/{run_a['run_id']} has no task in step {task_b['step_name']!r}"
        lines_a: list[Any] = []
        cut_a = False
    else:
        side_a, lines_a, cut_a = await _side(app, run_a, task_a, stream)
        out["a"] = side_a
    out["rows"], out["changed"] = align(lines_a, lines_b)
    out["truncated"] = cut_a or cut_b
    return out


async def get_log_diff(request: web.Request) -> web.Response:
    fa, ra = parse_run(request, "a")
    fb, rb = parse_run(request, "b")
    if (fa, ra) == (fb, rb):
        raise bad_request(f"parameters 'a' and 'b' name the same run ({fa}/{ra}): pick two different runs")
    stream = get_choice(request.query, "stream", STREAMS) or "stdout"
    step = request.query.get("step") or None
    db, live_ = request.app[DB], live(request)
    runs = []
    for which, flow, run_id in (("a", fa, ra), ("b", fb, rb)):
        row = await runs_db.get_run(db, live_, flow, run_id)
        if row is None:
            raise not_found(f"run {which} ({flow}/{run_id}) not found")
        runs.append(row)
    data = await build_log_diff(request.app, live_, runs[0], runs[1], stream, step)
    finished = all(r["status"] != "running" and not r["stale"] for r in runs)
    return respond.one(request, data, immutable=finished and data["b"] is not None)


ROUTES = [
    Route("/api/compare/logs", get_log_diff,
          "Run b's first failed task's log (or step's first task's) beside the same step's task in run a "
          "(same foreach index when there is one), aligned; timestamps and ids are ignored.",
          (Param("a", "The baseline run as Flow/RunId (e.g. the last successful run)."),
           Param("b", "The run to explain as Flow/RunId (its first failed task is used)."),
           Param("stream", "stdout (default) or stderr.", enum=STREAMS),
           Param("step", "Compare this step's task instead of the first failed one.")),
          "object", "compare", operation="compareLogs", item="LogDiff"),
]
