"""The failure digest of a run: failed tasks grouped by error signature.

A signature is the exception type, the message with numbers, ids and paths normalised, and the
innermost frame of user code in the traceback (file, function and the source line's text, not
its number, so an edit above the frame does not split a group across runs). The same error
raised with different ids groups together; the same message raised from two places does not.
Everything here is pure: the handler (backend/api/digest.py) reads the rows and the logs.
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections import Counter
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from backend.cache.lru import LruCache
from backend.db.query import Row
from backend.resources.schema import BOOL, INT, STR, arr, nullable, obj, ref

MAX_GROUPS = 100          # groups listed; the rest are counted in ``other_tasks``
MAX_VALUES = 20           # foreach values listed per group
MESSAGE_CHARS = 500

OCCURRENCE = obj({"pathspec": STR, "step_name": STR, "task_id": STR, "attempt": INT, "at": nullable(INT)})
FRAME = obj({"file": STR, "line": nullable(INT), "function": STR, "code": nullable(STR)})
LOG_LINE = obj({"stream": STR, "line": INT, "last_line": INT, "text": STR})

SCHEMAS = {
    "FailureGroup": obj({
        "signature": STR, "exception_type": nullable(STR), "message": STR, "example_message": STR,
        "frame": nullable(FRAME), "count": INT, "retried": INT,
        "steps": arr(obj({"step_name": STR, "count": INT})),
        "foreach_values": arr(obj({"value": STR, "count": INT})), "foreach_values_truncated": BOOL,
        "first": OCCURRENCE, "last": OCCURRENCE,
        "example": obj({"pathspec": STR, "step_name": STR, "task_id": STR, "attempt": INT, "at": nullable(INT),
                        "foreach_value": nullable(STR), "log": nullable(LOG_LINE), "url": STR}),
        "first_seen_run": nullable(STR), "other_runs": arr(STR),
    }, description="Failed tasks (count) and retried attempts (retried: failed attempts a retry "
                   "followed) that share one error signature; steps, foreach values, first and last "
                   "count both. first_seen_run / other_runs: within the flow's recent failed runs."),
    "FailureDigest": obj({
        "run": STR, "status": STR, "failed_tasks": INT, "retried_attempts": INT,
        "groups": arr(ref("FailureGroup")), "other_tasks": INT,
        "runs_compared": arr(STR),
    }, description="A run's failures grouped by error signature, newest signature first."),
}

_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)
_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.I)
_PATH = re.compile(r"(?<![\w/])(?:~|\.{1,2})?/?(?:[\w.@+-]+/)+[\w.@+-]*")
_HEX = re.compile(r"\b(?:0x[0-9a-f]+|(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,})\b", re.I)
_NUMBER = re.compile(r"(?<![A-Za-z_])[-+]?\d+(?:[.,:]\d+)*")
_FRAMES = re.compile(r'^[ \t]*File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<func>[^\n]+)'
                     r'(?:\n(?![ \t]*File ")    (?P<code>[^\n]*))?', re.M)
# Frames of Python itself, installed packages and the two runtimes are not "user code".
_LIBRARY = re.compile(r"(site-packages|dist-packages)/|/lib/python\d[.\d]*/|^<frozen |/core_runtime/|"
                      r"/metaflow/(?!.*flows?/)", re.I)


T = TypeVar("T")
# What the memo pays per entry besides its strings: the LRU's dict slot and bookkeeping tuple,
# the key tuple and the one-element box around the value (checked in tests/backend/test_cache_budget.py).
MEMO_ENTRY_BYTES = 270


def memoized(memo: LruCache[Any] | None, key: tuple[Hashable, ...], compute: Callable[[], T],
             size: Callable[[T], int]) -> T:
    """``compute()``, kept in ``memo`` (the app's FAILURE_SIGNATURES cache, bounded in bytes by
    its part of FLOWSCOPE_CACHE_MEMORY_MB) when one is given: one error often repeats its exact
    message and traceback thousands of times in a run. ``size(value)``: the bytes of the value
    and of the key's strings that only this entry keeps."""
    if memo is None:
        return compute()
    hit = memo.get(key)
    if hit is not None:
        return cast(T, hit[0])
    value = compute()
    memo.put(key, (value,), size=MEMO_ENTRY_BYTES + size(value))
    return value


def _frame_size(frame: Frame | None) -> int:
    if frame is None:
        return 0
    return sys.getsizeof(frame) + sum(sys.getsizeof(s) for s in (frame.file, frame.function, frame.code)
                                      if s is not None)


def normalize(message: str, memo: LruCache[Any] | None = None) -> str:
    """The message with what varies between occurrences of one error replaced by placeholders."""
    return memoized(memo, ("normalize", message), lambda: _normalize(message),
                    lambda text: sys.getsizeof(message) + sys.getsizeof(text))


def _normalize(message: str) -> str:
    text = message[:MESSAGE_CHARS]
    text = _URL.sub("<url>", text)
    text = _UUID.sub("<uuid>", text)
    text = _PATH.sub("<path>", text)
    text = _HEX.sub("<id>", text)
    text = _NUMBER.sub("<n>", text)
    return " ".join(text.split())


@dataclass(frozen=True, slots=True)
class Frame:
    file: str
    line: int | None
    function: str
    code: str | None

    def key(self) -> str:
        return f"{self.file.rsplit('/', 1)[-1]}:{self.function}:{self.code or ''}"

    def shape(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "function": self.function, "code": self.code}


def frames_part(traceback: str) -> str:
    """The traceback up to its last frame's source line: what follows is the exception's message,
    which differs between occurrences of one error while the frames do not."""
    at = traceback.rfind('File "')
    if at < 0:
        return ""
    end = traceback.find("\n", at)
    if end >= 0 and traceback.startswith("    ", end + 1):
        end = traceback.find("\n", end + 1)
    return traceback if end < 0 else traceback[:end]


def _innermost_user_frame(frames: str) -> Frame | None:
    found = [Frame(m["file"], int(m["line"]), m["func"].strip(), (m["code"] or "").strip() or None)
             for m in _FRAMES.finditer(frames)]
    if not found:
        return None
    mine = [f for f in found if not _LIBRARY.search(f.file)]
    return (mine or found)[-1]


def user_frame(traceback: str | None, memo: LruCache[Any] | None = None) -> Frame | None:
    """The innermost frame of user code (the last frame, if every frame is library code)."""
    if not traceback:
        return None
    frames = frames_part(traceback)
    return memoized(memo, ("frame", frames), lambda: _innermost_user_frame(frames),
                    lambda frame: sys.getsizeof(frames) + _frame_size(frame))


def failure_message(row: Row) -> str:
    """What the failure says: the exception's message, else the attempt's or task's reason."""
    if row.get("exception_type"):
        return str(row.get("exception_message") or "")
    return str(row.get("attempt_reason") or row.get("task_reason") or "failed without a reason")


def signature_of(row: Row, memo: LruCache[Any] | None = None) -> tuple[str, str, Frame | None]:
    """(signature id, normalised message, frame) of one failure row; ``memo``: see memoized()."""
    etype = row.get("exception_type") or ""
    message = normalize(failure_message(row), memo)
    frame = user_frame(row.get("traceback"), memo)
    frame_key = frame.key() if frame else ""
    # The normalised message is the "normalize" entry's value: counted there.
    sig = memoized(memo, ("signature", etype, message, frame_key), lambda: _signature(etype, message, frame_key),
                   lambda text: sys.getsizeof(etype) + sys.getsizeof(frame_key) + sys.getsizeof(text))
    return sig, message, frame


def _signature(etype: str, message: str, frame_key: str) -> str:
    return hashlib.sha1("\x1f".join((etype, message, frame_key)).encode()).hexdigest()[:12]


@dataclass
class Group:
    signature: str
    exception_type: str | None
    message: str
    frame: Frame | None
    final: list[Row] = field(default_factory=list)      # failed tasks (their last attempt)
    retried: list[Row] = field(default_factory=list)    # failed attempts a retry followed

    def example(self) -> Row:
        """The earliest failed task; the earliest retried attempt if the group has none."""
        return min(self.final or self.retried, key=lambda r: (r["at"] is None, r["at"] or 0, r["task_pk"]))


def group_failures(final: list[Row], retried: list[Row], memo: LruCache[Any] | None = None) -> list[Group]:
    """Failed tasks and retried attempts by signature: groups with failed tasks first (most
    first), then groups only retried attempts had."""
    groups: dict[str, Group] = {}
    for rows, is_final in ((final, True), (retried, False)):
        for row in rows:
            sig, message, frame = signature_of(row, memo)
            group = groups.get(sig)
            if group is None:
                group = groups[sig] = Group(sig, row.get("exception_type"), message, frame)
            (group.final if is_final else group.retried).append(row)
    return sorted(groups.values(), key=lambda g: (0 if g.final else 1, -len(g.final), -len(g.retried),
                                                  g.signature))


def occurrence(run: Row, row: Row) -> dict[str, Any]:
    return {"pathspec": f"{run['flow_id']}/{run['run_id']}/{row['step_name']}/{row['task_id']}",
            "step_name": row["step_name"], "task_id": row["task_id"], "attempt": row["attempt"],
            "at": row["at"]}


def task_url(run: Row, row: Row, log: dict[str, Any] | None) -> str:
    """The UI's link to the example's log, at its error line when it was found."""
    url = f"/{run['flow_id']}/{run['run_id']}/{row['step_name']}/{row['task_id']}?attempt={row['attempt']}"
    if log is None:
        return url + "&stream=stderr"
    anchor = f"#L{log['line']}" + (f"-{log['last_line']}" if log["last_line"] != log["line"] else "")
    return f"{url}&stream={log['stream']}{anchor}"


def error_lines(lines: list[dict[str, Any]], exception_type: str | None, message: str) -> tuple[int, int] | None:
    """The log lines of the error: the traceback block ending at the exception's line (last
    occurrence), else the last line that mentions the message."""
    needle = f"{exception_type}:" if exception_type else None
    end = None
    for item in reversed(lines):
        text = item["text"]
        if (needle and (text.startswith(needle) or f".{needle}" in text.split(" ", 1)[0])) \
                or (message and message[:80] in text):
            end = item["line"]
            break
    if end is None:
        return None
    start = end
    by_line = {item["line"]: item["text"] for item in lines}
    n = end
    while n - 1 in by_line and n > end - 200:
        n -= 1
        if by_line[n].startswith("Traceback (most recent call last)"):
            start = n
            break
    return start, end


def group_shape(run: Row, group: Group, log: dict[str, Any] | None, runs_seen: list[str],
                first_seen: str | None) -> dict[str, Any]:
    rows = group.final + group.retried
    by_time = sorted(rows, key=lambda r: (r["at"] is None, r["at"] or 0, r["task_pk"]))
    example = group.example()
    values = Counter(r["foreach_value"] for r in rows if r.get("foreach_value") is not None)
    steps = Counter(r["step_name"] for r in rows)
    return {
        "signature": group.signature, "exception_type": group.exception_type, "message": group.message,
        "example_message": failure_message(example)[:MESSAGE_CHARS],
        "frame": group.frame.shape() if group.frame else None,
        "count": len(group.final), "retried": len(group.retried),
        "steps": [{"step_name": s, "count": c} for s, c in steps.most_common()],
        "foreach_values": [{"value": v, "count": c} for v, c in values.most_common(MAX_VALUES)],
        "foreach_values_truncated": len(values) > MAX_VALUES,
        "first": occurrence(run, by_time[0]), "last": occurrence(run, by_time[-1]),
        "example": {**occurrence(run, example), "foreach_value": example.get("foreach_value"), "log": log,
                    "url": task_url(run, example, log)},
        "first_seen_run": first_seen, "other_runs": runs_seen,
    }
