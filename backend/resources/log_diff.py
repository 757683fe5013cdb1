"""Two task logs aligned line by line, differing lines marked, timestamps and ids ignored.

Lines are compared after ``comparable``: dates and times, UUIDs, hex ids, process ids and long
numbers (ids, epoch times) become placeholders, so "run 12 started at 14:03" equals "run 15
started at 09:12" (and "run 12" equals "run 15") while "loss=0.31" still differs from "loss=0.52". The alignment is difflib's
(longest matching blocks, no junk heuristics); a replaced block is paired line by line as
"changed", the rest of it as "added" or "removed".
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from backend.resources.schema import BOOL, INT, STR, arr, nullable, obj

MAX_LINES = 2000          # lines of each log aligned (the last ones: where a failure shows)

SIDE = obj({"pathspec": STR, "step_name": STR, "task_id": STR, "attempt": INT, "status": STR,
            "total_lines": INT, "first_line": INT})
LINE = obj({"line": INT, "text": STR})
SCHEMAS = {
    "LogDiff": obj({
        "stream": STR, "a": nullable(SIDE), "b": nullable(SIDE), "truncated": BOOL, "changed": INT,
        "rows": arr(obj({"op": {"type": "string", "enum": ["equal", "changed", "added", "removed"]},
                         "a": nullable(LINE), "b": nullable(LINE)})),
        "note": nullable(STR),
    }, description="The log of run b's first failed task (else of the chosen step's first task) "
                   "aligned with the same step's task in run a; timestamps and ids are ignored "
                   "when lines are compared."),
}

_RULES = [
    (re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?"), "<time>"),
    (re.compile(r"\b\d{1,2}:\d{2}:\d{2}(\.\d+)?\b"), "<time>"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I), "<uuid>"),
    (re.compile(r"\b(?:0x[0-9a-f]+|(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,})\b", re.I), "<id>"),
    (re.compile(r"\bpid \d+"), "pid <n>"),
    (re.compile(r"(?<=/)\d+(?=/|\b)"), "<n>"),          # run and task ids in pathspecs and paths
    (re.compile(r"(?<![\w.])\d+(?=/[A-Za-z_])"), "<n>"),  # a run id starting a pathspec: 12/train/345
    (re.compile(r"\b(run|task)( id)?([ :=#]+)\d+\b", re.I), r"\1\2\3<n>"),
    (re.compile(r"(?<![\d.])\d{5,}(\.\d+)?(?![\d.])"), "<n>"),   # long numbers: ids, epoch times
]


def comparable(text: str) -> str:
    for pattern, repl in _RULES:
        text = pattern.sub(repl, text)
    return " ".join(text.split())


def align(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """Rows pairing lines of a and b ({"line", "text"} each), and how many are not equal."""
    na = [comparable(x["text"]) for x in a]
    nb = [comparable(x["text"]) for x in b]
    matcher = difflib.SequenceMatcher(None, na, nb, autojunk=False)
    rows: list[dict[str, Any]] = []

    def line(x: dict[str, Any]) -> dict[str, Any]:
        return {"line": x["line"], "text": x["text"]}

    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            rows.extend({"op": "equal", "a": line(a[i]), "b": line(b[j])}
                        for i, j in zip(range(i1, i2), range(j1, j2), strict=True))
            continue
        pairs = min(i2 - i1, j2 - j1) if op == "replace" else 0
        rows.extend({"op": "changed", "a": line(a[i1 + k]), "b": line(b[j1 + k])} for k in range(pairs))
        rows.extend({"op": "removed", "a": line(a[i]), "b": None} for i in range(i1 + pairs, i2))
        rows.extend({"op": "added", "a": None, "b": line(b[j])} for j in range(j1 + pairs, j2))
    return rows, sum(1 for r in rows if r["op"] != "equal")
