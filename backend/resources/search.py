"""Run-wide log search: the NDJSON lines it streams (each match, then one summary)."""

from __future__ import annotations

from typing import Any

from backend.resources.schema import BOOL, INT, STR, nullable, obj, ref

SCHEMAS = {
    "SearchMatch": obj({"type": {"const": "match"}, "task": STR, "step_name": STR, "task_id": STR,
                        "attempt": INT, "stream": STR, "line": INT, "ts": nullable(INT), "text": STR}),
    "SearchDone": obj({"type": {"const": "done"}, "matches": INT, "scanned_bytes": INT, "truncated": BOOL,
                       "reason": nullable(STR)}),
    "SearchLine": {"oneOf": [ref("SearchMatch"), ref("SearchDone")],
                   "description": "One line of the NDJSON answer: matches as found, then one summary."},
}


def match_shape(run: dict[str, Any], task: dict[str, Any], attempt: int, stream: str, number: int,
                ts: int | None, text: str) -> dict[str, Any]:
    return {"type": "match", "task": f"{run['flow_id']}/{run['run_id']}/{task['step_name']}/{task['task_id']}",
            "step_name": task["step_name"], "task_id": task["task_id"], "attempt": attempt,
            "stream": stream, "line": number, "ts": ts, "text": text}


def done_shape(matches: int, scanned: int, reason: str | None) -> dict[str, Any]:
    return {"type": "done", "matches": matches, "scanned_bytes": scanned, "truncated": reason is not None,
            "reason": reason}
