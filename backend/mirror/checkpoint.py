"""Where the mirror is, kept in Flowscope's database (``mirror_state``, ``mirror_runs``).

The checkpoint is written in the same transaction as the rows it covers: a mirror killed at any
point (``kill -9``) finds the last committed checkpoint and the rows up to it, nothing more.

* ``horizon``: the source's ``max(metadata.id)``, ``max(tasks.task_id)`` and clock when the mirror
  first started. The backfill copies every run with the rows up to the horizon; the live tail
  applies the rows after it. No source row is applied twice, none is skipped.
* ``backfill``: the key of the last run copied (newest first), done or not.
* ``tail``: cursors of the serial columns, the ids skipped by a poll because their transaction had
  not committed yet (gaps, re-read until they appear or expire), and the task attempts whose
  artifact rows are still expected.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from backend.ingest.db.pool import Cursor, one

GET = "SELECT phase, detail, checkpoint, updated_at FROM mirror_state WHERE source = %s"
SAVE = ("INSERT INTO mirror_state AS s (source, phase, detail, checkpoint, updated_at) "
        "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (source) DO UPDATE SET phase = EXCLUDED.phase, "
        "detail = EXCLUDED.detail, checkpoint = EXCLUDED.checkpoint, updated_at = EXCLUDED.updated_at")
SAVE_CHECKPOINT = ("INSERT INTO mirror_state AS s (source, phase, checkpoint, updated_at) VALUES (%s, %s, %s, %s) "
                   "ON CONFLICT (source) DO UPDATE SET checkpoint = EXCLUDED.checkpoint, "
                   "updated_at = EXCLUDED.updated_at")
SAVE_DETAIL = ("INSERT INTO mirror_state AS s (source, phase, detail, updated_at) VALUES (%s, %s, %s, %s) "
               "ON CONFLICT (source) DO UPDATE SET phase = EXCLUDED.phase, detail = EXCLUDED.detail, "
               "updated_at = EXCLUDED.updated_at")
MIRRORED = ("SELECT m.run_pk, m.flow_id, m.run_number, r.run_id FROM mirror_runs m JOIN runs r USING (run_pk) "
            "JOIN unnest(%s::text[], %s::bigint[]) AS k(f, n) ON m.flow_id = k.f AND m.run_number = k.n "
            "WHERE m.source = %s")
RECORD_RUNS = ("INSERT INTO mirror_runs (run_pk, source, flow_id, run_number) SELECT x.run_pk, x.source, "
               "x.flow_id, x.run_number FROM json_populate_recordset(NULL::mirror_runs, %s) x ON CONFLICT DO NOTHING")


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Tail:
    metadata_id: int = 0
    task_id: int = 0
    run_ts: int = 0
    metadata_gaps: dict[str, int] = field(default_factory=dict)   # id -> first noticed (ms)
    task_gaps: dict[str, int] = field(default_factory=dict)
    # "flow/run_number/step/task_id/attempt" -> {since, last (ms), names applied, expected count}
    pending_artifacts: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class Checkpoint:
    horizon: dict[str, int] | None = None          # metadata_id, task_id, ts
    total_runs: int = 0                             # runs up to the horizon (progress)
    flows_done: bool = False
    flows_cursor: str = ""
    backfill_cursor: list[Any] | None = None        # [ts_epoch, flow_id, run_number] of the last run copied
    backfill_done: bool = False
    runs_done: int = 0
    # A run too large for one transaction: its key and the last task_id copied.
    partial_run: dict[str, Any] | None = None
    tail: Tail = field(default_factory=Tail)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Checkpoint:
        if not data:
            return cls()
        tail = Tail(**data.get("tail", {}))
        return cls(**{**data, "tail": tail})


def expect_artifacts(tail: Tail, key: tuple[Any, ...], now: int, names: list[str] | None = None) -> None:
    """Artifact rows of this task attempt are on their way (it reported attempt-done)."""
    tail.pending_artifacts.setdefault("/".join(map(str, key)),
                                      {"since": now, "last": now, "names": sorted(names or []), "expected": None})


async def load(cur: Cursor, source: str) -> tuple[Checkpoint, dict[str, Any] | None]:
    row = await one(cur, GET, (source,))
    if row is None:
        return Checkpoint(), None
    return Checkpoint.from_json(row["checkpoint"]), row


async def save(cur: Cursor, source: str, phase: str, ckpt: Checkpoint) -> None:
    await cur.execute(SAVE_CHECKPOINT, (source, phase, ckpt.to_json(), now_ms()))


async def save_detail(cur: Cursor, source: str, phase: str, detail: dict[str, Any]) -> None:
    await cur.execute(SAVE_DETAIL, (source, phase, json.dumps(detail), now_ms()))
