"""Per-step duration distributions of a run: histogram, percentiles, outliers, queued time.

Computed from the same task spans as the critical path (backend/resources/critical_path.py).
Outliers are Tukey's far ones (above the third quartile plus 1.5 times the interquartile range),
slowest first, so a click goes straight to the task that held a step up.
"""

from __future__ import annotations

import math
from typing import Any

from backend.resources.critical_path import Spans, key_index, ready_at
from backend.resources.schema import INT, NUM, STR, arr, nullable, obj

BUCKETS = 20
MAX_OUTLIERS = 10

SCHEMAS = {
    "StepDurations": obj({
        "step_name": STR, "tasks": INT, "timed": INT, "wall_ms": nullable(INT), "total_ms": INT,
        "min_ms": nullable(INT), "p50_ms": nullable(NUM), "p95_ms": nullable(NUM), "max_ms": nullable(INT),
        "queued_p50_ms": nullable(NUM), "queued_p95_ms": nullable(NUM),
        "histogram": obj({"scale": {"type": "string", "enum": ["linear", "log"]}, "edges": arr(NUM),
                          "counts": arr(INT)}),
        "outliers": arr(obj({"pathspec": STR, "task_id": STR, "foreach_value": nullable(STR),
                             "duration_ms": INT})),
    }, description="Durations of a step's finished tasks (wall_ms: first start to last finish, once all finished; total_ms: their sum): percentiles, a histogram (edges has one "
                   "more entry than counts; log scale when the spread is wide), outliers (Tukey's "
                   "fences) and queued time (start minus the last parent's finish) where known."),
    "RunDurations": obj({"run": STR, "steps": arr({"$ref": "#/components/schemas/StepDurations"})},
                        description="Per-step duration distributions in graph order."),
}


def percentile(sorted_values: list[int], q: float) -> float | None:
    """Linear interpolation between closest ranks (as Postgres' percentile_cont)."""
    if not sorted_values:
        return None
    pos = (len(sorted_values) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return float(sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo))


def histogram(values: list[int]) -> dict[str, Any]:
    if not values:
        return {"scale": "linear", "edges": [], "counts": []}
    lo, hi = min(values), max(values)
    log = lo > 0 and hi / lo > 50
    if hi == lo:
        return {"scale": "linear", "edges": [float(lo), float(hi)], "counts": [len(values)]}
    if log:
        a, b = math.log(lo), math.log(hi)
        edges = [math.exp(a + (b - a) * k / BUCKETS) for k in range(BUCKETS + 1)]
    else:
        edges = [lo + (hi - lo) * k / BUCKETS for k in range(BUCKETS + 1)]
    counts = [0] * BUCKETS
    for v in values:
        x = (math.log(v) - a) / (b - a) if log else (v - lo) / (hi - lo)
        counts[min(BUCKETS - 1, int(x * BUCKETS))] += 1
    return {"scale": "log" if log else "linear", "edges": [round(e, 1) for e in edges], "counts": counts}


def durations_shape(run: dict[str, Any], spans: Spans, step_order: list[str]) -> dict[str, Any]:
    index = key_index(spans)
    by_step: dict[str, list[int]] = {}
    for i in range(len(spans)):
        by_step.setdefault(spans.step[i], []).append(i)
    names = [s for s in step_order if s in by_step] + [s for s in by_step if s not in step_order]
    out = []
    for name in names:
        idx = by_step[name]
        timed = [(spans.finished[i] - spans.started[i], i) for i in idx  # type: ignore[operator]
                 if spans.started[i] is not None and spans.finished[i] is not None]
        values = sorted(d for d, _ in timed)
        queued = sorted(q for i in idx if spans.started[i] is not None
                        and (r := ready_at(spans, i, index, run.get("started_at"))) is not None
                        and (q := max(0, spans.started[i] - r)) is not None)  # type: ignore[operator]
        q1, q3 = percentile(values, 0.25), percentile(values, 0.75)
        fence = q3 + 1.5 * (q3 - q1) if q1 is not None and q3 is not None else None
        far = sorted(((d, i) for d, i in timed if fence is not None and d > fence and len(values) >= 4),
                     key=lambda x: (-x[0], x[1]))[:MAX_OUTLIERS]
        starts = [s for i in idx if (s := spans.started[i]) is not None]
        ends = [e for i in idx if (e := spans.finished[i]) is not None]
        wall = max(ends) - min(starts) if starts and ends and len(ends) == len(idx) else None
        out.append({
            "step_name": name, "tasks": len(idx), "timed": len(values), "wall_ms": wall, "total_ms": sum(values),
            "min_ms": values[0] if values else None, "p50_ms": percentile(values, 0.5),
            "p95_ms": percentile(values, 0.95), "max_ms": values[-1] if values else None,
            "queued_p50_ms": percentile(queued, 0.5), "queued_p95_ms": percentile(queued, 0.95),
            "histogram": histogram(values),
            "outliers": [{"pathspec": f"{run['flow_id']}/{run['run_id']}/{name}/{spans.task_id[i]}",
                          "task_id": spans.task_id[i], "foreach_value": spans.foreach_value[i],
                          "duration_ms": d} for d, i in far],
        })
    return {"run": f"{run['flow_id']}/{run['run_id']}", "steps": out}
