"""RunStore: every Postgres write of the runtime (psycopg2). Nothing else in core_runtime writes SQL.

Each method is one round trip where the schema allows it (data-modifying CTEs, execute_values),
because the runtime's speed on wide foreaches is mostly the number of statements per task.
The store puts its connection in autocommit mode and serialises use with a lock, so the
heartbeat thread, log writers and the scheduler can share one store. Methods that need several
statements run them in one explicit transaction.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg2
import psycopg2.errors
from psycopg2.extras import Json, execute_values

from core_runtime.artifacts import ArtifactRecord
from core_runtime.store import sql
from core_runtime.store.refs import RunRef, StoreError, TaskRef

__all__ = ["RunRef", "RunStore", "StoreError", "TaskRef", "now_ms"]

RUN_STATUSES = ("running", "completed", "failed")
ATTEMPT_STATUSES = ("running", "completed", "failed")


def now_ms() -> int:
    return int(time.time() * 1000)


def _json(value: Any) -> Any:
    return None if value is None else Json(value, dumps=lambda v: json.dumps(v, default=str))


class RunStore:
    def __init__(self, conn: Any, *, wait_for_disk: bool = False) -> None:
        """``wait_for_disk=False`` turns off synchronous_commit for this session: a commit returns
        before its WAL reaches disk, which makes the runtime's many small writes several times
        faster. A Postgres *server* crash may then lose the last fraction of a second of records
        (never corrupt them); readers see every commit at once either way."""
        self.conn = conn
        conn.autocommit = True
        self._lock = threading.RLock()
        if not wait_for_disk:
            with conn.cursor() as cur:
                cur.execute("SET synchronous_commit TO off")

    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        with self._lock, self.conn.cursor() as cur:
            yield cur

    @contextmanager
    def _transaction(self) -> Iterator[Any]:
        with self._lock, self.conn.cursor() as cur:
            cur.execute("BEGIN")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")

    # -- runs --------------------------------------------------------------------------------
    def create_run(self, flow_id: str, *, user: str | None, tags: Sequence[str] = (),
                   system_tags: Sequence[str] = (), parameters: dict[str, Any] | None = None,
                   dag: dict[str, Any] | None = None, file_name: str | None = None,
                   source: str | None = None, origin_run_id: str | None = None,
                   run_id: str | None = None, source_kind: str = "native") -> RunRef:
        """Insert a running run; allocates the next per-flow run number when run_id is None."""
        now = now_ms()
        args: dict[str, Any] = {
            "flow_id": flow_id, "now": now, "user": user, "tags": list(tags),
            "system_tags": list(system_tags), "source_kind": source_kind,
            "parameters": _json(parameters or {}), "dag": _json(dag), "origin_run_id": origin_run_id,
        }
        try:
            with self._transaction() as cur:
                if run_id is None:
                    cur.execute(sql.UPSERT_FLOW_ALLOCATE, args)
                    number = int(cur.fetchone()[0])
                    args.update(run_id=str(number), number=number)
                else:
                    args.update(run_id=run_id, number=int(run_id) if run_id.isdigit() else None)
                    cur.execute(sql.UPSERT_FLOW_GIVEN, args)
                cur.execute(sql.INSERT_RUN, args)
                run_pk = int(cur.fetchone()[0])
                if file_name is not None or source is not None:
                    cur.execute(sql.INSERT_RUN_SOURCE, (run_pk, file_name, source))
        except psycopg2.errors.UniqueViolation:
            raise StoreError(f"run {flow_id}/{run_id} already exists") from None
        return RunRef(run_pk=run_pk, flow_id=flow_id, run_id=args["run_id"])

    def finish_run(self, run: RunRef, status: str, reason: str | None,
                   failed_step: str | None = None) -> None:
        if status not in RUN_STATUSES:
            raise StoreError(f"run {run.flow_id}/{run.run_id}: unknown status {status!r}")
        with self._cursor() as cur:
            cur.execute(sql.FINISH_RUN, {"status": status, "reason": reason, "failed_step": failed_step,
                                         "now": now_ms(), "run_pk": run.run_pk})

    def heartbeat(self, run: RunRef, task_pks: Sequence[int] = ()) -> None:
        """Mark the run and its running tasks/attempts alive: one statement per table."""
        now = now_ms()
        pks = list(task_pks)
        with self._transaction() as cur:
            cur.execute(sql.HEARTBEAT_RUN, (now, run.run_pk))
            if pks:
                cur.execute(sql.HEARTBEAT_TASKS, (now, pks))
                cur.execute(sql.HEARTBEAT_ATTEMPTS, (now, pks))

    # -- tasks and attempts ------------------------------------------------------------------
    def create_task(self, run: RunRef, step: str, *, foreach_index: int | None = None,
                    foreach_value: str | None = None, foreach_stack: list[dict[str, Any]] | None = None,
                    parent_task_ids: Sequence[str] = (), cloned_from: str | None = None,
                    task_id: str | None = None, iteration_stack: Sequence[int] = ()) -> TaskRef:
        """A pending task; its native task_id is str(task_pk) unless one is given."""
        args = {"run_pk": run.run_pk, "step": step, "task_id": task_id, "foreach_index": foreach_index,
                "foreach_value": foreach_value, "foreach_stack": _json(foreach_stack),
                "iteration_stack": [int(i) for i in iteration_stack],
                "parent_task_ids": list(parent_task_ids), "cloned_from": cloned_from, "now": now_ms()}
        try:
            with self._cursor() as cur:
                cur.execute(sql.INSERT_TASK, args)
                task_pk, tid = cur.fetchone()
        except psycopg2.errors.UniqueViolation:
            raise StoreError(f"task {run.flow_id}/{run.run_id}/{step}/{task_id} already exists") from None
        return TaskRef(task_pk=int(task_pk), run_pk=run.run_pk, step_name=step, task_id=str(tid))

    def start_attempt(self, task: TaskRef, attempt: int) -> None:
        with self._cursor() as cur:
            cur.execute(sql.START_ATTEMPT, {"task_pk": task.task_pk, "run_pk": task.run_pk,
                                            "attempt": attempt, "now": now_ms()})

    def finish_attempt(self, task: TaskRef, attempt: int, *, status: str, exit_code: int | None,
                       exception_type: str | None = None, exception_message: str | None = None,
                       traceback: str | None = None, reason: str | None = None,
                       final: bool = True) -> None:
        """End an attempt; with final=True the task ends with the same status and reason."""
        if status not in ATTEMPT_STATUSES or status == "running":
            raise StoreError(f"task {task.step_name}/{task.task_id}: cannot finish with status {status!r}")
        if reason is None and status == "failed":
            reason = _failure_reason(task, attempt, exception_type, exception_message, exit_code)
        args = {"task_pk": task.task_pk, "attempt": attempt, "status": status, "reason": reason,
                "exit_code": exit_code, "exception_type": exception_type,
                "exception_message": exception_message, "traceback": traceback, "now": now_ms()}
        query = sql.FINISH_ATTEMPT_AND_TASK if final else sql.NOTE_TASK_RETRY
        with self._cursor() as cur:
            cur.execute(query, args)

    def close_live_cards(self, task: TaskRef, attempt: int) -> None:
        """An attempt that refreshed cards ended: cards without a final render stay as last refreshed."""
        with self._cursor() as cur:
            cur.execute(sql.CLOSE_LIVE_CARDS, {"task_pk": task.task_pk, "attempt": attempt})

    def clone_task(self, run: RunRef, origin_task_pk: int, *, parent_task_ids: Sequence[str] | None = None,
                   task_id: str | None = None) -> TaskRef:
        """Resume: copy a finished task of the origin run, with its attempts, artifacts, metadata,
        log chunks and cards, as a completed task of ``run`` whose cloned_from is the origin pathspec.
        The task id is kept (native ids are task_pks, so it cannot collide in the new run)."""
        now = now_ms()
        with self._transaction() as cur:
            cur.execute(sql.ORIGIN_TASK, (origin_task_pk,))
            row = cur.fetchone()
            if row is None:
                raise StoreError(f"resume: origin task #{origin_task_pk} does not exist")
            step, origin_tid, _att, _fi, _fv, _fs, origin_parents, flow_id, origin_run = row
            cloned_from = f"{flow_id}/{origin_run}/{step}/{origin_tid}"
            new_tid = task_id or origin_tid
            args = {"run_pk": run.run_pk, "origin": origin_task_pk, "now": now, "task_id": new_tid,
                    "reason": f"cloned from {cloned_from}", "cloned_from": cloned_from,
                    "parent_task_ids": list(parent_task_ids if parent_task_ids is not None
                                            else origin_parents)}
            cur.execute(sql.CLONE_TASK, args)
            new_pk = int(cur.fetchone()[0])
            args["new"] = new_pk
            for query in (sql.CLONE_ATTEMPTS, sql.CLONE_ARTIFACTS, sql.CLONE_METADATA,
                          sql.CLONE_LOG_CHUNKS, sql.CLONE_CARDS):
                cur.execute(query, args)
        return TaskRef(task_pk=new_pk, run_pk=run.run_pk, step_name=step, task_id=new_tid)

    # -- records attached to an attempt -------------------------------------------------------
    def record_artifacts(self, task: TaskRef, attempt: int, records: Sequence[ArtifactRecord]) -> None:
        if not records:
            return
        now = now_ms()
        rows = [(task.task_pk, attempt, r.name, task.run_pk, r.sha, r.type, r.size, r.encoding,
                 r.location, r.preview, now) for r in records]
        with self._cursor() as cur:
            execute_values(cur, sql.UPSERT_ARTIFACTS, rows, page_size=500)

    def record_metadata(self, task: TaskRef, attempt: int | None,
                        fields: Sequence[tuple[str, str, str] | tuple[str, str, str, int | None]]) -> None:
        """Metaflow-style metadata: (field_name, value, type) per field, or (…, attempt) to give a
        field its own attempt (task-wide and per-attempt fields in one statement)."""
        if not fields:
            return
        now = now_ms()
        rows = [(task.task_pk, task.run_pk, f[3] if len(f) > 3 else attempt, f[0], str(f[1]), f[2], now)
                for f in fields]
        with self._cursor() as cur:
            execute_values(cur, sql.INSERT_METADATA, rows, page_size=500)

    def record_log_chunk(self, task: TaskRef, attempt: int, stream: str, seq: int, first_line: int,
                         n_lines: int, n_bytes: int, first_ts: int, last_ts: int, location: str) -> None:
        with self._cursor() as cur:
            cur.execute(sql.INSERT_LOG_CHUNK, (task.task_pk, attempt, stream, seq, task.run_pk, first_line,
                                               n_lines, n_bytes, first_ts, last_ts, location, now_ms()))

    def record_card(self, task: TaskRef, attempt: int, card_id: str, type: str, location: str,
                    size: int | None, *, data_location: str | None = None, final: bool = True,
                    updated_at: int | None = None, decorator_id: str | None = None) -> None:
        """A card version: live ones (final=False) while the task runs, then the final one, which
        no late live version overwrites. ``size`` None keeps the page's size (no new page).
        ``decorator_id`` is the id given to @card (None without one)."""
        now = now_ms()
        with self._cursor() as cur:
            cur.execute(sql.UPSERT_CARD, (task.task_pk, attempt, card_id, task.run_pk, type, location,
                                          size, now, data_location, final, updated_at or now,
                                          decorator_id))


def _failure_reason(task: TaskRef, attempt: int, exc_type: str | None, exc_msg: str | None,
                    exit_code: int | None) -> str:
    where = f"step {task.step_name} (task {task.task_id}, attempt {attempt}) failed"
    if exc_type:
        return f"{where}: {exc_type}: {exc_msg}" if exc_msg else f"{where}: {exc_type}"
    if exit_code is not None and exit_code < 0:
        return f"{where}: killed by signal {-exit_code}"
    if exit_code is not None:
        return f"{where}: exit code {exit_code}"
    return where
