"""Effective status in SQL: a 'running' row whose heartbeat is stale is reported as failed.

Computed in the query (not in Python after it) so that status filters, counts and the
displayed status always agree. Every query using these needs the params from live_params().
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from contract.liveness import SQL_AT_FORMAT, silence_text
from contract.settings import Settings


def live_params(settings: Settings, now_ms: int | None = None) -> dict[str, Any]:
    now = int(time.time() * 1000) if now_ms is None else now_ms
    return {"now": now, "stale_before": now - int(settings.heartbeat_timeout * 1000),
            "silence": silence_text(settings.heartbeat_timeout)}


def heartbeat_expr(alias: str, has_created: bool = True) -> str:
    """The last sign of life: heartbeat, else start, else creation."""
    created = f", {alias}.created_at" if has_created else ""
    return f"COALESCE({alias}.heartbeat_at, {alias}.started_at{created})"


def stale_expr(alias: str, has_created: bool = True) -> str:
    return (f"({alias}.status = 'running' AND "
            f"{heartbeat_expr(alias, has_created)} < %(stale_before)s)")


def end_expr(alias: str, has_created: bool = True) -> str:
    """Where a row's span ends: its finish, else its last sign of life once that is stale (a run
    or task killed without a word ended then, not at every later read), else NULL (running)."""
    return (f"COALESCE({alias}.finished_at, CASE WHEN {stale_expr(alias, has_created)} "
            f"THEN {heartbeat_expr(alias, has_created)} END)")


def status_expr(alias: str, has_created: bool = True) -> str:
    return (f"(CASE WHEN {stale_expr(alias, has_created)} THEN 'failed' "
            f"ELSE {alias}.status END)")


def reason_expr(alias: str, has_created: bool = True) -> str:
    """contract.liveness.lost_reason in SQL: the same words at every read."""
    hb = heartbeat_expr(alias, has_created)
    return (
        f"(CASE WHEN {stale_expr(alias, has_created)} THEN "
        f"'heartbeat lost at ' || to_char(to_timestamp({hb} / 1000.0) AT TIME ZONE 'UTC', "
        f"'{SQL_AT_FORMAT}') || ' UTC (' || %(silence)s || ')' "
        f"ELSE {alias}.status_reason END)"
    )


def status_filter(alias: str, statuses: Sequence[str], has_created: bool = True) -> str:
    """WHERE fragment matching rows whose *effective* status is one of ``statuses``."""
    hb = heartbeat_expr(alias, has_created)
    parts = []
    for status in dict.fromkeys(statuses):
        if status == "running":
            parts.append(f"({alias}.status = 'running' AND {hb} >= %(stale_before)s)")
        elif status == "failed":
            parts.append(f"({alias}.status = 'failed' OR ({alias}.status = 'running' "
                         f"AND {hb} < %(stale_before)s))")
        else:
            # statuses come from a fixed list checked by the parser, never from free text
            parts.append(f"{alias}.status = '{status}'")
    return "(" + " OR ".join(parts) + ")" if parts else "TRUE"
