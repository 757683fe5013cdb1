"""Reading a task's captured stdout/stderr back from its log chunks (format: contract.logs_format)."""

from __future__ import annotations

from datetime import datetime

from contract.logs_format import read_log_lines
from core_runtime.client import queries
from core_runtime.client.base import to_datetime
from core_runtime.client.source import Source


def log_lines(src: Source, task_pk: int, attempt: int, stream: str) -> list[tuple[datetime | None, str]]:
    """(time, text) per line in line order; a malformed record keeps its text with no time."""
    rows = src.query(queries.LOG_CHUNKS, (task_pk, attempt, stream))
    chunks = [{"first_line": first, "location": location} for _s, first, _n, _f, _l, location in rows]
    return [(to_datetime(ts), text) for _no, ts, text in read_log_lines(src.datastore(), chunks)]


def log_text(src: Source, task_pk: int, attempt: int, stream: str) -> str:
    """Lines joined with newlines plus a final newline (Metaflow's ``task.stdout``); '' when empty."""
    lines = [text for _ts, text in log_lines(src, task_pk, attempt, stream)]
    return "\n".join(lines) + "\n" if lines else ""
