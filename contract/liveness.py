"""The words of a lost heartbeat, shared by the server's SQL and the runtime's client.

The reason names the last sign of life and the timeout that passed, never the time elapsed since:
an answer about a run that died last week is the same at every read (so its ETag and cached body
stay valid, and two reads agree); how long ago that was is the reader's to compute from
``heartbeat_at``.
"""

from __future__ import annotations

from datetime import UTC, datetime


def silence_text(timeout_s: float) -> str:
    """``no signal for over 60 s`` (``2 min`` from two minutes on): the timeout that passed."""
    if timeout_s >= 120 and timeout_s % 60 == 0:
        return f"no signal for over {int(timeout_s // 60)} min"
    return f"no signal for over {timeout_s:g} s"


# The last sign of life, in UTC with its date: the same text from the database server and from the
# runtime's client whatever their time zones, and a run dead for a week says which day.
SQL_AT_FORMAT = "YYYY-MM-DD HH24:MI:SS"
PY_AT_FORMAT = "%Y-%m-%d %H:%M:%S"


def lost_reason(at_ms: int, timeout_s: float) -> str:
    """``heartbeat lost at 2026-12-05 14:03:12 UTC (no signal for over 60 s)``."""
    at = datetime.fromtimestamp(at_ms / 1000, tz=UTC).strftime(PY_AT_FORMAT)
    return f"heartbeat lost at {at} UTC ({silence_text(timeout_s)})"
