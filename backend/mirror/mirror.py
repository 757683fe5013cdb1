"""The mirror of one metaflow-service database: connect, check, backfill, then follow live.

Faults: the source or Flowscope's database unreachable (restart, network) → the state says
"disconnected … since …", the mirror retries with backoff (1 s doubling to 30 s), reloads its
checkpoint and catches up from there: nothing lost, nothing applied twice. A batch the database
refuses is applied again run by run under savepoints; a run that still fails is logged with its
key and skipped. An unknown schema version is refused before anything is read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiopg
import psycopg2
import psycopg2.extras

from backend.ingest.db.pool import Cursor, all_rows, transaction
from backend.ingest.state.model import RunState
from backend.ingest.state.store import StateStore
from backend.mirror import checkpoint as ck
from backend.mirror.backfill import backfill
from backend.mirror.bulk import write as write_bulk
from backend.mirror.enricher import Enricher
from backend.mirror.replay import Applied, Batch, Replayer, RunKey
from backend.mirror.source import SchemaRefused, Source, SourceUnavailable, check_source_dsn
from backend.mirror.source_sql import Names
from backend.mirror.status import MirrorStatus
from backend.mirror.tail import Tail
from contract.pg.connect import redact_dsn, resolve_dsns
from contract.settings import Settings

log = logging.getLogger(__name__)
HORIZON_GRACE_S = 2.0    # inserts in flight when the horizon is taken commit within this
PUBLISH_EVERY_S = 2.0
BACKOFF_MAX_S = 30.0
CONNECTION_ERRORS = (psycopg2.OperationalError, psycopg2.InterfaceError, OSError, asyncio.TimeoutError)


def names_from(settings: Settings) -> Names:
    return Names(schema=settings.mirror_schema, flows=settings.mirror_table_flows,
                 runs=settings.mirror_table_runs, steps=settings.mirror_table_steps,
                 tasks=settings.mirror_table_tasks, metadata=settings.mirror_table_metadata,
                 artifact=settings.mirror_table_artifact)


# Takes the commit lock and runs a batch's last statements (see Mirror._committing).
Seal = Callable[[StateStore, Applied, Callable[[Cursor, Applied], Awaitable[None]]], Awaitable[None]]

class Mirror:
    def __init__(self, settings: Settings, source_dsn: str | None = None) -> None:
        dsn = source_dsn or settings.mirror_source
        if not dsn:
            raise ValueError("no source: set FLOWSCOPE_MIRROR_SOURCE or pass --source")
        check_source_dsn(dsn)
        writer = resolve_dsns(settings).writer
        if writer is None:
            raise ValueError("the mirror writes into Flowscope's database: set FLOWSCOPE_DSN (the writer role)")
        self.writer_dsn = writer
        self.name: str = settings.mirror_name
        self.source = Source(dsn, names_from(settings))
        self.status = MirrorStatus(name=self.name, source=redact_dsn(dsn))
        self.listen_setting: str = settings.mirror_listen
        self.poll_interval = settings.mirror_poll_interval
        self.poll_interval_listening = settings.mirror_poll_interval_listening
        self.liveness_interval = settings.mirror_liveness_interval
        self.tag_sweep_runs = settings.mirror_tag_sweep_runs
        self.lookback = settings.mirror_lookback
        self.batch_runs = settings.mirror_batch_runs
        self.enricher = Enricher(settings.s3_endpoint_url, settings.mirror_datastore_threads)
        self._pool: aiopg.Pool | None = None
        self.ckpt = ck.Checkpoint()
        self._published = 0.0
        self._published_phase = ""
        self._conflicts: set[RunKey] = set()
        self.writers = settings.mirror_backfill_writers
        self.bulk = settings.mirror_backfill_bulk
        self.commit_lock = asyncio.Lock()
        self.on_progress: Callable[[MirrorStatus], None] | None = None

    # -- lifecycle ----------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event, *, backfill_only: bool = False) -> int:
        """Mirror until ``stop`` is set (or, with ``backfill_only``, until history is copied).

        Returns 0, or 2 when the source is refused (not a schema this mirror reads).
        """
        backoff = 1.0
        try:
            while not stop.is_set():
                try:
                    await self._open()
                    await self._prepare()
                    backoff = 1.0
                    self.status.disconnected_since = None
                    self.status.unreachable = self.status.error = None
                    if not self.ckpt.backfill_done:
                        self.status.phase = "backfilling"
                        self.status.backfill_started_at = self.status.backfill_started_at or ck.now_ms()
                        await self.publish(force=True)
                        await backfill(self)
                    if backfill_only:
                        return 0
                    self.status.phase = "live"
                    await self.publish(force=True)
                    await Tail(self).run(stop)
                except SchemaRefused as exc:
                    log.error("%s", exc)
                    self.status.phase, self.status.error = "refused", str(exc)
                    await self.publish(force=True)
                    return 2
                except (SourceUnavailable, *CONNECTION_ERRORS) as exc:
                    what = "source" if isinstance(exc, SourceUnavailable) else "flowscope"
                    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                    if self.status.phase != "disconnected" or self.status.unreachable != what:
                        log.warning("%s database unreachable (%s); retrying", "source" if what == "source"
                                    else "Flowscope", first)
                        self.status.disconnected_since = ck.now_ms()
                    self.status.phase, self.status.unreachable, self.status.error = "disconnected", what, first
                    await self.publish(force=True)
                    try:
                        await asyncio.wait_for(stop.wait(), backoff)
                    except TimeoutError:
                        pass
                    backoff = min(backoff * 2, BACKOFF_MAX_S)
                finally:
                    await self._close()
            return 0
        finally:
            if self.status.phase not in ("refused",):
                self.status.phase = "stopped"
                await self._publish_once()
            self.enricher.close()

    @property
    def pool(self) -> aiopg.Pool:
        """The writer pool to Flowscope's database (open while the mirror runs)."""
        if self._pool is None:
            raise psycopg2.InterfaceError("not connected to Flowscope's database")
        return self._pool

    async def _open(self) -> None:
        await self.source.open()
        if self._pool is None:
            self._pool = await aiopg.create_pool(self.writer_dsn, minsize=1, maxsize=self.writers + 2, timeout=60.0,
                                                 on_connect=_session)

    async def _close(self) -> None:
        await self.source.close()
        if self._pool is not None:
            self._pool.close()
            await self._pool.wait_closed()
            self._pool = None

    async def _prepare(self) -> None:
        """Check the source, load the checkpoint (the committed truth), take the horizon once."""
        info = await self.source.check()
        self.status.schema_version = info.version
        self.status.triggers = list(info.triggers)
        self.status.listening = self.listen_setting == "on" or (self.listen_setting == "auto" and bool(info.triggers))
        async with transaction(self.pool) as cur:
            self.ckpt, _row = await ck.load(cur, self.name)
        if self.ckpt.horizon is None:
            sql = self.source.sql
            m_id = (await self.source.one(sql.horizon_metadata) or {}).get("v") or 0
            t_id = (await self.source.one(sql.horizon_tasks) or {}).get("v") or 0
            ts = ck.now_ms()
            await asyncio.sleep(HORIZON_GRACE_S)
            total = (await self.source.one(sql.count_runs, (ts,)) or {}).get("n") or 0
            self.ckpt.horizon = {"metadata_id": int(m_id), "task_id": int(t_id), "ts": ts}
            self.ckpt.total_runs = int(total)
            self.ckpt.tail = ck.Tail(metadata_id=int(m_id), task_id=int(t_id), run_ts=ts)
            async with transaction(self.pool) as cur:
                await ck.save(cur, self.name, "backfilling", self.ckpt)
        self.status.runs_done, self.status.total_runs = self.ckpt.runs_done, self.ckpt.total_runs

    # -- shared by the backfill and the tail --------------------------------------------------

    async def mirrored_keys(self, keys: list[RunKey]) -> dict[RunKey, str]:
        """Which of these source runs are mirrored already: key -> Flowscope run_id."""
        if not keys:
            return {}
        async with transaction(self.pool) as cur:
            rows = await all_rows(cur, ck.MIRRORED, ([k[0] for k in keys], [k[1] for k in keys], self.name))
        return {(r["flow_id"], int(r["run_number"])): r["run_id"] for r in rows}

    async def record_runs(self, cur: Cursor, runs: list[tuple[RunKey, RunState]]) -> None:
        rows = []
        for key, run in runs:
            if run.run_pk is None:
                if key not in self._conflicts:
                    self._conflicts.add(key)
                    log.warning("run %s/%s exists in Flowscope and was not written by this mirror: left alone",
                                run.flow_id, run.run_id)
                    self.skip(f"run {key[0]}/{key[1]}: a run {run.flow_id}/{run.run_id} not written by the mirror "
                              "exists")
                continue
            rows.append({"run_pk": run.run_pk, "source": self.name, "flow_id": key[0], "run_number": key[1]})
        if rows:
            await cur.execute(ck.RECORD_RUNS, (psycopg2.extras.Json(rows),))

    async def apply(self, batch: Batch, known: dict[int, Any],
                    before_commit: Callable[[Cursor, Applied], Awaitable[None]]) -> Applied:
        """Apply a batch and, in the same transaction, whatever ``before_commit`` writes (the checkpoint).

        Several batches may be written at once (the backfill's writers), each on its own
        connection; their ends — the flows' last-run update, ``before_commit`` and the commit —
        take turns (``commit_lock``), so checkpoints are saved in the order they are computed and
        the flows rows every batch shares are locked only for the length of a commit.
        """
        try:
            return await self._apply_once(batch, known, before_commit)
        except psycopg2.DatabaseError as exc:
            if isinstance(exc, (psycopg2.OperationalError, psycopg2.InterfaceError)):
                raise
            log.warning("a batch of %d run(s) was refused by Flowscope's database (%s); applying run by run",
                        len(_run_keys(batch)), str(exc).strip().splitlines()[0])
        if batch.bulk is not None and batch.bulk.refill is not None:
            batch = await batch.bulk.refill()     # every row of its runs, for the replay alone
        total = Applied()
        async with self._committing() as (cur, seal):
            store = StateStore(cur, defer_flow_touch=True)
            for key, sub in split_by_run(batch).items():
                await cur.execute("SAVEPOINT mirror_run")
                try:
                    part = await self._apply_in(cur, sub, known)
                    await cur.execute("RELEASE SAVEPOINT mirror_run")
                except psycopg2.DatabaseError as exc:
                    if isinstance(exc, (psycopg2.OperationalError, psycopg2.InterfaceError)):
                        raise
                    await cur.execute("ROLLBACK TO SAVEPOINT mirror_run")
                    self.skip(f"run {key[0]}/{key[1]}: {str(exc).strip().splitlines()[0]}")
                    continue
                store.flow_touch.update(part.flow_touch)
                total.runs += part.runs
                total.tasks.update(part.tasks)
                total.artifact_sets.update(part.artifact_sets)
                total.attempts_done.update(part.attempts_done)
                total.rows += part.rows
                total.skipped += part.skipped
            await seal(store, total, before_commit)
        return total

    async def _apply_once(self, batch: Batch, known: dict[int, Any],
                          before_commit: Callable[[Cursor, Applied], Awaitable[None]]) -> Applied:
        async with self._committing() as (cur, seal):
            applied = await self._apply_in(cur, batch, known)
            store = StateStore(cur, defer_flow_touch=True)
            store.flow_touch = applied.flow_touch
            await seal(store, applied, before_commit)
        return applied

    @contextlib.asynccontextmanager
    async def _committing(self) -> AsyncIterator[tuple[Cursor, Seal]]:
        """A Flowscope transaction whose last statements (the flows' touch, ``before_commit``: the
        checkpoint) and commit run under ``commit_lock``, taken by the ``seal`` it hands out and
        released once the transaction has ended, committed or not."""
        held = False

        async def seal(store: StateStore, applied: Applied,
                       before_commit: Callable[[Cursor, Applied], Awaitable[None]]) -> None:
            nonlocal held
            await self.commit_lock.acquire()
            held = True
            await store.touch_flows()
            await before_commit(store.cur, applied)

        try:
            async with transaction(self.pool) as cur:
                yield cur, seal
        finally:
            if held:
                self.commit_lock.release()

    async def _apply_in(self, cur: Cursor, batch: Batch, known: dict[int, Any]) -> Applied:
        store = StateStore(cur, defer_flow_touch=True)
        # A backfill batch of whole new runs counts their tasks itself (no trigger UPDATE of them).
        store.precount = batch.bulk is not None
        replayer = Replayer(store, self.enricher)
        await replayer.prepare(batch, known)
        applied = await replayer.apply(batch)
        bulk = batch.bulk
        if bulk is not None:
            store.after_rows = lambda: write_bulk(self, cur, bulk, replayer.tasks, applied)
        await store.flush()
        applied.flow_touch = store.flow_touch
        await self.record_runs(cur, applied.runs)
        return applied

    async def copy_runs(self, rows: list[dict[str, Any]]) -> None:
        """Copy whole runs from before the horizon now (the tail met rows of them before the backfill)."""
        from backend.mirror.backfill import copy_whole_runs

        await copy_whole_runs(self, rows)

    def note_applied(self, applied: Applied, batch: Batch, live: bool = False) -> None:
        for s in applied.skipped:
            self.skip(s)
        if live:
            self.status.rows += applied.rows
        ts = [int(r["ts_epoch"]) for r in [*batch.metadata, *batch.tasks, *batch.new_runs.values()]]
        if ts:
            self.status.last_change_at = max(ts + [self.status.last_change_at or 0])
        self.status.datastore_unreadable = dict(self.enricher.unreadable)

    def skip(self, what: str) -> None:
        self.status.skipped += 1
        self.status.last_skipped.append(what)

    # -- state --------------------------------------------------------------------------------

    async def publish(self, force: bool = False) -> None:
        """Write the state for /api/-/status (at most every 2 s unless the phase changed)."""
        self.status.note_queries(self.source.queries)
        if self.on_progress is not None:
            self.on_progress(self.status)
        if not force and self.status.phase == self._published_phase and \
                time.monotonic() - self._published < PUBLISH_EVERY_S:
            return
        await self._publish_once()

    async def _publish_once(self) -> None:
        if self._pool is None:
            try:
                conn = await aiopg.connect(self.writer_dsn, timeout=5.0)
            except CONNECTION_ERRORS:
                return     # Flowscope's database is what is down: nobody could read the state anyway
            try:
                async with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
                    await ck.save_detail(cur, self.name, self.status.phase, self.status.detail())
            except CONNECTION_ERRORS:
                return
            finally:
                conn.close()
        else:
            try:
                async with transaction(self.pool) as cur:
                    await ck.save_detail(cur, self.name, self.status.phase, self.status.detail())
            except CONNECTION_ERRORS:
                return
        self._published = time.monotonic()
        self._published_phase = self.status.phase


async def _session(conn: Any) -> None:
    psycopg2.extras.register_default_jsonb(conn.raw)
    # Commits do not wait for the WAL flush (a user setting, no superuser right needed): a crash
    # of Flowscope's database may lose the last commits — the checkpoint with the rows it covers,
    # as one transaction — and the mirror copies those rows again from the checkpoint kept.
    async with conn.cursor() as cur:
        await cur.execute("SET synchronous_commit = off")


def _run_keys(batch: Batch) -> set[RunKey]:
    rows = [*batch.steps, *batch.tasks, *batch.metadata, *batch.artifacts]
    return {(r["flow_id"], int(r["run_number"])) for r in rows} | set(batch.new_runs) | set(batch.mirrored)


def split_by_run(batch: Batch) -> dict[RunKey, Batch]:
    """The batch as one sub-batch per run (task heartbeats go with their task's run)."""
    out: dict[RunKey, Batch] = {}

    def part(key: RunKey) -> Batch:
        if key not in out:
            out[key] = Batch(complete=batch.complete)
        return out[key]

    for key, row in batch.new_runs.items():
        part(key).new_runs[key] = row
    for key, rid in batch.mirrored.items():
        part(key).mirrored[key] = rid
    task_run: dict[int, RunKey] = {}
    for attr in ("steps", "tasks", "metadata", "artifacts"):
        for r in getattr(batch, attr):
            key = (r["flow_id"], int(r["run_number"]))
            getattr(part(key), attr).append(r)
            if attr == "tasks":
                task_run[int(r["task_id"])] = key
    for key, row in batch.heartbeats.items():
        part(key).heartbeats[key] = row
    for tid, beat in batch.task_beats.items():
        if tid in task_run:
            part(task_run[tid]).task_beats[tid] = beat
    for key, sub in out.items():
        if key in batch.mirrored:
            sub.mirrored[key] = batch.mirrored[key]
    return out
