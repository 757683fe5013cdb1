"""Source rows → the ingest service's translation (``backend.ingest.state``): one code path.

A metaflow-service database holds exactly what the metadata-service API received: a run row
per ``POST …/run``, a task row per ``POST …/task``, one metadata row per item of a metadata POST,
one artifact row per registered artifact, plus the latest heartbeat and tags. This module replays
those rows, in the order the service received them, as the calls the ingest service handles:
the same ``fold`` functions change the same ``model`` rows, the same ``StateStore`` writes them.

Order within a batch: by the service's clock (``ts_epoch``), steps before tasks before metadata
at the same millisecond; metadata rows of one task with consecutive ids form one call (one POST);
an attempt's artifacts come right after its ``attempt-done`` row (Metaflow registers them just
after it). Heartbeats and tags are the source's current values, applied last.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from backend.ingest.enrich import Enrichment
from backend.ingest.shapes import stored_location
from backend.ingest.state import fold
from backend.ingest.state.model import ArtifactRecord, MetadataRecord, RunState, TaskState
from backend.ingest.state.store import StateStore
from backend.ingest.wire import attempt_of_tags
from backend.mirror.enricher import Enricher, Job

if TYPE_CHECKING:
    from backend.mirror.bulk import Bulk

log = logging.getLogger(__name__)
Row = dict[str, Any]
RunKey = tuple[str, int]                      # the source's (flow_id, run_number)
AttemptKey = tuple[str, int, str, int, int]   # (flow_id, run_number, step_name, task_id, attempt_id)


class Uninterpretable(ValueError):
    """A source row the mirror cannot make sense of; logged with its key and skipped."""


def run_id_of(run: Row) -> str:
    return str(run["run_id"]) if run.get("run_id") is not None else str(run["run_number"])


def task_id_of(task: Row) -> str:
    return str(task["task_name"]) if task.get("task_name") is not None else str(task["task_id"])


def _strings(value: Any) -> list[str]:
    """A jsonb array of strings (tags) as a list; anything else (null, an object) as []."""
    if not isinstance(value, list):
        return []
    for v in value:     # a plain loop: this runs for every metadata row (a generator costs 2x)
        if not isinstance(v, str):
            return [str(x) for x in value]
    return value


def attempt_key(row: Row) -> AttemptKey:
    return (row["flow_id"], int(row["run_number"]), row["step_name"], int(row["task_id"]), int(row["attempt_id"]))


@dataclass
class Batch:
    """Source rows of some runs: to create (``new_runs``) or already mirrored (``mirrored``)."""

    new_runs: dict[RunKey, Row] = field(default_factory=dict)
    mirrored: dict[RunKey, str] = field(default_factory=dict)      # key -> Flowscope run_id
    steps: list[Row] = field(default_factory=list)
    tasks: list[Row] = field(default_factory=list)
    metadata: list[Row] = field(default_factory=list)
    artifacts: list[Row] = field(default_factory=list)
    heartbeats: dict[RunKey, Row] = field(default_factory=dict)    # run rows with current beat and tags
    task_beats: dict[int, int] = field(default_factory=dict)       # source task_id -> last_heartbeat_ts
    # True when these are every row of the new runs (a backfill of whole runs).
    complete: bool = False
    # The backfill's bulk path (backend/mirror/bulk.py): ``metadata`` then holds only the rows the
    # replay folds or must write itself (each with its call's first id and time, and ``clean``).
    bulk: Bulk | None = None


@dataclass
class Applied:
    runs: list[tuple[RunKey, RunState]] = field(default_factory=list)     # created in this batch
    tasks: dict[int, TaskState] = field(default_factory=dict)             # source task_id -> state
    artifact_sets: dict[AttemptKey, int | None] = field(default_factory=dict)   # rows expected (data.json)
    flow_touch: dict[str, dict[str, Any]] = field(default_factory=dict)   # flows' last run, written at commit
    attempts_done: dict[AttemptKey, int] = field(default_factory=dict)    # attempt-done rows applied: ts
    rows: int = 0
    skipped: list[str] = field(default_factory=list)


class Replayer:
    def __init__(self, store: StateStore, enricher: Enricher) -> None:
        self.store = store
        self.enricher = enricher
        self.runs: dict[RunKey, RunState] = {}
        self.tasks: dict[int, TaskState] = {}       # source task_id -> state
        self._ids: dict[int, str] = {}               # source task_id -> Flowscope task id
        self.bulk: Bulk | None = None

    # -- runs and tasks ---------------------------------------------------------------------

    async def prepare(self, batch: Batch, known_tasks: dict[int, tuple[RunKey, str, str]]) -> None:
        """States of the batch's runs and tasks: new ones made, mirrored ones loaded.

        ``known_tasks`` maps source task ids of already mirrored tasks to (run, step, task id).
        """
        for key, row in batch.new_runs.items():
            run = RunState(flow_id=row["flow_id"], run_id=run_id_of(row),
                           run_number=int(row["run_number"]) if row.get("run_id") is None else None,
                           user_name=row.get("user_name"), tags=_strings(row.get("tags")),
                           system_tags=_strings(row.get("system_tags")), created_at=int(row["ts_epoch"]),
                           complete_in_memory=batch.complete)
            fold.run_created(run, run.created_at)
            self.store.add_run(run)
            self.runs[key] = run
        if batch.mirrored:
            await self.store.load_runs([(k[0], rid) for k, rid in batch.mirrored.items()])
            for key, rid in batch.mirrored.items():
                state = self.store.runs.get((key[0], rid))
                if state is not None:
                    self.runs[key] = state
        wanted = [(tid, known_tasks[tid]) for tid in self._task_ids(batch) if tid in known_tasks]
        await self.store.load_tasks([(rk[0], self.runs[rk].run_id, step, task_id)
                                     for _tid, (rk, step, task_id) in wanted if rk in self.runs])
        for tid, (rk, step, task_id) in wanted:
            owner = self.runs.get(rk)
            task = self.store.tasks.get((owner.flow_id, owner.run_id, step, task_id)) if owner else None
            if task is not None:
                self.tasks[tid] = task

    @staticmethod
    def _task_ids(batch: Batch) -> list[int]:
        ids = {int(r["task_id"]) for r in batch.metadata} | {int(r["task_id"]) for r in batch.artifacts}
        return sorted(ids | set(batch.task_beats))

    # -- the replay -------------------------------------------------------------------------

    async def apply(self, batch: Batch) -> Applied:
        out = Applied()
        self.bulk = batch.bulk
        groups = _artifact_groups(batch.artifacts)
        infos = await self._enrich(batch, groups)
        done_at: dict[AttemptKey, tuple[int, int]] = {}
        for r in batch.metadata:
            if r["field_name"] == "attempt-done" and str(r["value"]).isdigit():
                k = (r["flow_id"], int(r["run_number"]), r["step_name"], int(r["task_id"]), int(r["value"]))
                done_at.setdefault(k, (int(r["ts_epoch"]), int(r["id"])))
        events: list[tuple[tuple[int, int, float], str, Any]] = []
        for s in batch.steps:
            events.append(((int(s["ts_epoch"]), 0, 0), "step", s))
        for t in batch.tasks:
            events.append(((int(t["ts_epoch"]), 1, int(t["task_id"])), "task", t))
        for call in _metadata_calls(batch.metadata):
            first = call[0]
            if "call_id" in first:     # the bulk path's rows: a call's key is its first row's, read or not
                events.append(((int(first["call_ts"]), 2, int(first["call_id"])), "metadata", call))
            else:
                events.append(((int(first["ts_epoch"]), 2, int(first["id"])), "metadata", call))
        for key, rows in groups.items():
            ts, mid = done_at.get(key, (min(int(r["ts_epoch"]) for r in rows), 1 << 62))
            events.append(((ts, 2, mid + 0.5), "artifacts", (key, rows)))
        events.sort(key=lambda e: e[0])
        for _order, kind, item in events:
            try:
                self._event(kind, item, infos, out)
            except (Uninterpretable, KeyError, TypeError, ValueError) as exc:
                what = _describe(kind, item)
                log.warning("skipped source %s: %s", what, exc)
                out.skipped.append(f"{what}: {exc}")
        self._liveness(batch)
        out.runs = [(k, r) for k, r in self.runs.items() if k in batch.new_runs]
        out.tasks = self.tasks
        out.attempts_done = {key: ts for key, (ts, _id) in done_at.items()}
        for key, info in infos.items():
            out.artifact_sets[key] = len(info.types) if info is not None and info.types else None
        return out

    def _event(self, kind: str, item: Any, infos: dict[AttemptKey, Enrichment | None], out: Applied) -> None:
        if kind == "step":
            run = self._run(item)
            self.store.add_step(run, item["step_name"], int(item["ts_epoch"]))
        elif kind == "task":
            self._new_task(item)
        elif kind == "metadata":
            task = self._task(item[0])
            # Text read from Postgres holds no NUL byte: no cleaning needed (unlike HTTP bodies).
            if self.bulk is None:
                rows = [MetadataRecord(field_name=r["field_name"], value=r["value"], type=r["type"],
                                       tags=_strings(r["tags"]), attempt=attempt_of_tags(r["tags"]),
                                       ts=r["ts_epoch"]) for r in item]
                self.store.add_metadata(task, rows)
            else:
                # The bulk write takes every row: the source's clean ones as they are (they come here
                # with their attempt, not their tags or type: the fold needs nothing else of them),
                # these (which only Python converts exactly) as converted here, in the replay's order.
                rows = [MetadataRecord(field_name=r["field_name"], value=r["value"], type=None, tags=[],
                                       attempt=r["attempt"], ts=r["ts_epoch"]) if r["clean"] else
                        MetadataRecord(field_name=r["field_name"], value=r["value"], type=r["type"],
                                       tags=_strings(r["tags"]), attempt=attempt_of_tags(r["tags"]),
                                       ts=r["ts_epoch"]) for r in item]
                own = [{"i": r["id"], "t": r["task_id"], "f": rec.field_name, "v": rec.value, "y": rec.type,
                        "g": rec.tags, "s": rec.ts, "c": r["call_id"], "k": r["call_ts"], "a": rec.attempt}
                       for rec, r in zip(rows, item) if not r["clean"]]
                self.bulk.own_metadata.extend(own)
                out.rows += -len(item)     # the bulk write counts them
            fold.apply_metadata(task, rows)
        else:
            key, rows = item
            task = self._task(rows[0])
            records = [_artifact_record(task.run.flow_id, r) for r in rows]
            info = infos.get(key)
            fold.describe_artifacts(records, info)
            self.store.add_artifacts(task, records)
            fold.apply_artifacts(task, key[4], info)
        out.rows += len(item[1]) if kind == "artifacts" else len(item) if kind == "metadata" else 1

    def _run(self, row: Row) -> RunState:
        run = self.runs.get((row["flow_id"], int(row["run_number"])))
        if run is None:
            raise Uninterpretable(f"its run {row['flow_id']}/{row['run_number']} is not in the source")
        return run

    def _new_task(self, row: Row) -> None:
        tid = int(row["task_id"])
        if tid in self.tasks:
            return
        run = self._run(row)
        ts = int(row["ts_epoch"])
        self.store.add_step(run, row["step_name"], ts)
        existing = self.store.tasks.get((run.flow_id, run.run_id, row["step_name"], task_id_of(row)))
        if existing is not None:
            self.tasks[tid] = existing
            return
        task = TaskState(run=run, step_name=row["step_name"], task_id=task_id_of(row), created_at=ts)
        fold.task_created(task, ts)
        self.store.add_task(task)
        self.tasks[tid] = task

    def _task(self, row: Row) -> TaskState:
        task = self.tasks.get(int(row["task_id"]))
        if task is None:
            raise Uninterpretable(f"its task {row['task_id']} is not in the source's tasks table")
        return task

    def _liveness(self, batch: Batch) -> None:
        """The source's current heartbeats and tags: the latest state, after everything else."""
        for key, row in batch.heartbeats.items():
            run = self.runs.get(key)
            if run is None:
                continue
            if row.get("last_heartbeat_ts") is not None:
                fold.run_heartbeat(run, int(row["last_heartbeat_ts"]) * 1000)
            run.set("tags", _strings(row.get("tags")))
        for tid, beat in batch.task_beats.items():
            task = self.tasks.get(tid)
            # The service stamps a task's heartbeat when it creates the task: that is no sign of
            # life yet (the ingest service leaves it empty until the first real beat).
            if task is None or beat is None or beat * 1000 <= task.created_at + 1000:
                continue
            fold.task_heartbeat(task, beat * 1000)

    async def _enrich(self, batch: Batch, groups: dict[AttemptKey, list[Row]]) -> dict[AttemptKey, Enrichment | None]:
        """Datastore facts per attempt: the _parameters tasks first (their DAG says which steps @catch)."""
        self._ids = {tid: t.task_id for tid, t in self.tasks.items()}
        self._ids.update({int(t["task_id"]): task_id_of(t) for t in batch.tasks})
        first = {k: v for k, v in groups.items() if k[2].startswith("_")}
        rest = {k: v for k, v in groups.items() if not k[2].startswith("_")}
        infos: dict[AttemptKey, Enrichment | None] = {}
        dags: dict[RunKey, Any] = {}
        for part in (first, rest):
            jobs, keys = [], []
            for key, rows in part.items():
                job = self._job(key, rows, dags)
                if job is not None:
                    jobs.append(job)
                    keys.append(key)
            for key, info in zip(keys, await self.enricher.inspect_many(jobs)):
                infos[key] = info
                if info is not None and info.dag is not None:
                    dags[(key[0], key[1])] = info.dag
        return infos

    def _job(self, key: AttemptKey, rows: list[Row], dags: dict[RunKey, Any]) -> Job | None:
        root = next((r["location"][len(":root:"):] for r in rows
                     if isinstance(r.get("location"), str) and r["location"].startswith(":root:")), None)
        run = self.runs.get((key[0], key[1]))
        task_id = self._ids.get(key[3])
        if root is None or run is None or task_id is None:
            return None
        dag = dags.get((key[0], key[1]), run.dag)
        steps = dag.get("steps") if isinstance(dag, dict) else None
        node = steps.get(key[2]) if isinstance(steps, dict) else None
        catch = fold.has_decorator(node.get("decorators") if isinstance(node, dict) else None, "catch")
        return Job(root=root, flow=key[0], run_id=run.run_id, step=key[2], task_id=task_id, attempt=key[4],
                   shas={r["name"]: r["sha"] for r in rows if r.get("sha")}, catch_step=catch)


def _artifact_record(flow: str, r: Row) -> ArtifactRecord:
    location, sha = r.get("location"), r.get("sha")
    if not isinstance(sha, str) or not sha.strip():
        raise Uninterpretable("artifact without a sha")
    return ArtifactRecord(
        name=r["name"], sha=sha, attempt=int(r["attempt_id"]),
        root=location[len(":root:"):] if isinstance(location, str) and location.startswith(":root:") else None,
        location=stored_location(flow, sha, location) if isinstance(location, str) else None,
        encoding=r["content_type"] if isinstance(r.get("content_type"), str) else "pickle-v4",
        ts=int(r["ts_epoch"]))


def _metadata_calls(rows: list[Row]) -> list[list[Row]]:
    """Consecutive rows (by id) of the same task: one metadata POST, as the service received it."""
    calls: list[list[Row]] = []
    for r in sorted(rows, key=lambda r: int(r["id"])):
        if "call_id" in r:     # the bulk path: the source numbered the calls (some rows are not read)
            if calls and calls[-1][-1]["call_id"] == r["call_id"]:
                calls[-1].append(r)
            else:
                calls.append([r])
        elif calls and int(calls[-1][-1]["task_id"]) == int(r["task_id"]):
            calls[-1].append(r)
        else:
            calls.append([r])
    return calls


def _artifact_groups(rows: list[Row]) -> dict[AttemptKey, list[Row]]:
    groups: dict[AttemptKey, list[Row]] = {}
    for r in rows:
        groups.setdefault(attempt_key(r), []).append(r)
    return groups


def _describe(kind: str, item: Any) -> str:
    if kind == "metadata":
        r = item[0]
        return f"metadata id {r.get('id')} ({r.get('flow_id')}/{r.get('run_number')}/{r.get('step_name')}/" \
               f"{r.get('task_id')} {r.get('field_name')})"
    if kind == "artifacts":
        k = item[0]
        return f"artifacts of {k[0]}/{k[1]}/{k[2]}/{k[3]} attempt {k[4]}"
    return f"{kind} {item.get('flow_id')}/{item.get('run_number')}/{item.get('step_name', '')}" \
           f"{'/' + str(item['task_id']) if 'task_id' in item else ''}"
