"""Reading a task's captured stdout/stderr back from its log chunks (format: docs/schema.md)."""

from __future__ import annotations

from datetime import datetime

from core_runtime.client import context, queries
from core_runtime.client.base import to_datetime
from core_runtime.logs import read_log_lines


def log_lines(task_pk: int, attempt: int, stream: str) -> list[tuple[datetime | None, str]]:
    rows = context.query(queries.LOG_CHUNKS, (task_pk, attempt, stream))
    chunks = [{"first_line": first, "location": location} for _s, first, _n, _f, _l, location in rows]
    return [(to_datetime(ts), text) for _no, ts, text in read_log_lines(context.datastore(), chunks)]


def log_text(task_pk: int, attempt: int, stream: str) -> str:
    """Lines joined with newlines plus a final newline (Metaflow's ``task.stdout``); '' when empty."""
    lines = [text for _ts, text in log_lines(task_pk, attempt, stream)]
    return "\n".join(lines) + "\n" if lines else ""
