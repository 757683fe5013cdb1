"""Metaflow's MFLOG line format: ``[MFLOG|0|<UTC time>Z|<source>|<line id>]<text>``."""

from __future__ import annotations

import heapq
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

_LINE = re.compile(
    rb"^(?:\[!)?\[MFLOG\|(?P<ver>[^|\]]*)\|(?P<ts>[^|\]]*)\|(?P<src>[^|\]]*)\|(?P<id>[^\]]*)\](?P<text>.*)$",
    re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class MflogLine:
    ts_ms: int | None     # None: the line was not in MFLOG format (sorted last)
    source: str           # "runtime", "task", or "" when unparsed
    text: str


def _parse_ts(raw: bytes) -> int | None:
    text = raw.decode("ascii", "replace").rstrip("Z")
    try:
        dt = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f")
    except ValueError:
        try:
            dt = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S")
        except ValueError:
            return None
    return int(dt.replace(tzinfo=UTC).timestamp() * 1000)


def parse_mflog(data: bytes) -> list[MflogLine]:
    """Lines of one log file. The last line may lack its newline ("Task failed.")."""
    out: list[MflogLine] = []
    if not data:
        return out
    raw_lines = data.split(b"\n")
    if raw_lines and raw_lines[-1] == b"":
        raw_lines.pop()
    for raw in raw_lines:
        m = _LINE.match(raw)
        if m is None:
            out.append(MflogLine(None, "", raw.decode("utf-8", "replace")))
            continue
        ts = _parse_ts(m.group("ts"))
        # Interned: a log's lines share their two or three source names (cached lines are many).
        out.append(MflogLine(ts, sys.intern(m.group("src").decode("utf-8", "replace")),
                             m.group("text").decode("utf-8", "replace")))
    return out


def merge_mflog(sources: Iterable[list[MflogLine]]) -> list[MflogLine]:
    """Merge the lines of several files of one stream by time, like the Metaflow client.

    Each file is already in time order; unparseable lines go last.
    """
    timed: list[list[MflogLine]] = []
    untimed: list[MflogLine] = []
    for lines in sources:
        timed.append([ln for ln in lines if ln.ts_ms is not None])
        untimed += [ln for ln in lines if ln.ts_ms is None]
    merged = list(heapq.merge(*timed, key=lambda ln: ln.ts_ms or 0))
    return merged + untimed
