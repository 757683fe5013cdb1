"""A small Metaflow run written into a metaflow-service database call by call, like the service.

For tests and benchmarks that need source writes at precise moments without a metaflow process:
each row is its own autocommit INSERT with ``ts_epoch`` from the clock, in the order a local
metaflow run makes the service write them (run, then per step: step, task, its metadata).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg2

from bench.mf_source.schema import Names

SYSTEM = json.dumps(["runtime:dev", "user:tester", "python_version:3.11.7", "metaflow_version:2.19.39"])


def _ms() -> int:
    return int(time.time() * 1000)


class Writer:
    """Writes as the service does; ``committed`` is the time (s) the last run row was committed."""

    def __init__(self, dsn: str, names: Names | None = None) -> None:
        self.dsn = dsn
        self.n = names or Names()
        self.committed = 0.0

    @contextmanager
    def _conn(self) -> Iterator[Any]:
        conn = psycopg2.connect(self.dsn)
        conn.autocommit = True
        try:
            yield conn
        finally:
            conn.close()

    def _insert(self, cur: Any, table: str, row: dict[str, Any], returning: str | None = None) -> Any:
        row = dict(row, ts_epoch=_ms())
        cur.execute(f"INSERT INTO {self.n.q(table)} ({', '.join(row)}) VALUES ({', '.join(['%s'] * len(row))})"
                    + (f" RETURNING {returning}" if returning else ""), tuple(row.values()))
        return cur.fetchone()[0] if returning else None

    def run(self, flow: str, *, finish: bool = True, tags: list[str] | None = None) -> int:
        """A run of two steps (start, end); returns its run_number."""
        with self._conn() as conn, conn.cursor() as cur:
            cur.execute(f"INSERT INTO {self.n.q('flows')} (flow_id, ts_epoch) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                        (flow, _ms()))
            number = int(self._insert(cur, "runs", {"flow_id": flow, "user_name": "tester",
                                                    "tags": json.dumps(tags or []), "system_tags": SYSTEM,
                                                    "last_heartbeat_ts": int(time.time())}, "run_number"))
            self.committed = time.time()
            for step in ("_parameters", "start", "end") if finish else ("_parameters", "start"):
                self._insert(cur, "steps", {"flow_id": flow, "run_number": number, "run_id": str(number),
                                            "step_name": step, "user_name": "tester", "tags": "[]",
                                            "system_tags": SYSTEM})
                task = self._insert(cur, "tasks", {"flow_id": flow, "run_number": number, "step_name": step,
                                                   "user_name": "tester", "tags": "[]", "system_tags": SYSTEM,
                                                   "last_heartbeat_ts": int(time.time())}, "task_id")
                if step == "_parameters":
                    self._metadata(cur, flow, number, step, task, [("attempt-done", "0", "attempt-done")])
                    self._artifacts(cur, flow, number, step, task, ("_graph_info", "name"))
                    continue
                self._metadata(cur, flow, number, step, task, [("attempt", "0", "attempt"),
                                                              ("ds-type", "local", "ds-type")])
                if finish or step != "start":
                    self._metadata(cur, flow, number, step, task, [("attempt_ok", "True", "internal_attempt_status"),
                                                                  ("attempt-done", "0", "attempt-done")])
                    # Metaflow registers an attempt's artifacts right after its attempt-done.
                    self._artifacts(cur, flow, number, step, task, ("name", "_task_ok", "_success"))
        return number

    def _artifacts(self, cur: Any, flow: str, number: int, step: str, task: int, names: tuple[str, ...]) -> None:
        for name in names:
            self._insert(cur, "artifact", {"flow_id": flow, "run_number": number, "step_name": step, "task_id": task,
                                           "name": name, "location": ":root:/nonexistent/.metaflow",
                                           "ds_type": "local", "sha": hashlib.sha1(f"{flow}/{number}/{task}/{name}".encode()).hexdigest(),
                                           "type": "metaflow.artifact", "content_type": "gzip+pickle-v4",
                                           "user_name": "tester", "attempt_id": 0, "tags": "[]",
                                           "system_tags": "null"})

    def metadata(self, flow: str, number: int, step: str, task: int, fields: list[tuple[str, str, str]]) -> None:
        with self._conn() as conn, conn.cursor() as cur:
            self._metadata(cur, flow, number, step, task, fields)

    def _metadata(self, cur: Any, flow: str, number: int, step: str, task: int,
                  fields: list[tuple[str, str, str]]) -> None:
        for field, value, kind in fields:
            self._insert(cur, "metadata", {"flow_id": flow, "run_number": number, "step_name": step, "task_id": task,
                                           "field_name": field, "value": value, "type": kind, "user_name": "tester",
                                           "tags": json.dumps(["attempt_id:0"]), "system_tags": "null"})

    def count(self, table: str) -> int:
        with self._conn() as conn, conn.cursor() as cur:
            cur.execute(f"SELECT count(*) FROM {self.n.q(table)}")
            return int(cur.fetchone()[0])
