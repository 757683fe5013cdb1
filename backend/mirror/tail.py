"""The live tail: new source rows and the updates that happen (heartbeats, tag mutations).

One cycle reads, each with an index of the source (``source_sql``):

* runs by ``ts_epoch`` (looking back ``mirror_lookback`` seconds: the service stamps the row before
  its INSERT commits), tasks by ``task_id`` and metadata by ``id`` after the checkpoint's cursors;
* ids a previous read skipped (a transaction still open then): re-read by id until they appear
  or expire;
* the artifact rows of task attempts that just reported ``attempt-done`` (Metaflow registers an
  attempt's artifacts right after it; the table has no serial column to follow).

Everything read is applied through the ingest translation in one Flowscope transaction that also
moves the checkpoint. Separately, every ``mirror_liveness_interval``, the heartbeats and tags of
the runs and tasks Flowscope still shows running are read by primary key (no notification or
serial column reveals those updates). With Metaflow UI's triggers present, a notification on the
``notify`` channel starts a cycle at once and the timed polls become a slow safety net.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, TypeVar

from backend.ingest.db.pool import Cursor, all_rows, transaction
from backend.ingest.state.store import StateStore
from backend.mirror import checkpoint as ck
from backend.mirror.replay import Applied, Batch, Replayer, RunKey, attempt_key, task_id_of
from backend.mirror.source import SourceUnavailable
from backend.mirror.tag_sweep import TagSweep

if TYPE_CHECKING:
    from backend.mirror.mirror import Mirror

log = logging.getLogger(__name__)
PAGE = 2000
GAP_TTL_MS = 60_000          # an id missing this long was rolled back (or lost to a crash)
MAX_GAP = 10_000             # a larger jump of a sequence is not tracked id by id
ARTIFACT_QUIET_MS = 10_000   # no new artifact rows for this long: the attempt's set is complete
ARTIFACT_MAX_MS = 120_000
FOLLOW_S = 0.1               # re-poll this soon after a poll that found rows
FULL_POLL_S = 10.0           # a full poll at least this often, even if the probe saw nothing move
STALE_RUN_MS = 86_400_000    # runs silent for a day are no longer polled for heartbeats (Metaflow's rule)

ALIVE_RUNS = ("SELECT r.run_pk, r.run_id, r.heartbeat_at, r.tags, m.flow_id, m.run_number FROM runs r "
              "JOIN mirror_runs m USING (run_pk) WHERE r.status = 'running' AND m.source = %s "
              "AND r.heartbeat_at >= %s")
RECENTLY_FINISHED = ("SELECT r.run_pk, r.run_id, r.heartbeat_at, r.tags, m.flow_id, m.run_number FROM runs r "
                     "JOIN mirror_runs m USING (run_pk) WHERE r.finished_at >= %s AND m.source = %s")
ALIVE_TASKS = ("SELECT t.run_pk, t.step_name, t.task_id FROM tasks t WHERE t.run_pk = ANY(%s) "
               "AND t.status = 'running'")
RECENT_FINISH_MS = 3_600_000   # tags of runs finished within the hour are still followed
KNOWN_TASKS = 200_000          # source task ids remembered (a miss costs one lookup by primary key)

K = TypeVar("K")
V = TypeVar("V")


class BoundedMap(OrderedDict[K, V]):
    """A dict that forgets its oldest entries past ``size``."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def __setitem__(self, key: K, value: V) -> None:
        super().__setitem__(key, value)
        while len(self) > self.size:
            self.popitem(last=False)


class Tail:
    def __init__(self, m: Mirror) -> None:
        self.m = m
        self.wake = asyncio.Event()
        self.recent_runs: dict[RunKey, int] = {}          # new runs seen by the run poll -> ts_epoch
        self.known_tasks: BoundedMap[int, tuple[RunKey, str, str]] = BoundedMap(KNOWN_TASKS)
        self._last_liveness = 0.0
        self.tag_sweep = TagSweep(m, m.tag_sweep_runs)
        self._last_full = 0.0
        self._probe: tuple[Any, Any, Any] | None = None    # what the probe said at the last full poll
        self._saved = ""                                     # the checkpoint as last written by this tail

    async def run(self, stop: asyncio.Event) -> None:
        m = self.m
        listener = None
        if m.status.listening:
            listener = asyncio.create_task(self._listen())
        try:
            while not stop.is_set():
                if listener is not None and listener.done():
                    self._listener_ended(listener)
                    listener = None
                found = await self.cycle()
                if time.monotonic() - self._last_liveness >= m.liveness_interval:
                    await self.liveness()
                    await self.tag_sweep.step()
                    self._last_liveness = time.monotonic()
                await m.publish()
                if found:
                    await asyncio.sleep(FOLLOW_S)
                    continue
                interval = m.poll_interval_listening if listener is not None else m.poll_interval
                self.wake.clear()
                waits: list[asyncio.Future[Any]] = [asyncio.ensure_future(self.wake.wait()),
                                                    asyncio.ensure_future(stop.wait())]
                if listener is not None:
                    waits.append(listener)
                await asyncio.wait(waits, timeout=min(interval, m.liveness_interval),
                                   return_when=asyncio.FIRST_COMPLETED)
                for w in waits[:2]:
                    w.cancel()
        finally:
            if listener is not None:
                listener.cancel()
                await asyncio.gather(listener, return_exceptions=True)

    def _listener_ended(self, listener: asyncio.Task[None]) -> None:
        """A lost connection is the runner's to handle; LISTEN refused (a replica): poll instead."""
        exc = listener.exception()
        if exc is None or isinstance(exc, SourceUnavailable):
            listener.result()
            return
        log.warning("LISTEN on the source failed (%s): polling every %g s instead",
                    str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__,
                    self.m.poll_interval)
        self.m.status.listening = False

    async def _listen(self) -> None:
        async with self.m.source.listener() as conn:
            while True:
                await conn.notifies.get()
                self.wake.set()

    # -- one poll cycle ----------------------------------------------------------------------

    async def _quiet(self) -> bool:
        """Nothing moved since the last full poll (one cheap statement instead of four)."""
        m, tail = self.m, self.m.ckpt.tail
        if tail.task_gaps or tail.metadata_gaps or tail.pending_artifacts or self._probe is None:
            return False
        if time.monotonic() - self._last_full > FULL_POLL_S:
            return False     # a run row stamped before the newest one may have committed since
        probe = await m.source.one(m.source.sql.probe)
        seen = (probe or {}).get("metadata_id"), (probe or {}).get("task_id"), (probe or {}).get("run_ts")
        return seen == self._probe

    async def cycle(self) -> bool:
        """Read and apply what is new; True if anything was found (a reason to look again soon)."""
        m, sql, tail = self.m, self.m.source.sql, self.m.ckpt.tail
        started = ck.now_ms()
        if self._expire_artifacts(started):
            await self._save_cursors()
        if await self._quiet():
            m.status.caught_up_at = started
            m.status.note_queries(m.source.queries)
            return False
        probe = await m.source.one(sql.probe)
        self._last_full = time.monotonic()
        lookback = tail.run_ts - int(m.lookback * 1000)
        runs = await m.source.all(sql.new_runs, (lookback, PAGE))
        tasks = await m.source.all(sql.new_tasks, (tail.task_id, PAGE))
        if tail.task_gaps:
            tasks += await m.source.all(sql.tasks_by_id, ([int(i) for i in tail.task_gaps],))
        metadata = await m.source.all(sql.new_metadata, (tail.metadata_id, PAGE * 2))
        if tail.metadata_gaps:
            metadata += await m.source.all(sql.metadata_by_id, ([int(i) for i in tail.metadata_gaps],))
        artifacts = await self._pending_artifacts()
        more = len(runs) >= PAGE or len(tasks) >= PAGE or len(metadata) >= PAGE * 2

        new_runs = {}
        for r in runs:
            key = (r["flow_id"], int(r["run_number"]))
            if key not in self.recent_runs:
                new_runs[key] = r
        # The cursors move in the same transaction as the rows they cover.
        now = ck.now_ms()
        self._advance(tail, "task", tasks, now)
        self._advance(tail, "metadata", metadata, now)
        if runs:
            tail.run_ts = max(tail.run_ts, *(int(r["ts_epoch"]) for r in runs))
        batch = Batch(new_runs=dict(new_runs), tasks=tasks, metadata=metadata, artifacts=artifacts)
        applied = await self._apply(batch)
        for key, r in new_runs.items():
            self.recent_runs[key] = int(r["ts_epoch"])
        self.recent_runs = {k: ts for k, ts in self.recent_runs.items() if ts >= lookback}
        if not more:
            m.status.caught_up_at = started
            self._probe = ((probe or {}).get("metadata_id"), (probe or {}).get("task_id"),
                           (probe or {}).get("run_ts"))
        else:
            self._probe = None
        m.status.note_queries(m.source.queries)
        return bool(applied or more)

    async def _apply(self, batch: Batch) -> int:
        """Make sure every run and task the rows belong to exists, then apply them: one transaction."""
        m, sql = self.m, self.m.source.sql
        keys = {(r["flow_id"], int(r["run_number"])) for r in [*batch.tasks, *batch.metadata, *batch.artifacts]}
        keys |= set(batch.new_runs)
        if not keys:
            await self._save_cursors()
            return 0
        mirrored = await m.mirrored_keys(sorted(keys))
        for key in list(batch.new_runs):
            if key in mirrored:
                del batch.new_runs[key]
        missing = [k for k in keys if k not in mirrored and k not in batch.new_runs]
        if missing:
            rows = await m.source.all(sql.runs_by_key, ([k[0] for k in missing], [k[1] for k in missing]))
            horizon_ts = m.ckpt.horizon["ts"] if m.ckpt.horizon else 0
            older = [r for r in rows if int(r["ts_epoch"]) <= horizon_ts]
            if older:
                # Runs from before the horizon the backfill has not reached: copy them now, whole.
                await m.copy_runs(older)
                mirrored.update(await m.mirrored_keys([(r["flow_id"], int(r["run_number"])) for r in older]))
            for r in rows:
                if int(r["ts_epoch"]) > horizon_ts:
                    batch.new_runs[(r["flow_id"], int(r["run_number"]))] = r
        batch.mirrored = {k: v for k, v in mirrored.items() if k in keys}
        # Tasks the rows name that this cycle did not read: mirrored already, or new.
        have = {int(t["task_id"]) for t in batch.tasks}
        named = {int(r["task_id"]) for r in [*batch.metadata, *batch.artifacts]} - have - set(self.known_tasks)
        if named:
            batch.tasks += await m.source.all(sql.tasks_by_id, (sorted(named),))
        for t in batch.tasks:
            self.known_tasks.setdefault(int(t["task_id"]), ((t["flow_id"], int(t["run_number"])),
                                                            t["step_name"], task_id_of(t)))
        if batch.tasks:
            steps_for = sorted({(t["flow_id"], int(t["run_number"])) for t in batch.tasks})
            batch.steps = await m.source.all(sql.steps_of_runs, ([k[0] for k in steps_for],
                                                                 [k[1] for k in steps_for]))

        async def checkpoint(cur: Cursor, applied: Applied) -> None:
            self._track_artifacts(batch, applied)
            m.note_applied(applied, batch, live=True)
            await ck.save(cur, m.name, m.status.phase, m.ckpt)
            # If this transaction fails the mirror reconnects with a new Tail (and the saved checkpoint).
            self._saved = m.ckpt.to_json()

        applied = await m.apply(batch, self.known_tasks, checkpoint)
        return applied.rows

    async def _save_cursors(self) -> None:
        """The checkpoint, if it changed: a poll that found nothing writes nothing to Flowscope."""
        state = self.m.ckpt.to_json()
        if state == self._saved:
            return
        async with transaction(self.m.pool) as cur:
            await ck.save(cur, self.m.name, self.m.status.phase, self.m.ckpt)
        self._saved = state

    def _advance(self, tail: ck.Tail, what: str, rows: list[dict[str, Any]], now: int) -> None:
        """Move a serial cursor past the rows read; remember skipped ids as gaps until they show."""
        col = "task_id" if what == "task" else "id"
        gaps: dict[str, int] = tail.task_gaps if what == "task" else tail.metadata_gaps
        cursor = tail.task_id if what == "task" else tail.metadata_id
        ids = sorted({int(r[col]) for r in rows})
        for i in ids:
            gaps.pop(str(i), None)
        fresh = [i for i in ids if i > cursor]
        if fresh:
            expected = cursor + 1
            for i in fresh:
                if i - expected <= MAX_GAP:
                    for missing in range(expected, i):
                        gaps.setdefault(str(missing), now)
                else:
                    log.warning("the source's %s ids jumped from %d to %d: not tracking the gap", what, expected, i)
                expected = i + 1
            cursor = fresh[-1]
        for gap, seen in list(gaps.items()):
            if now - seen > GAP_TTL_MS:
                del gaps[gap]
        if what == "task":
            tail.task_id = cursor
        else:
            tail.metadata_id = cursor

    # -- artifacts of finished attempts ------------------------------------------------------

    async def _pending_artifacts(self) -> list[dict[str, Any]]:
        pending = self.m.ckpt.tail.pending_artifacts
        if not pending:
            return []
        keys = [k.split("/") for k in pending]
        rows = await self.m.source.all(self.m.source.sql.artifacts_of_attempts, (
            [k[0] for k in keys], [int(k[1]) for k in keys], [k[2] for k in keys], [int(k[3]) for k in keys],
            [int(k[4]) for k in keys]))
        out = []
        for r in rows:
            entry = pending.get("/".join(map(str, attempt_key(r))))
            if entry is not None and r["name"] not in entry["names"]:
                out.append(r)
        return out

    def _track_artifacts(self, batch: Batch, applied: Applied) -> None:
        """Expect artifact rows after each attempt-done; forget attempts whose set is complete."""
        pending = self.m.ckpt.tail.pending_artifacts
        now = ck.now_ms()
        for key in applied.attempts_done:
            ck.expect_artifacts(self.m.ckpt.tail, key, now)
        for r in batch.artifacts:
            entry = pending.get("/".join(map(str, attempt_key(r))))
            if entry is not None:
                entry["names"] = sorted({*entry["names"], r["name"]})
                entry["last"] = now
        for key, expected in applied.artifact_sets.items():
            entry = pending.get("/".join(map(str, key)))
            if entry is not None and expected:
                entry["expected"] = expected
        self._expire_artifacts(now)

    def _expire_artifacts(self, now: int) -> bool:
        """Stop expecting the artifact rows of attempts whose set is complete, quiet or too old.

        Checked on every poll, not only when rows arrive: an attempt still expected keeps the tail
        reading the tables every poll (instead of one probe), so one whose last rows came before
        the source fell idle must expire without new rows. True if any expired.
        """
        pending = self.m.ckpt.tail.pending_artifacts
        expired = False
        for k, entry in list(pending.items()):
            names = len(entry["names"])
            complete = entry["expected"] is not None and names >= entry["expected"]
            quiet = names > 0 and now - entry["last"] > ARTIFACT_QUIET_MS
            if complete or quiet or now - entry["since"] > ARTIFACT_MAX_MS:
                del pending[k]
                expired = True
        return expired

    # -- heartbeats and tags -----------------------------------------------------------------

    async def liveness(self) -> None:
        """Current heartbeats and tags of what Flowscope shows running (and tags of runs just finished)."""
        m, sql = self.m, self.m.source.sql
        now = ck.now_ms()
        async with transaction(m.pool) as cur:
            alive = await all_rows(cur, ALIVE_RUNS, (m.name, now - STALE_RUN_MS))
            finished = await all_rows(cur, RECENTLY_FINISHED, (now - RECENT_FINISH_MS, m.name))
            tasks = await all_rows(cur, ALIVE_TASKS, ([r["run_pk"] for r in alive],)) if alive else []
        runs = {(r["flow_id"], int(r["run_number"])): r for r in [*alive, *finished]}
        if not runs:
            return
        keys = sorted(runs)
        src_runs = await m.source.all(sql.run_heartbeats, ([k[0] for k in keys], [k[1] for k in keys]))
        by_pk = {r["run_pk"]: k for k, r in runs.items()}
        numeric = [int(t["task_id"]) for t in tasks if t["task_id"].isdigit()]
        beats: dict[int, int] = {}
        if numeric:
            for r in await m.source.all(sql.task_heartbeats, (numeric,)):
                if r["last_heartbeat_ts"] is not None:
                    beats[int(r["task_id"])] = int(r["last_heartbeat_ts"])
        named = [t for t in tasks if not t["task_id"].isdigit()]
        if named:
            ks = [by_pk[t["run_pk"]] for t in named]
            for r in await m.source.all(sql.tasks_by_name, ([k[0] for k in ks], [k[1] for k in ks],
                                                            [t["step_name"] for t in named],
                                                            [t["task_id"] for t in named])):
                if r["last_heartbeat_ts"] is not None:
                    beats[int(r["task_id"])] = int(r["last_heartbeat_ts"])
                self.known_tasks.setdefault(int(r["task_id"]), ((r["flow_id"], int(r["run_number"])),
                                                                r["step_name"], task_id_of(r)))
        for t in tasks:
            if t["task_id"].isdigit():
                self.known_tasks.setdefault(int(t["task_id"]), (by_pk[t["run_pk"]], t["step_name"], t["task_id"]))
        changed = {}
        for r in src_runs:
            key = (r["flow_id"], int(r["run_number"]))
            mine = runs.get(key)
            beat = int(r["last_heartbeat_ts"]) * 1000 if r["last_heartbeat_ts"] is not None else None
            tags = sorted(r["tags"]) if isinstance(r["tags"], list) else []
            if mine is not None and ((beat or 0) > (mine["heartbeat_at"] or 0) or tags != sorted(mine["tags"])):
                changed[key] = r
        if not changed and not beats:
            return
        batch = Batch(mirrored={k: runs[k]["run_id"] for k in runs}, heartbeats=changed, task_beats=beats)
        async with transaction(m.pool) as cur:
            store = StateStore(cur)
            replayer = Replayer(store, m.enricher)
            await replayer.prepare(batch, self.known_tasks)
            await replayer.apply(batch)
            await store.flush()
