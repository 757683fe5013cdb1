"""The mirror's state, as people read it: backfilling 43 %, live, lagging 12 s, disconnected since …

Kept in memory by the running mirror and published into ``mirror_state`` (at most once a second,
and at once on a change of phase), where the UI backend reads it: the mirror may run in another
process or container than the UI.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

ALL_STATES = "SELECT source, phase, detail, updated_at FROM mirror_state ORDER BY source"
LIVE_LAG_MS = 5000            # up to this far behind the source still reads "live"
STALE_AFTER_MS = 30_000       # a mirror that has not published for this long is not running


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class MirrorStatus:
    name: str
    source: str                          # where the source is (DSN without password)
    phase: str = "starting"              # starting | backfilling | live | disconnected | refused | stopped
    schema_version: int | None = None
    listening: bool = False
    triggers: list[str] = field(default_factory=list)
    total_runs: int = 0
    runs_done: int = 0
    rows: int = 0
    backfill_started_at: int | None = None
    caught_up_at: int | None = None      # start of the last poll that found nothing more to read
    last_change_at: int | None = None    # source clock of the newest row applied
    disconnected_since: int | None = None
    unreachable: str | None = None       # "source" or "flowscope"
    error: str | None = None
    skipped: int = 0
    last_skipped: deque[str] = field(default_factory=lambda: deque(maxlen=5))
    datastore_unreadable: dict[str, int] = field(default_factory=dict)
    source_queries: int = 0
    _rate: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=120))
    _query_rate: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=120))

    def backfill_progress(self, done: int, total: int, rows: int) -> None:
        self.runs_done, self.total_runs = done, max(total, done)
        self.rows += rows
        self._rate.append((time.monotonic(), done))

    def runs_per_s(self) -> float | None:
        if len(self._rate) < 2:
            return None
        (t0, d0), (t1, d1) = self._rate[0], self._rate[-1]
        return (d1 - d0) / (t1 - t0) if t1 > t0 else None

    def eta_s(self) -> float | None:
        rate = self.runs_per_s()
        if not rate or rate <= 0:
            return None
        return max(0.0, (self.total_runs - self.runs_done) / rate)

    def percent(self) -> float:
        return 100.0 * self.runs_done / self.total_runs if self.total_runs else 100.0

    def note_queries(self, total: int) -> None:
        self.source_queries = total
        self._query_rate.append((time.monotonic(), total))

    def queries_per_s(self) -> float | None:
        """Statements per second the mirror sent to the source over the last ~minute."""
        pts = [p for p in self._query_rate if p[0] >= time.monotonic() - 60]
        if len(pts) < 2 or pts[-1][0] <= pts[0][0]:
            return None
        return (pts[-1][1] - pts[0][1]) / (pts[-1][0] - pts[0][0])

    def lag_ms(self, now: int | None = None) -> int | None:
        if self.caught_up_at is None:
            return None
        return max(0, (now or now_ms()) - self.caught_up_at)

    def detail(self) -> dict[str, Any]:
        rate = self.runs_per_s()
        qps = self.queries_per_s()
        return {
            "source": self.source, "schema_version": self.schema_version, "listening": self.listening,
            "triggers": self.triggers,
            "backfill": {"runs_done": self.runs_done, "runs_total": self.total_runs,
                         "percent": round(self.percent(), 1), "runs_per_s": round(rate, 1) if rate else None,
                         "eta_s": round(e) if (e := self.eta_s()) is not None else None,
                         "started_at": self.backfill_started_at},
            "rows_applied": self.rows, "caught_up_at": self.caught_up_at, "last_change_at": self.last_change_at,
            "disconnected_since": self.disconnected_since, "unreachable": self.unreachable, "error": self.error,
            "skipped_rows": self.skipped, "last_skipped": list(self.last_skipped),
            "datastore_unreadable": dict(self.datastore_unreadable),
            "source_queries": self.source_queries, "source_queries_per_s": round(qps, 2) if qps is not None else None,
        }


def describe(phase: str, detail: dict[str, Any], updated_at: int, now: int | None = None) -> dict[str, Any]:
    """The state as shown: a label ("backfilling 43 %", "lagging 12 s", ...) plus the facts."""
    now = now or now_ms()
    # Every fact, even from a row published before a field existed (or with only a checkpoint):
    # the answer has the MirrorState schema of /api/openapi.json.
    detail = {**MirrorStatus(name="", source="").detail(), **detail}
    state, label = phase, phase
    if phase == "backfilling":
        label = f"backfilling {detail.get('backfill', {}).get('percent', 0):.0f} %"
    elif phase == "live":
        caught = detail.get("caught_up_at")
        lag = max(0, now - caught) if isinstance(caught, int) else None
        if lag is not None and lag > LIVE_LAG_MS:
            state, label = "lagging", f"lagging {lag // 1000} s"
    elif phase == "disconnected":
        since = detail.get("disconnected_since")
        what = detail.get("unreachable") or "source"
        when = time.strftime("%H:%M:%S", time.localtime(since / 1000)) if isinstance(since, int) else "?"
        label = f"disconnected from the {'Flowscope database' if what == 'flowscope' else 'source'} since {when}"
    elif phase == "refused":
        label = "refused: " + str(detail.get("error") or "unknown schema")
    if phase not in ("refused", "stopped") and now - updated_at > STALE_AFTER_MS:
        # The mirror process itself is gone (or cannot reach Flowscope's database to say so).
        state = "stopped"
        label = "not running since " + time.strftime("%H:%M:%S", time.localtime(updated_at / 1000))
    lag_ms = None
    if isinstance(detail.get("caught_up_at"), int) and phase == "live":
        lag_ms = max(0, now - detail["caught_up_at"])
    return {"state": state, "label": label, "lag_ms": lag_ms, "updated_at": updated_at, **detail}
