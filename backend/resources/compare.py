"""Comparing two runs: the schema of the answer and the pure functions that shape its parts.

The handler (backend/api/compare.py) loads both runs and their per-step aggregates; everything
here is computed from those rows alone.
"""

from __future__ import annotations

from typing import Any

from backend.db.query import Row
from backend.resources.schema import ANY, BOOL, INT, NUM, STATUS, STR, arr, nullable, obj, ref
from backend.resources.steps import step_counts

CHANGE = {"type": "string", "enum": ["added", "removed", "changed", "unchanged"]}
SIDE = obj({"task_counts": ref("TaskCounts"), "wall_ms": nullable(INT), "task_total_ms": nullable(INT),
            "p50_ms": nullable(NUM), "p95_ms": nullable(NUM)})
ARTIFACT_SIDE = obj({"sha": nullable(STR), "type": nullable(STR), "size": nullable(INT),
                     "preview": nullable(STR), "task_id": STR, "n_tasks": INT})
FAILURE = obj({"step_name": STR, "task_id": STR, "attempt": INT, "pathspec": STR,
               "exception_type": nullable(STR), "exception_message": nullable(STR),
               "status_reason": nullable(STR), "failed_at": nullable(INT)})

SCHEMAS = {
    "Comparison": obj({
        "a": ref("Run"), "b": ref("Run"), "same_flow": BOOL, "note": nullable(STR),
        "parameters": arr(obj({"name": STR, "status": CHANGE, "a": ANY, "b": ANY})),
        "tags": obj({"added": arr(STR), "removed": arr(STR), "unchanged": arr(STR)}),
        "steps": arr(obj({"step_name": STR, "status": {"type": "string", "enum": ["added", "removed", "unchanged"]},
                          "a": nullable(SIDE), "b": nullable(SIDE),
                          "ratio": nullable(obj({k: nullable(NUM) for k in
                                                 ("wall_ms", "task_total_ms", "p50_ms", "p95_ms")}))})),
        "artifact_steps": arr(STR),
        "artifacts": arr(obj({"step_name": STR, "name": STR, "status": CHANGE, "a": nullable(ARTIFACT_SIDE),
                              "b": nullable(ARTIFACT_SIDE)})),
        "artifacts_truncated": BOOL,
        "failures": obj({"a": nullable(FAILURE), "b": nullable(FAILURE)}),
    }, description="What changed between run a (baseline) and run b."),
}
_ = STATUS  # statuses of runs are in Run


def diff_values(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    """Every key of either side with added | removed | changed | unchanged, sorted by name."""
    out = []
    for key in sorted(set(a) | set(b)):
        if key not in a:
            status = "added"
        elif key not in b:
            status = "removed"
        else:
            status = "unchanged" if a[key] == b[key] else "changed"
        out.append({"name": key, "status": status, "a": a.get(key), "b": b.get(key)})
    return out


def diff_tags(a: list[str], b: list[str]) -> dict[str, list[str]]:
    return {"added": sorted(set(b) - set(a)), "removed": sorted(set(a) - set(b)),
            "unchanged": sorted(set(a) & set(b))}


def merge_order(a: list[str], b: list[str]) -> list[str]:
    """b's order, with steps only in a placed after the step that preceded them in a."""
    out = list(b)
    for i, name in enumerate(a):
        if name in out:
            continue
        prev = next((p for p in reversed(a[:i]) if p in out), None)
        out.insert(out.index(prev) + 1 if prev is not None else 0, name)
    return out


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or a <= 0:
        return None
    return round(b / a, 3)


def timing(row: Row | None, step: Row | None) -> dict[str, Any]:
    wall = None
    if step and step["started_at"] is not None and step["finished_at"] is not None:
        wall = step["finished_at"] - step["started_at"]
    return {
        "wall_ms": wall,
        "task_total_ms": int(row["task_total_ms"]) if row else None,
        "p50_ms": float(row["p50_ms"]) if row else None,
        "p95_ms": float(row["p95_ms"]) if row else None,
    }


def step_side(run: Row, step: Row | None, durations: Row | None) -> dict[str, Any]:
    return {"task_counts": step_counts(step, bool(run["stale"])), **timing(durations, step)}


def artifact_side(row: Row | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {"sha": row["sha"], "type": row["type"], "size": row["size"], "preview": row["preview"],
            "task_id": row["task_id"], "n_tasks": row["n_tasks"]}


def diff_artifacts(a_rows: list[Row], b_rows: list[Row]) -> list[dict[str, Any]]:
    a = {(r["step_name"], r["name"]): r for r in a_rows}
    b = {(r["step_name"], r["name"]): r for r in b_rows}
    out = []
    for key in sorted(set(a) | set(b)):
        ra, rb = a.get(key), b.get(key)
        if ra is None:
            status = "added"
        elif rb is None:
            status = "removed"
        else:
            status = "unchanged" if ra["digest"] == rb["digest"] else "changed"
        side_b = artifact_side(rb)
        if status == "unchanged" and side_b is not None:
            side_b["preview"] = None  # the same value: the UI shows a's preview once
        out.append({"step_name": key[0], "name": key[1], "status": status, "a": artifact_side(ra), "b": side_b})
    return out


def failure_shape(run: Row, row: Row | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {"step_name": row["step_name"], "task_id": row["task_id"], "attempt": row["attempt"],
            "pathspec": f"{run['flow_id']}/{run['run_id']}/{row['step_name']}/{row['task_id']}",
            "exception_type": row["exception_type"], "exception_message": row["exception_message"],
            "status_reason": row["status_reason"], "failed_at": row["failed_at"]}
