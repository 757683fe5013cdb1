"""Rows of a small Metaflow run written straight into a source, call by call like the service.

For fault tests that need writes at precise moments (around a restart) without a metaflow
process: each row is its own autocommit INSERT with ``ts_epoch`` from the clock, in the order a
local metaflow run makes the service write them (run, _parameters, start, end).
"""

from __future__ import annotations

import json
import time
from typing import Any

from tests.mirror.source_harness import SourceDb, admin

SYSTEM = json.dumps(["runtime:dev", "user:tester", "python_version:3.11.7", "metaflow_version:2.19.39"])


def _ms() -> int:
    return int(time.time() * 1000)


class Writer:
    def __init__(self, source: SourceDb) -> None:
        self.source = source
        self.n = source.names

    def _insert(self, table: str, row: dict[str, Any], returning: str | None = None) -> Any:
        row = dict(row, ts_epoch=_ms())
        sql = (f"INSERT INTO {self.n.q(table)} ({', '.join(row)}) VALUES ({', '.join(['%s'] * len(row))})"
               + (f" RETURNING {returning}" if returning else ""))
        with admin(self.source.admin_dsn) as conn, conn.cursor() as cur:
            cur.execute(sql, tuple(row.values()))
            return cur.fetchone()[0] if returning else None

    def flow(self, flow: str) -> None:
        with admin(self.source.admin_dsn) as conn, conn.cursor() as cur:
            cur.execute(f"INSERT INTO {self.n.q('flows')} (flow_id, ts_epoch) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                        (flow, _ms()))

    def run(self, flow: str, *, finish: bool = True, tags: list[str] | None = None) -> int:
        """A two-step run (start, end); returns its run_number."""
        self.flow(flow)
        number = self._insert("runs", {"flow_id": flow, "user_name": "tester", "tags": json.dumps(tags or []),
                                       "system_tags": SYSTEM, "last_heartbeat_ts": int(time.time())}, "run_number")
        for step in ("_parameters", "start", "end") if finish else ("_parameters", "start"):
            self._insert("steps", {"flow_id": flow, "run_number": number, "run_id": str(number), "step_name": step,
                                   "user_name": "tester", "tags": "[]", "system_tags": SYSTEM})
            task = self._insert("tasks", {"flow_id": flow, "run_number": number, "step_name": step,
                                          "user_name": "tester", "tags": "[]", "system_tags": SYSTEM,
                                          "last_heartbeat_ts": int(time.time())}, "task_id")
            if step == "_parameters":
                self.metadata(flow, number, step, task, [("attempt-done", "0", "attempt-done")])
                continue
            self.metadata(flow, number, step, task, [("attempt", "0", "attempt"), ("ds-type", "local", "ds-type")])
            if finish or step != "start":
                self.metadata(flow, number, step, task, [("attempt_ok", "True", "internal_attempt_status"),
                                                         ("attempt-done", "0", "attempt-done")])
        return int(number)

    def metadata(self, flow: str, number: int, step: str, task: int, fields: list[tuple[str, str, str]]) -> None:
        for field, value, kind in fields:
            self._insert("metadata", {"flow_id": flow, "run_number": number, "step_name": step, "task_id": task,
                                      "field_name": field, "value": value, "type": kind, "user_name": "tester",
                                      "tags": json.dumps(["attempt_id:0"]), "system_tags": "null"})

    def count(self, table: str) -> int:
        return int(self.source.rows(f"SELECT count(*) AS n FROM {self.n.q(table)}")[0]["n"])
