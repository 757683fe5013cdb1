"""Postgres COPY text format: field escaping and per-table row buffers.

Most generated values come from a fixed vocabulary with no special characters, so the hot path
joins pre-escaped strings; only free text (tracebacks, previews, JSON) goes through ``esc``.
"""

from __future__ import annotations

from typing import ClassVar

NULL = "\\N"

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def esc(text: str | None) -> str:
    """One COPY field: backslash, tab and newlines escaped; None is NULL."""
    if text is None:
        return NULL
    return text.translate(_ESCAPES)


def num(value: int | None) -> str:
    return NULL if value is None else str(value)


class Tables:
    """Rows per table for one batch, each row a COPY line (without the newline)."""

    COLUMNS: ClassVar[dict[str, str]] = {
        "runs": "run_pk, flow_id, run_id, run_number, user_name, tags, system_tags, source, status, "
                "status_reason, failed_step, parameters, dag, created_at, started_at, finished_at, "
                "heartbeat_at, n_tasks, n_running, n_completed, n_failed, change_seq",
        "run_sources": "run_pk, file_name, source",
        "steps": "run_pk, step_name, created_at, started_at, finished_at, n_tasks, n_running, "
                 "n_completed, n_failed, change_seq",
        "tasks": "task_pk, run_pk, step_name, task_id, status, status_reason, attempt, foreach_index, "
                 "foreach_value, foreach_stack, parent_task_ids, created_at, started_at, finished_at, "
                 "heartbeat_at, change_seq",
        "attempts": "task_pk, attempt, run_pk, status, status_reason, started_at, finished_at, "
                    "heartbeat_at, exit_code, exception_type, exception_message, traceback, change_seq",
        "artifacts": "task_pk, attempt, name, run_pk, sha, type, size, encoding, location, preview, "
                     "created_at, change_seq",
        "metadata": "id, task_pk, run_pk, attempt, field_name, value, type, tags, created_at",
        "log_chunks": "task_pk, attempt, stream, seq, run_pk, first_line, n_lines, n_bytes, first_ts, "
                      "last_ts, location, created_at, change_seq",
    }
    # Parents before children, so the foreign keys would hold even with triggers on.
    ORDER: ClassVar[tuple[str, ...]] = ("runs", "run_sources", "steps", "tasks", "attempts", "artifacts", "metadata", "log_chunks")

    def __init__(self) -> None:
        self.rows: dict[str, list[str]] = {name: [] for name in self.ORDER}

    def count(self) -> int:
        return sum(len(r) for r in self.rows.values())

    def payload(self, table: str) -> bytes:
        rows = self.rows[table]
        return ("\n".join(rows) + "\n").encode() if rows else b""
