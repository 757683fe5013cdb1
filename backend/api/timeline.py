"""/timeline: a run's tasks as lanes for a time window and pixel width (see docs/api.md)."""

from __future__ import annotations

import bisect
import math
from typing import Any

from aiohttp import web

from backend.api import respond
from backend.api.lookup import live
from backend.api.steps import load_dag
from backend.cache.responses import cached_for_run
from backend.cache.run_rows import shared_run_row
from backend.db import tasks as tasks_db
from backend.db import timeline as timeline_db
from backend.db import timeline_index
from backend.db.query import Row
from backend.errors import bad_request
from backend.keys import DB, TIMELINE_INDEX
from backend.params import get_choice, get_int, get_list
from backend.resources.steps import graph_order, is_recursive
from backend.routes import Param, Route


def merge_segments(rows: list[Row], bucket_ms: float, start: int) -> dict[int, list[list[Any]]]:
    """merge_coded for the SQL path's rows (dicts with status names)."""
    code = timeline_index.CODE
    return merge_coded([(r["lane"], code[r["status"]], r["b0"], r["b1"], r["n"]) for r in rows], bucket_ms, start)


def merge_coded(rows: list[tuple[int, int, int, int, int]], bucket_ms: float,
                start: int) -> dict[int, list[list[Any]]]:
    """Per lane, [start, end, dominant status, tasks, {status: tasks}] segments from bucket-snapped spans.

    Rows are (lane, status code, first bucket, end bucket, spans). A sweep over bucket boundaries
    keeps how many spans of each status cover the current bucket; a segment ends where coverage
    ends or the dominant status changes. Dominant = the most alarming status present (failed >
    running > completed > pending; status codes are in that rank order): one failed task among
    200 in a lane must stay visible at every zoom level. The count and the per-status mix are
    those of the segment's busiest bucket (so the mix sums to the count): with the mix the UI
    draws 3 failed of 293 as a thin failed mark over a completed bar, not as a red block.
    """
    names = timeline_index.STATUS_CODES
    lanes: dict[int, list[tuple[int, int, int]]] = {}
    for lane, code, b0, b1, n in rows:
        events = lanes.get(lane)
        if events is None:
            events = lanes[lane] = []
        events.append((b0, code, n))
        events.append((max(b1, b0 + 1), code, -n))
    out: dict[int, list[list[Any]]] = {}
    for lane, events in lanes.items():
        events.sort()
        cover = [0, 0, 0, 0]
        segments: list[list[Any]] = []
        current: list[Any] | None = None
        i, n_events = 0, len(events)
        while i < n_events:
            b = events[i][0]
            while i < n_events and events[i][0] == b:
                cover[events[i][1]] += events[i][2]
                i += 1
            t = int(start + b * bucket_ms)
            if current is not None:
                current[1] = t
            total = cover[0] + cover[1] + cover[2] + cover[3]
            if total <= 0:
                current = None
                continue
            dominant = 3 if cover[3] > 0 else 2 if cover[2] > 0 else 1 if cover[1] > 0 else 0
            if current is not None and current[2] == names[dominant]:
                if total > current[3]:
                    current[3], current[4] = total, {names[c]: cover[c] for c in range(4) if cover[c] > 0}
                continue
            current = [t, t, names[dominant], total, {names[c]: cover[c] for c in range(4) if cover[c] > 0}]
            segments.append(current)
        out[lane] = segments
    return out


def level_segments(index: timeline_index.RunIndex, view: timeline_index.View, row_start: int, row_end: int,
                   per_lane: int, bucket_ms: float, start: int, end: int) -> tuple[dict[int, list[list[Any]]], float]:
    """Aggregated lanes of a finished run from a cached zoom level, clipped to [start, end].

    The bucket is rounded down to a power of two ms and the grid starts at the run's first
    attempt, so panning and zooming within a level reuse one computation over the whole run
    (cached per view, rows and level) and only clip its segments: a pan costs a bisect per lane
    instead of a pass over 100,000 attempts. A clipped segment keeps the count and mix of its
    busiest bucket, which may lie just outside the window.
    """
    level = float(2 ** max(0, math.floor(math.log2(max(bucket_ms, 1.0)))))
    origin = index.first if index.first is not None else start
    key = (id(view), row_start, row_end, per_lane, level)
    full = index.level(key)
    if full is None:
        last = index.last if index.last is not None else end
        # without the collector: the 10^5 tuples made here would have it walk the run's index again
        with timeline_index.gc_paused():
            coded = timeline_index.bucket_counts(view, row_start, row_end, per_lane, origin, last, level)
            full = merge_coded(coded, level, origin)
        index.keep_level(key, full)
    out: dict[int, list[list[Any]]] = {}
    for lane, segments in full.items():
        i = bisect.bisect_right(segments, start, key=lambda seg: seg[1])
        clipped: list[list[Any]] = []
        while i < len(segments) and segments[i][0] <= end:
            s0, s1, status, count, mix = segments[i]
            clipped.append([max(s0, start), min(s1, end), status, count, mix])
            i += 1
        if clipped:
            out[lane] = clipped
    return out, level


async def get_timeline(request: web.Request) -> web.Response:
    run = await shared_run_row(request)
    if (hit := cached_for_run(request, run)) is not None:
        return hit
    q = request.query
    db, lv = request.app[DB], live(request)
    width = get_int(q, "width", 1000, minimum=1, maximum=20000) or 1000
    rows_wanted = get_int(q, "rows", 200, minimum=1, maximum=5000) or 200
    row_start = get_int(q, "row_start", 0, minimum=0) or 0
    sort = get_choice(q, "sort", tuple(timeline_db.SORT_KEYS), "start") or "start"
    group = get_choice(q, "group", ("step", "flat", "host"), "step") or "step"
    statuses = get_list(q, "status", tasks_db.TASK_STATUSES)
    steps = get_list(q, "step")
    indexes = request.app[TIMELINE_INDEX]
    index = await timeline_index.load(db, run, indexes) if timeline_index.cacheable(run) else None
    if index is not None:
        span: Row | None = {"first": index.first, "last": index.last}
    else:
        span = await timeline_db.run_span(db, lv, run["run_pk"])
    default_start = (span or {}).get("first") or run["started_at"] or run["created_at"]
    default_end = (span or {}).get("last") or run["finished_at"] or lv["now"]
    start = get_int(q, "start", default_start)
    end = get_int(q, "end", max(default_end, (start or 0) + 1))
    assert start is not None and end is not None
    if end <= start:
        raise bad_request(f"parameter 'end' ({end}) must be after 'start' ({start})")
    dag = await load_dag(request, run)
    order = graph_order(dag)
    loops = {n for n, info in (dag.get("steps") or {}).items() if is_recursive(n, info)}
    if index is not None and group == "host":
        await timeline_index.load_hosts(db, run, index)
    view = timeline_index.view(index, order, sort, group, statuses, steps) if index is not None else None
    if view is not None:
        groups: list[Row] = [{"step_name": g[0] if group != "host" else None,
                              "host": g[0] if group == "host" else None, "row_start": g[1], "row_count": g[2]}
                             for g in view.groups]
    else:
        groups = await timeline_db.group_rows(db, lv, run["run_pk"], order, sort, group, statuses, steps)
    total = sum(g["row_count"] for g in groups)
    span_rows = get_int(q, "span", max(total - row_start, 0), minimum=1) or 1
    row_end = min(total, row_start + span_rows)
    per_lane = max(1, math.ceil((row_end - row_start) / rows_wanted))
    cache_key = (start, end, width, row_start, row_end, per_lane, tuple(order), sort, group, tuple(statuses),
                 tuple(steps))
    cached = index.response(cache_key) if index is not None else None
    if cached is not None:
        return respond.one(request, cached)
    bucket_ms = (end - start) / (2 * width)
    lanes: list[dict[str, Any]] = []
    if per_lane == 1:
        by_row: dict[int, dict[str, Any]] = {}
        if index is not None and view is not None and await timeline_index.load_details(db, run, index):
            task_rows = timeline_index.task_lanes(index, view, row_start, row_end)
        else:
            task_rows = await timeline_db.task_lanes(db, lv, run["run_pk"], order, sort, group, statuses, steps,
                                                     row_start, row_end)
        for r in task_rows:
            lane = by_row.setdefault(r["rn"], {"row": r["rn"], "task": {
                "task_id": r["task_id"], "step_name": r["step_name"], "foreach_value": r["foreach_value"],
                "iteration": r["iteration"], "status": r["task_status"], "host": r["host"],
                "pathspec": f"{run['flow_id']}/{run['run_id']}/{r['step_name']}/{r['task_id']}"}, "bars": []})
            if r["attempt"] is not None:
                lane["bars"].append([r["started_at"], r["finished_at"], r["status"], r["attempt"]])
        lanes = list(by_row.values())
    elif row_end > row_start:
        if index is not None and view is not None:
            merged, bucket_ms = level_segments(index, view, row_start, row_end, per_lane, bucket_ms, start, end)
        else:
            rows = await timeline_db.lane_segments(db, lv, run["run_pk"], order, sort, group, statuses, steps,
                                                   row_start, row_end, per_lane, start, end, bucket_ms)
            merged = merge_segments(rows, bucket_ms, start)
        n_lanes = math.ceil((row_end - row_start) / per_lane)
        lanes = [{"row": row_start + i * per_lane, "task": None, "segments": merged.get(i, [])}
                 for i in range(n_lanes)]
    data = {"start": start, "end": end, "width": width, "bucket_ms": round(bucket_ms, 3),
            "total_rows": total, "row_start": row_start, "tasks_per_lane": per_lane,
            "groups": [{"step_name": g["step_name"] or None, "host": g["host"], "row_start": g["row_start"],
                        "row_count": g["row_count"], "recursive": g["step_name"] in loops} for g in groups],
            "lanes": lanes}
    if index is not None:
        index.keep_response(cache_key, data)
        indexes.fit()   # the index grew (a row order, a level, this answer): back under the bound
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
           Param("group", "step (default: rows grouped by step in DAG order) | flat | host (grouped by the "
                 "host each task's latest attempt ran on; null: none recorded).", enum=("step", "flat", "host")),
           Param("status", "Only tasks with these effective statuses.", repeated=True),
           Param("step", "Only tasks of these steps.", repeated=True)),
          "object", "timeline", operation="getTimeline", item="Timeline"),
]
