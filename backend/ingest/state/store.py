"""Loading Flowscope's rows of Metaflow runs into ``model`` objects and writing changes back.

One store lives for one transaction: the ingest service uses it for one HTTP call, the mirror
for a batch of source rows. New rows are inserted with a few multi-row statements (see
``sql``); loaded rows are updated column by column, only where the translation changed them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
import psycopg2.extras

from backend.ingest.db.pool import Cursor, all_rows, one
from backend.ingest.state import sql
from backend.ingest.state.model import (
    ArtifactRecord,
    AttemptState,
    MetadataRecord,
    RunState,
    TaskState,
    Tracked,
)
from backend.ingest.state.parents import derive_parents, parent_steps

RunKey = tuple[str, str]              # (flow_id, run_id)
TaskKey = tuple[str, str, str, str]   # (flow_id, run_id, step_name, task_id)

_JSON_COLS = {"dag", "parameters", "foreach_stack"}


@dataclass
class Flushed:
    artifacts_created: int = 0


_NO_TASKS: dict[str, Any] = {"n_tasks": 0, "n_running": 0, "n_completed": 0, "n_failed": 0,
                             "created_at": None, "started_at": None, "finished_at": None}


def _least(a: Any, b: Any) -> Any:
    """SQL's LEAST and min(): NULLs skipped."""
    return b if a is None else a if b is None else min(a, b)


def _greatest(a: Any, b: Any) -> Any:
    return b if a is None else a if b is None else max(a, b)


def _json(rows: list[dict[str, Any]]) -> str:
    return orjson.dumps(rows).decode()


def _run_from(row: dict[str, Any]) -> RunState:
    return RunState(
        run_pk=row["run_pk"], flow_id=row["flow_id"], run_id=row["run_id"], run_number=row["run_number"],
        user_name=row["user_name"], tags=list(row["tags"]), system_tags=list(row["system_tags"]),
        status=row["status"], status_reason=row["status_reason"], failed_step=row["failed_step"],
        created_at=row["created_at"], started_at=row["started_at"], finished_at=row["finished_at"],
        heartbeat_at=row["heartbeat_at"], origin_run_id=row["origin_run_id"], dag=row["dag"],
        parameters=row["parameters"] or {}, end_step_meta=row["end_step_meta"], new=False)


def _task_from(run: RunState, row: dict[str, Any]) -> TaskState:
    return TaskState(
        run=run, task_pk=row["task_pk"], step_name=row["step_name"], task_id=row["task_id"],
        status=row["status"], status_reason=row["status_reason"], attempt=row["attempt"],
        started_at=row["started_at"], finished_at=row["finished_at"], heartbeat_at=row["heartbeat_at"],
        foreach_index=row["foreach_index"], foreach_value=row["foreach_value"],
        foreach_stack=row["foreach_stack"], iteration_stack=list(row["iteration_stack"] or []),
        parent_task_ids=list(row["parent_task_ids"]),
        cloned_from=row["cloned_from"], created_at=row["created_at"], foreach_path=row["foreach_path"],
        new=False)


def _attempt_from(row: dict[str, Any]) -> AttemptState:
    return AttemptState(
        attempt=row["attempt"], status=row["status"], status_reason=row["status_reason"],
        started_at=row["started_at"], finished_at=row["finished_at"], heartbeat_at=row["heartbeat_at"],
        exception_type=row["exception_type"], exception_message=row["exception_message"],
        traceback=row["traceback"], new=False)


class StateStore:
    def __init__(self, cur: Cursor, defer_flow_touch: bool = False) -> None:
        """``defer_flow_touch``: keep the flows' "last run" update for ``touch_flows`` (called just
        before commit), so writers on several connections hold those shared rows only briefly."""
        self.cur = cur
        self.defer_flow_touch = defer_flow_touch
        self.flow_touch: dict[str, dict[str, Any]] = {}
        self.runs: dict[RunKey, RunState] = {}
        self.tasks: dict[TaskKey, TaskState] = {}
        self._run_tasks: dict[int, list[TaskState]] = {}     # id(run) -> its tasks in memory, in order
        self.flows: dict[str, int] = {}                      # flow_id -> created_at (flows to ensure)
        self.steps: dict[tuple[int, str], int] = {}          # (id(run), step) -> created_at
        self.metadata: list[tuple[TaskState, MetadataRecord]] = []
        self.artifacts: list[tuple[TaskState, ArtifactRecord]] = []
        # More rows written at flush, once tasks have their keys (the mirror's bulk path).
        self.after_rows: Callable[[], Awaitable[None]] | None = None
        # Write the counts and spans of tasks inserted with their (new) runs into those runs' and
        # steps' rows, instead of the counting trigger updating them (migration 0013). Only when
        # every task a flush inserts belongs to a run it inserts; otherwise the trigger counts.
        self.precount = False

    # -- loading ------------------------------------------------------------------------------

    async def run(self, flow: str, run_id: str) -> RunState | None:
        """The Metaflow run ``flow/run_id`` (loaded once per store)."""
        key = (flow, run_id)
        if key not in self.runs:
            row = await one(self.cur, sql.GET_RUN, (flow, run_id))
            if row is None:
                return None
            self.runs[key] = _run_from(row)
        return self.runs[key]

    async def lock_run(self, run: RunState) -> None:
        """Take the run's row lock and refresh this copy from the locked row.

        Callers lock the task first, then the run: the order every writer uses.
        """
        row = await one(self.cur, sql.GET_RUN_FOR_UPDATE, (run.flow_id, run.run_id))
        if row is not None:
            fresh = _run_from(row)
            for name in fresh.__dataclass_fields__:
                if name not in ("dirty", "complete_in_memory"):
                    setattr(run, name, getattr(fresh, name))

    async def load_runs(self, keys: list[RunKey]) -> None:
        missing = [k for k in dict.fromkeys(keys) if k not in self.runs]
        if not missing:
            return
        rows = await all_rows(self.cur, sql.GET_RUNS, ([k[0] for k in missing], [k[1] for k in missing]))
        for row in rows:
            self.runs[(row["flow_id"], row["run_id"])] = _run_from(row)

    async def task(self, run: RunState, step: str, task_id: str, lock: bool = False) -> TaskState | None:
        key = (run.flow_id, run.run_id, step, task_id)
        if key in self.tasks:
            return self.tasks[key]
        if run.run_pk is None:
            return None
        row = await one(self.cur, sql.GET_TASK_FOR_UPDATE if lock else sql.GET_TASK, (run.run_pk, step, task_id))
        if row is None:
            return None
        task = _task_from(run, row)
        await self._load_attempts([task])
        self._keep_task(key, task)
        return task

    async def load_tasks(self, keys: list[TaskKey]) -> None:
        """Load many tasks of runs already in this store (unknown runs are skipped)."""
        want = []
        for key in dict.fromkeys(keys):
            run = self.runs.get((key[0], key[1]))
            if key not in self.tasks and run is not None and run.run_pk is not None:
                want.append((run, key))
        if not want:
            return
        by_pk = {run.run_pk: run for run, _ in want}
        rows = await all_rows(self.cur, sql.GET_TASKS, ([r.run_pk for r, _ in want], [k[2] for _, k in want],
                                                       [k[3] for _, k in want]))
        loaded = []
        for row in rows:
            run = by_pk[row["run_pk"]]
            task = _task_from(run, row)
            self._keep_task((run.flow_id, run.run_id, task.step_name, task.task_id), task)
            loaded.append(task)
        await self._load_attempts(loaded)

    async def _load_attempts(self, tasks: list[TaskState]) -> None:
        by_pk = {t.task_pk: t for t in tasks}
        if not by_pk:
            return
        for row in await all_rows(self.cur, sql.GET_ATTEMPTS, (list(by_pk),)):
            by_pk[row["task_pk"]].attempts[row["attempt"]] = _attempt_from(row)

    def _keep_task(self, key: TaskKey, task: TaskState) -> None:
        self.tasks[key] = task
        self._run_tasks.setdefault(id(task.run), []).append(task)

    # -- new rows -------------------------------------------------------------------------------

    def add_flow(self, flow_id: str, created_at: int) -> None:
        self.flows.setdefault(flow_id, created_at)

    def add_run(self, run: RunState) -> None:
        self.runs[(run.flow_id, run.run_id)] = run

    def add_step(self, run: RunState, step: str, created_at: int) -> None:
        if not step.startswith("_"):   # no steps row for _parameters (docs/metaflow.md)
            self.steps.setdefault((id(run), step), created_at)

    def add_task(self, task: TaskState) -> None:
        self._keep_task((task.run.flow_id, task.run.run_id, task.step_name, task.task_id), task)

    def add_metadata(self, task: TaskState, rows: list[MetadataRecord]) -> None:
        self.metadata.extend((task, r) for r in rows)

    def add_artifacts(self, task: TaskState, rows: list[ArtifactRecord]) -> None:
        self.artifacts.extend((task, r) for r in rows)

    def tasks_of(self, run: RunState) -> list[TaskState]:
        return self._run_tasks.get(id(run), [])

    # -- writing --------------------------------------------------------------------------------

    async def flush(self) -> Flushed:
        """Write every new and changed row; runs or tasks that already existed are left out."""
        out = Flushed()
        runs = list(self.runs.values())
        counts = self._counts(runs) if self.precount else None
        await self._insert_runs([r for r in runs if r.new], counts)
        for run in runs:
            if not run.new and run.dirty:
                await self._update("runs", "run_pk", run.run_pk, run)
        await self._insert_steps(counts)
        tasks = [t for t in self._all_tasks() if t.run.run_pk is not None]
        self._parents_in_memory([t for t in tasks if t.new])
        # Tasks inserted already started or finished move their steps' spans in the counting
        # trigger (migration 0010), or were counted above; updates, in the per-row step_time_span trigger.
        inserted = await self._insert_tasks([t for t in tasks if t.new], counted=counts is not None)
        for task in tasks:
            if not task.new and task.dirty:
                await self._update("tasks", "task_pk", task.task_pk, task)
        await self._write_attempts([t for t in tasks if t.task_pk is not None],
                                   fresh=set(inserted) if counts is not None else None)
        await self._insert_metadata()
        out.artifacts_created = await self._insert_artifacts()
        if self.after_rows is not None:
            after, self.after_rows = self.after_rows, None
            await after()
        await self._parents_by_query([t for t in tasks if t.task_pk is not None])
        for obj in [*runs, *tasks]:
            obj.dirty.clear()
        self.metadata.clear()
        self.artifacts.clear()
        self.steps.clear()
        self.flows.clear()
        return out

    def _all_tasks(self) -> list[TaskState]:
        return list(self.tasks.values())

    def _counts(self, runs: list[RunState]) -> dict[Any, dict[str, Any]] | None:
        """What the counting trigger would add for the tasks this flush inserts, by id(run) and by
        (id(run), step): its rule exactly (tasks of "_"-steps not counted; a step's first created_at,
        first start, last finish). None unless every one of those tasks belongs to a run inserted now."""
        new_runs = {id(r) for r in runs if r.new}
        new_tasks = [t for t in self._all_tasks() if t.new]
        if not new_tasks or any(id(t.run) not in new_runs for t in new_tasks):
            return None
        out: dict[Any, dict[str, Any]] = {}
        for t in new_tasks:
            if t.step_name.startswith("_"):
                continue
            for key in (id(t.run), (id(t.run), t.step_name)):
                c = out.get(key)
                if c is None:
                    c = out[key] = {"n_tasks": 0, "n_running": 0, "n_completed": 0, "n_failed": 0,
                                    "created_at": None, "started_at": None, "finished_at": None}
                c["n_tasks"] += 1
                if t.status in ("running", "completed", "failed"):
                    c["n_" + t.status] += 1
                c["created_at"] = _least(c["created_at"], t.created_at)
                c["started_at"] = _least(c["started_at"], t.started_at)
                c["finished_at"] = _greatest(c["finished_at"], t.finished_at)
        return out

    async def _insert_runs(self, runs: list[RunState], counts: dict[Any, dict[str, Any]] | None = None) -> None:
        for run in runs:
            self.flows.setdefault(run.flow_id, run.created_at)
        if self.flows:
            await self.cur.execute(sql.INSERT_FLOWS, (_json([{"flow_id": f, "created_at": c}
                                                              for f, c in self.flows.items()]),))
        if not runs:
            return
        values = [{
            "flow_id": r.flow_id, "run_id": r.run_id, "run_number": r.run_number, "user_name": r.user_name,
            "tags": r.tags, "system_tags": r.system_tags, "status": r.status, "status_reason": r.status_reason,
            "failed_step": r.failed_step, "parameters": r.parameters, "dag": r.dag,
            "origin_run_id": r.origin_run_id, "created_at": r.created_at, "started_at": r.started_at,
            "finished_at": r.finished_at, "heartbeat_at": r.heartbeat_at} for r in runs]
        if counts is not None:
            for r, v in zip(runs, values, strict=True):
                c = counts.get(id(r), _NO_TASKS)
                v.update(n_tasks=c["n_tasks"], n_running=c["n_running"], n_completed=c["n_completed"],
                         n_failed=c["n_failed"])
        rows = await all_rows(self.cur, sql.INSERT_RUNS if counts is None else sql.INSERT_RUNS_COUNTED,
                              (_json(values),))
        pks = {(row["flow_id"], row["run_id"]): row["run_pk"] for row in rows}
        touch = self.flow_touch
        for run in runs:
            run.run_pk = pks.get((run.flow_id, run.run_id))
            if run.run_pk is None:
                continue    # it existed already: a conflict the caller sees as run_pk None
            run.new = False
            run.dirty.clear()    # inserted with its current values
            t = touch.setdefault(run.flow_id, {"flow_id": run.flow_id, "last_run_at": 0, "last_run_number": 0})
            t["last_run_at"] = max(t["last_run_at"], run.created_at)
            t["last_run_number"] = max(t["last_run_number"], run.run_number or 0)
        if not self.defer_flow_touch:
            await self.touch_flows()

    async def touch_flows(self) -> None:
        """Move the flows' last run (time and number) past the runs inserted; in flow_id order."""
        if self.flow_touch:
            rows = [self.flow_touch[f] for f in sorted(self.flow_touch)]
            self.flow_touch = {}
            await self.cur.execute(sql.TOUCH_FLOWS, (_json(rows),))

    async def _insert_steps(self, counts: dict[Any, dict[str, Any]] | None = None) -> None:
        runs = {id(r): r for r in self.runs.values()}
        if counts is None:
            rows = [{"run_pk": runs[rid].run_pk, "step_name": step, "created_at": ts}
                    for (rid, step), ts in self.steps.items() if rid in runs and runs[rid].run_pk is not None]
            if rows:
                await self.cur.execute(sql.INSERT_STEPS, (_json(rows),))
            return
        # The steps named here, and those only the counted tasks name (the trigger would create
        # them, with their tasks' first created_at).
        steps = dict(self.steps)
        for key, c in counts.items():
            if isinstance(key, tuple):
                steps.setdefault(key, c["created_at"])
        rows = []
        for (rid, step), ts in steps.items():
            if rid in runs and runs[rid].run_pk is not None:
                c = counts.get((rid, step), _NO_TASKS)
                rows.append({"run_pk": runs[rid].run_pk, "step_name": step, "created_at": ts,
                             "started_at": c["started_at"], "finished_at": c["finished_at"],
                             "n_tasks": c["n_tasks"], "n_running": c["n_running"],
                             "n_completed": c["n_completed"], "n_failed": c["n_failed"]})
        if rows:
            await self.cur.execute(sql.INSERT_STEPS_COUNTED, (_json(rows),))

    async def _insert_tasks(self, tasks: list[TaskState], counted: bool = False) -> list[int]:
        if not tasks:
            return []
        if counted:
            await self.cur.execute(sql.TASKS_COUNTED, ("on",))
        rows = await all_rows(self.cur, sql.INSERT_TASKS_NEW if counted else sql.INSERT_TASKS, (_json([{
            "run_pk": t.run.run_pk, "step_name": t.step_name, "task_id": t.task_id, "status": t.status,
            "status_reason": t.status_reason, "attempt": t.attempt, "foreach_index": t.foreach_index,
            "foreach_value": t.foreach_value, "foreach_stack": t.foreach_stack,
            "iteration_stack": t.iteration_stack, "parent_task_ids": t.parent_task_ids,
            "cloned_from": t.cloned_from, "created_at": t.created_at,
            "started_at": t.started_at, "finished_at": t.finished_at, "heartbeat_at": t.heartbeat_at}
            for t in tasks]),))
        if counted:
            await self.cur.execute(sql.TASKS_COUNTED, ("off",))
            # Their runs are new: none of them can have been there already, so each was counted.
            assert len(rows) == len(tasks), f"{len(tasks) - len(rows)} counted task(s) not inserted"
        pks = {(row["run_pk"], row["step_name"], row["task_id"]): row["task_pk"] for row in rows}
        inserted = []
        for task in tasks:
            task.task_pk = pks.get((task.run.run_pk, task.step_name, task.task_id))
            if task.task_pk is not None:
                task.new = False
                task.dirty.clear()    # inserted with its current values
                inserted.append(task.task_pk)
        return inserted

    async def _write_attempts(self, tasks: list[TaskState], fresh: set[int] | None = None) -> None:
        """``fresh``: tasks this flush inserted with their new runs (their attempts cannot exist yet)."""
        new = []
        for task in tasks:
            for att in task.attempts.values():
                if att.new:
                    new.append({"task_pk": task.task_pk, "attempt": att.attempt, "run_pk": task.run.run_pk,
                                "status": att.status, "status_reason": att.status_reason,
                                "started_at": att.started_at, "finished_at": att.finished_at,
                                "heartbeat_at": att.heartbeat_at, "exception_type": att.exception_type,
                                "exception_message": att.exception_message, "traceback": att.traceback})
                    att.new = False
                elif att.dirty:
                    await self._update("attempts", ("task_pk", "attempt"), (task.task_pk, att.attempt), att)
                att.dirty.clear()
        if new:
            only_fresh = fresh is not None and all(a["task_pk"] in fresh for a in new)
            await self.cur.execute(sql.INSERT_ATTEMPTS_NEW if only_fresh else sql.INSERT_ATTEMPTS, (_json(new),))

    async def _insert_metadata(self) -> None:
        rows = [{"task_pk": t.task_pk, "run_pk": t.run.run_pk, "attempt": r.attempt, "field_name": r.field_name,
                 "value": r.value, "type": r.type, "tags": r.tags, "created_at": r.ts}
                for t, r in self.metadata if t.task_pk is not None]
        if rows:
            await self.cur.execute(sql.INSERT_METADATA, (_json(rows),))

    async def _insert_artifacts(self) -> int:
        rows = [{"task_pk": t.task_pk, "attempt": a.attempt, "name": a.name, "run_pk": t.run.run_pk,
                 "sha": a.sha, "type": a.type, "size": a.size, "encoding": a.encoding, "location": a.location,
                 "preview": a.preview, "created_at": a.ts}
                for t, a in self.artifacts if t.task_pk is not None]
        if not rows:
            return 0
        row = await one(self.cur, sql.INSERT_ARTIFACTS, (_json(rows),))
        return int(row["n"]) if row else 0

    def _parents_in_memory(self, tasks: list[TaskState]) -> None:
        """Parents of new tasks of runs held whole in memory, before they are inserted."""
        for task in tasks:
            run = task.run
            if task.needs_parents and run.complete_in_memory and not task.parent_task_ids:
                known = self.tasks_of(run)           # in the order the tasks were made
                cands = [(t.step_name, t.task_id, t.foreach_path, i) for i, t in enumerate(known)]
                task.parent_task_ids = derive_parents(run.dag, task.step_name, task.foreach_path, cands,
                                                      known.index(task) if task in known else len(known))
                task.needs_parents = False

    async def _parents_by_query(self, tasks: list[TaskState]) -> None:
        for task in tasks:
            if not task.needs_parents:
                continue
            task.needs_parents = False
            run = task.run
            if task.parent_task_ids or not isinstance(run.dag, dict):
                continue
            steps = parent_steps(run.dag, task.step_name) if isinstance(run.dag.get("steps"), dict) else []
            if not steps:
                continue
            rows = await all_rows(self.cur, sql.PARENT_CANDIDATES, (run.run_pk, steps))
            found = derive_parents(run.dag, task.step_name, task.foreach_path,
                                   [(r["step_name"], r["task_id"], r["path"], r["task_pk"]) for r in rows],
                                   task.task_pk if task.task_pk is not None else 2**62)
            if found:
                await self.cur.execute(sql.SET_PARENTS, (found, task.task_pk))
                task.parent_task_ids = found

    async def _update(self, table: str, key: str | tuple[str, ...], value: Any, obj: Tracked) -> None:
        sets, params = [], []
        for col in sorted(obj.dirty):
            v = getattr(obj, col)
            if col in _JSON_COLS and v is not None:
                v = psycopg2.extras.Json(v)
            if col in sql.MONOTONIC:
                sets.append(f"{col} = GREATEST(COALESCE({col}, 0), %s)")
            else:
                sets.append(f"{col} = %s")
            params.append(v)
        keys = key if isinstance(key, tuple) else (key,)
        values = value if isinstance(value, tuple) else (value,)
        where = " AND ".join(f"{k} = %s" for k in keys)
        await self.cur.execute(f"UPDATE {table} SET {', '.join(sets)} WHERE {where}", (*params, *values))
        obj.dirty.clear()
