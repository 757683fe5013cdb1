"""/timeline: a run's tasks as lanes for a time window and pixel width (see docs/api.md)."""

from __future__ import annotations

import math
from typing import Any

from aiohttp import web

from backend.api import respond
from backend.api.lookup import live, run_row
from backend.api.steps import graph_order, load_dag
from backend.db import tasks as tasks_db
from backend.db import timeline as timeline_db
from backend.db.query import Row
from backend.errors import bad_request
from backend.keys import DB
from backend.params import get_choice, get_int, get_list
from backend.routes import Param, Route

STATUS_RANK = {"failed": 3, "running": 2, "completed": 1, "pending": 0}


def merge_segments(rows: list[Row], bucket_ms: float, start: int) -> dict[int, list[list[Any]]]:
    """Per lane, [start, end, dominant status, tasks] segments from bucket-snapped spans.

    A sweep over bucket boundaries keeps how many spans of each status cover the current
    bucket; a segment ends where coverage ends or the dominant status changes. Dominant = the
    most alarming status present (failed > running > completed > pending): one failed task
    among 200 in a lane must stay visible at every zoom level.
    """
    lanes: dict[int, list[tuple[int, str, int]]] = {}
    for r in rows:
        events = lanes.setdefault(r["lane"], [])
        b1 = max(r["b1"], r["b0"] + 1)
        events.append((r["b0"], r["status"], r["n"]))
        events.append((b1, r["status"], -r["n"]))
    out: dict[int, list[list[Any]]] = {}
    for lane, events in lanes.items():
        events.sort(key=lambda e: e[0])
        cover: dict[str, int] = {}
        segments: list[list[Any]] = []
        current: list[Any] | None = None
        i = 0
        while i < len(events):
            b = events[i][0]
            while i < len(events) and events[i][0] == b:
                cover[events[i][1]] = cover.get(events[i][1], 0) + events[i][2]
                i += 1
            active = {s: n for s, n in cover.items() if n > 0}
            t = int(start + b * bucket_ms)
            if current is not None:
                current[1] = t
            if not active:
                current = None
                continue
            status = max(active, key=lambda s: (STATUS_RANK.get(s, 0), active[s]))
            total = sum(active.values())
            if current is not None and current[2] == status:
                current[3] = max(current[3], total)
                continue
            current = [t, t, status, total]
            segments.append(current)
        out[lane] = segments
    return out


async def get_timeline(request: web.Request) -> web.Response:
    run = await run_row(request)
    q = request.query
    db, lv = request.app[DB], live(request)
    width = get_int(q, "width", 1000, minimum=1, maximum=20000) or 1000
    rows_wanted = get_int(q, "rows", 200, minimum=1, maximum=5000) or 200
    row_start = get_int(q, "row_start", 0, minimum=0) or 0
    sort = get_choice(q, "sort", tuple(timeline_db.SORT_KEYS), "start") or "start"
    group = get_choice(q, "group", ("step", "flat"), "step") or "step"
    statuses = get_list(q, "status", tasks_db.TASK_STATUSES)
    steps = get_list(q, "step")
    span = await timeline_db.run_span(db, lv, run["run_pk"])
    default_start = (span or {}).get("first") or run["started_at"] or run["created_at"]
    default_end = (span or {}).get("last") or run["finished_at"] or lv["now"]
    start = get_int(q, "start", default_start)
    end = get_int(q, "end", max(default_end, (start or 0) + 1))
    assert start is not None and end is not None
    if end <= start:
        raise bad_request(f"parameter 'end' ({end}) must be after 'start' ({start})")
    order = graph_order(await load_dag(request, run))
    groups = await timeline_db.group_rows(db, lv, run["run_pk"], order, sort, group, statuses, steps)
    total = sum(g["row_count"] for g in groups)
    span_rows = get_int(q, "span", max(total - row_start, 0), minimum=1) or 1
    row_end = min(total, row_start + span_rows)
    per_lane = max(1, math.ceil((row_end - row_start) / rows_wanted))
    bucket_ms = (end - start) / (2 * width)
    lanes: list[dict[str, Any]] = []
    if per_lane == 1:
        by_row: dict[int, dict[str, Any]] = {}
        for r in await timeline_db.task_lanes(db, lv, run["run_pk"], order, sort, group, statuses, steps,
                                              row_start, row_end):
            lane = by_row.setdefault(r["rn"], {"row": r["rn"], "task": {
                "task_id": r["task_id"], "step_name": r["step_name"], "foreach_value": r["foreach_value"],
                "status": r["task_status"],
                "pathspec": f"{run['flow_id']}/{run['run_id']}/{r['step_name']}/{r['task_id']}"}, "bars": []})
            if r["attempt"] is not None:
                lane["bars"].append([r["started_at"], r["finished_at"], r["status"], r["attempt"]])
        lanes = list(by_row.values())
    elif row_end > row_start:
        rows = await timeline_db.lane_segments(db, lv, run["run_pk"], order, sort, group, statuses, steps,
                                               row_start, row_end, per_lane, start, end, bucket_ms)
        merged = merge_segments(rows, bucket_ms, start)
        n_lanes = math.ceil((row_end - row_start) / per_lane)
        lanes = [{"row": row_start + i * per_lane, "task": None, "segments": merged.get(i, [])}
                 for i in range(n_lanes)]
    data = {"start": start, "end": end, "width": width, "bucket_ms": round(bucket_ms, 3),
            "total_rows": total, "row_start": row_start, "tasks_per_lane": per_lane,
            "groups": [{"step_name": g["step_name"] or None, "row_start": g["row_start"],
                        "row_count": g["row_count"]} for g in groups],
            "lanes": lanes}
    return respond.one(request, data)


ROUTES = [
    Route("/api/flows/{flow}/runs/{run}/timeline", get_timeline,
          "The run's tasks as timeline lanes for a window and a pixel width (level of detail).",
          (Param("start", "Window start (epoch ms; default: the run's first attempt).", "integer"),
           Param("end", "Window end (epoch ms; default: the run's last activity or now).", "integer"),
           Param("width", "Pixel width of the window (1-20000, default 1000).", "integer"),
           Param("rows", "Lanes available (1-5000, default 200).", "integer"),
           Param("row_start", "First task row (default 0).", "integer"),
           Param("span", "Task rows to fit into the lanes (default: all from row_start).", "integer"),
           Param("sort", "start | end | duration (default start).", enum=("start", "end", "duration")),
           Param("group", "step (default: rows grouped by step in DAG order) | flat.", enum=("step", "flat")),
           Param("status", "Only tasks with these effective statuses.", repeated=True),
           Param("step", "Only tasks of these steps.", repeated=True)),
          "object", "timeline"),
]
