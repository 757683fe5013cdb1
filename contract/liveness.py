"""The words of a lost heartbeat, shared by the server's SQL and the runtime's client.

The reason names the last sign of life and the timeout that passed, never the time elapsed since:
an answer about a run that died last week is the same at every read (so its ETag and cached body
stay valid, and two reads agree); how long ago that was is the reader's to compute from
``heartbeat_at``.
"""

from __future__ import annotations


def silence_text(timeout_s: float) -> str:
    """``no signal for over 60 s`` (``2 min`` from two minutes on): the timeout that passed."""
    if timeout_s >= 120 and timeout_s % 60 == 0:
        return f"no signal for over {int(timeout_s // 60)} min"
    return f"no signal for over {timeout_s:g} s"


def lost_reason(at_hms: str, timeout_s: float) -> str:
    """``heartbeat lost at 14:03:12 (no signal for over 60 s)``."""
    return f"heartbeat lost at {at_hms} ({silence_text(timeout_s)})"
