"""Copying a metaflow-service database's history, newest runs first, in bounded batches.

Runs come in keyset pages (``ts_epoch DESC, flow_id DESC, run_number DESC``); each page is split
into batches of at most ``BATCH_TASKS`` tasks, and a run larger than that is copied alone in
chunks of tasks. Every batch is one Flowscope transaction that also moves the checkpoint, so
memory is bounded by the batch and a killed mirror resumes at the last committed batch. Only
rows up to the horizon are copied (the live tail applies the rest).

Batches are written into Flowscope by several connections at once while the next is read from
the source (``Pipeline``): at most ``mirror_backfill_writers + 1`` batches in memory. The
checkpoint moves only in the transaction of a batch it covers, and only past batches committed,
so a batch read but not yet written is simply read again after a restart.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from backend.ingest.db.pool import Cursor, transaction
from backend.ingest.state import fold
from backend.ingest.state.store import StateStore
from backend.mirror import checkpoint as ck
from backend.mirror.bulk import ART_ARRAYS, MD_ARRAYS, Bulk
from backend.mirror.replay import Applied, Batch, RunKey, attempt_key
from backend.mirror.source_sql import unpack

if TYPE_CHECKING:
    from backend.mirror.mirror import Mirror

log = logging.getLogger(__name__)
BATCH_TASKS = 5000
FLOWS_PAGE = 1000
ARTIFACTS_RECENT_MS = 120_000   # attempts finished this recently may still be registering artifacts
RECENT_MARGIN_MS = 60_000       # against the wall clock stepping back between a read and its commit


async def copy_flows(m: Mirror) -> None:
    ckpt = m.ckpt
    while not ckpt.flows_done:
        rows = await m.source.all(m.source.sql.flows_page, (ckpt.flows_cursor, FLOWS_PAGE))
        async with transaction(m.pool) as cur:
            store = StateStore(cur)
            for r in rows:
                store.add_flow(r["flow_id"], int(r["ts_epoch"]))
            await store.flush()
            if rows:
                ckpt.flows_cursor = rows[-1]["flow_id"]
            ckpt.flows_done = len(rows) < FLOWS_PAGE
            await ck.save(cur, m.name, m.status.phase, ckpt)


@dataclass
class _Slot:
    """One batch in flight: the page row its checkpoint cursor moves to, and the runs it passes."""

    last: dict[str, Any]
    passed: int
    committed: bool = False
    task: asyncio.Future[None] | None = None


class Pipeline:
    """Batches in flight: each read from the source, then written into Flowscope on its own connection.

    Up to ``m.writers`` batches are written at once while the next one is read, so Python's
    replay of one batch and the source's reads overlap Postgres writing the others. Batches may
    commit out of order; the checkpoint cursor moves only to the end of the longest run of
    committed batches from the start (each commit saves that, see ``_save_prefix``). A batch committed
    ahead of an earlier one that is then lost to a kill is skipped on resume: ``mirror_runs``,
    written in its transaction, says its runs are mirrored. At most ``m.writers + 1`` batches are
    in memory.
    """

    def __init__(self, m: Mirror) -> None:
        self.m = m
        self.slots: list[_Slot] = []     # in page order; committed slots at the head are dropped
        self.base_runs = m.ckpt.runs_done
        self.writing = asyncio.Semaphore(m.writers)

    async def add(self, runs: list[dict[str, Any]], last: dict[str, Any], passed: int) -> None:
        if not self.slots:
            self.base_runs = self.m.ckpt.runs_done     # large runs are committed outside the pipeline
        while len([s for s in self.slots if not s.committed]) > self.m.writers:
            await self._wait_one()
        slot = _Slot(last=dict(last), passed=passed)
        self.slots.append(slot)
        slot.task = asyncio.ensure_future(self._write(slot, asyncio.ensure_future(_read(self.m, runs))))

    async def _wait_one(self) -> None:
        pending = [s.task for s in self.slots if s.task is not None and not s.task.done()]
        if pending:
            await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        self._raise_failed()

    def _raise_failed(self) -> None:
        for s in self.slots:
            if s.task is None or not s.task.done():
                continue
            if s.task.cancelled():
                raise asyncio.CancelledError()
            exc = s.task.exception()
            if exc is not None:
                raise exc

    async def _write(self, slot: _Slot, fetch: asyncio.Future[Batch]) -> None:
        # Reads start in page order; a write waits for its own read only.
        batch = await fetch
        m = self.m

        async def save(cur: Cursor, applied: Applied) -> None:
            _note(m, batch, applied)
            self._save_prefix(slot)
            await ck.save(cur, m.name, m.status.phase, m.ckpt)

        async with self.writing:
            applied = await m.apply(batch, {}, save)
        slot.committed = True
        while self.slots and self.slots[0].committed:
            done = self.slots.pop(0)
            self.base_runs += done.passed
        m.status.backfill_progress(m.ckpt.runs_done, m.ckpt.total_runs, applied.rows)
        await m.publish()

    def _save_prefix(self, slot: _Slot) -> None:
        """Checkpoint = the end of the committed prefix, counting ``slot`` (committing now) in.

        Runs under the mirror's commit lock: checkpoints are saved in the order computed.
        """
        ckpt, runs, last = self.m.ckpt, self.base_runs, None
        for s in self.slots:
            if not (s.committed or s is slot):
                break
            runs += s.passed
            last = s.last
        if last is not None:
            ckpt.backfill_cursor = [int(last["ts_epoch"]), last["flow_id"], int(last["run_number"])]
            ckpt.runs_done = runs

    async def drain(self) -> None:
        """Wait for every batch in flight to commit (the checkpoint is then at the last one)."""
        while self.slots:
            tasks = [s.task for s in self.slots if s.task is not None]
            await asyncio.wait(tasks)
            self._raise_failed()

    async def cancel(self) -> None:
        tasks = [s.task for s in self.slots if s.task is not None]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self.slots = []


async def backfill(m: Mirror) -> None:
    """Copy every run up to the horizon that is not mirrored yet; returns when done."""
    await copy_flows(m)
    ckpt = m.ckpt
    assert ckpt.horizon is not None
    h = ckpt.horizon
    pipe = Pipeline(m)
    cursor = ckpt.backfill_cursor or [h["ts"] + 1, "", 0]
    try:
        while not ckpt.backfill_done:
            if ckpt.partial_run is not None:
                await pipe.drain()
                await _continue_large_run(m)
                cursor = ckpt.backfill_cursor or cursor
                continue
            page = await m.source.all(m.source.sql.runs_page, (h["ts"], cursor[0], cursor[1], cursor[2],
                                                                m.batch_runs))
            if not page:
                await pipe.drain()
                async with transaction(m.pool) as cur:
                    ckpt.backfill_done = True
                    await ck.save(cur, m.name, m.status.phase, ckpt)
                break
            last_row = page[-1]
            cursor = [int(last_row["ts_epoch"]), last_row["flow_id"], int(last_row["run_number"])]
            await _walk_page(m, pipe, page)
        await pipe.drain()
    finally:
        await pipe.cancel()


async def _walk_page(m: Mirror, pipe: Pipeline, page: list[dict[str, Any]]) -> None:
    """Split a page of runs into batches (and runs too large for one, copied alone in chunks)."""
    ckpt = m.ckpt
    mirrored = await m.mirrored_keys([(r["flow_id"], int(r["run_number"])) for r in page])
    todo = [r for r in page if (r["flow_id"], int(r["run_number"])) not in mirrored]
    counts = await _task_counts(m, todo)
    batch: list[dict[str, Any]] = []
    n_tasks, start = 0, 0      # start: first page index not yet counted in runs_done
    for i, run in enumerate(page):
        key = (run["flow_id"], int(run["run_number"]))
        if key in mirrored:
            continue
        size = counts.get(key, 0)
        if batch and (n_tasks + size > BATCH_TASKS or size > BATCH_TASKS):
            await pipe.add(batch, page[i - 1], passed=i - start)
            batch, n_tasks, start = [], 0, i
        if size > BATCH_TASKS:
            await pipe.drain()
            ckpt.partial_run = {"flow_id": key[0], "run_number": key[1], "task_id": 0, "run": dict(run),
                                "passed": i + 1 - start}
            while ckpt.partial_run is not None:
                await _continue_large_run(m)
            start = i + 1
            continue
        batch.append(run)
        n_tasks += size
    if start < len(page):
        await pipe.add(batch, page[-1], passed=len(page) - start)


async def _task_counts(m: Mirror, runs: list[dict[str, Any]]) -> dict[RunKey, int]:
    if not runs:
        return {}
    h = m.ckpt.horizon
    assert h is not None
    rows = await m.source.all(m.source.sql.task_counts, ([r["flow_id"] for r in runs],
                                                         [int(r["run_number"]) for r in runs], h["task_id"]))
    return {(r["flow_id"], int(r["run_number"])): int(r["n"]) for r in rows}


async def _read(m: Mirror, runs: list[dict[str, Any]]) -> Batch:
    batch = Batch(complete=True)
    if m.bulk:
        await _fill_bulk(m, batch, runs)
    else:
        await _fill(m, batch, runs)
    return batch


async def _read_plain(m: Mirror, runs: list[dict[str, Any]]) -> Batch:
    batch = Batch(complete=True)
    await _fill(m, batch, runs)
    return batch


async def _fill_bulk(m: Mirror, batch: Batch, runs: list[dict[str, Any]]) -> None:
    """Like ``_fill``, but metadata and artifact rows the replay need not see stay JSON (``bulk``)."""
    if not runs:
        return
    flows, numbers, h = await _runs_steps_tasks(m, batch, runs)
    sql = m.source.sql
    bulk = Bulk(runs=(flows, numbers), refill=lambda: _read_plain(m, runs))
    batch.bulk = bulk
    # One read each of the runs' metadata and artifact rows: the rows for Python, then a last one
    # holding the rest as arrays (``bulk``).
    rows = await m.source.all(sql.metadata_batch, (flows, numbers, h["metadata_id"], list(fold.FOLD_FIELDS)))
    bulk.metadata = _arrays(rows, MD_ARRAYS)
    batch.metadata = rows
    bulk.fold_calls = {int(r["call_id"]) for r in batch.metadata}
    # Runs with an attempt done lately: their artifact names are needed in Python (``_note``).
    # Taken before ``_note``'s bound, so it holds every run ``_note`` looks at (a margin for clock steps).
    since = ck.now_ms() - ARTIFACTS_RECENT_MS - RECENT_MARGIN_MS
    recent = sorted({(r["flow_id"], int(r["run_number"])) for r in batch.metadata
                     if r["field_name"] == "attempt-done" and int(r["ts_epoch"]) >= since})
    args = (flows, numbers, m.enricher.known_unreadable(), [k[0] for k in recent], [k[1] for k in recent])
    rows = await m.source.all(sql.artifacts_batch, args)
    bulk.artifacts = _arrays(rows, ART_ARRAYS)
    batch.artifacts = rows
    _task_beats(batch)


async def _fill(m: Mirror, batch: Batch, runs: list[dict[str, Any]]) -> None:
    """Every row of these runs up to the horizon, into ``batch``."""
    if not runs:
        return
    flows, numbers, h = await _runs_steps_tasks(m, batch, runs)
    sql = m.source.sql
    # By run, not by task: a row naming a task the tasks table lacks is seen (and reported).
    batch.metadata = await m.source.all(sql.metadata_of_runs, (flows, numbers, h["metadata_id"]))
    batch.artifacts = await m.source.all(sql.artifacts_of_runs, (flows, numbers))
    _task_beats(batch)


async def _runs_steps_tasks(m: Mirror, batch: Batch,
                            runs: list[dict[str, Any]]) -> tuple[list[str], list[int], dict[str, Any]]:
    """The runs into ``batch`` with their steps and their tasks up to the horizon; returns the
    runs' (flows, numbers) arrays the other reads take, and the horizon."""
    h = m.ckpt.horizon
    assert h is not None
    flows, numbers = [r["flow_id"] for r in runs], [int(r["run_number"]) for r in runs]
    for r in runs:
        key = (r["flow_id"], int(r["run_number"]))
        batch.new_runs[key] = r
        batch.heartbeats[key] = r
    sql = m.source.sql
    batch.steps = await m.source.all(sql.steps_of_runs, (flows, numbers))
    batch.tasks = await m.source.all(sql.tasks_of_runs, (flows, numbers, h["task_id"], 0, BATCH_TASKS * 2 + 1))
    return flows, numbers, h


def _arrays(rows: list[dict[str, Any]], names: tuple[str, ...]) -> dict[str, str | None]:
    """Take the row of arrays out of ``rows`` (the one with ``bulk``): its arrays by column name."""
    for i in (len(rows) - 1, *range(len(rows) - 1)):    # the last row, unless the source reorders
        if rows[i]["bulk"] is not None:
            packed = rows.pop(i)["bulk"]
            for r in rows:
                del r["bulk"]
            return unpack(packed, names)
    raise RuntimeError("the source returned no row of arrays")


def _task_beats(batch: Batch) -> None:
    for t in batch.tasks:
        if t.get("last_heartbeat_ts") is not None:
            batch.task_beats[int(t["task_id"])] = int(t["last_heartbeat_ts"])


async def _children(m: Mirror, batch: Batch) -> None:
    h = m.ckpt.horizon
    assert h is not None
    if not batch.tasks:
        return
    keys = ([t["flow_id"] for t in batch.tasks], [int(t["run_number"]) for t in batch.tasks],
            [t["step_name"] for t in batch.tasks], [int(t["task_id"]) for t in batch.tasks])
    batch.metadata = await m.source.all(m.source.sql.metadata_of_tasks, (*keys, h["metadata_id"]))
    batch.artifacts = await m.source.all(m.source.sql.artifacts_of_tasks, keys)
    _task_beats(batch)


async def _commit(m: Mirror, batch: Batch, last: dict[str, Any] | None, runs_passed: int) -> None:
    """Apply the batch and move the checkpoint, in one Flowscope transaction."""
    ckpt = m.ckpt
    # The callback may run twice (a refused batch is applied again run by run): it sets, never adds.
    runs_done = ckpt.runs_done + runs_passed

    async def checkpoint(cur: Cursor, applied: Applied) -> None:
        _note(m, batch, applied)
        if last is not None:
            ckpt.backfill_cursor = [int(last["ts_epoch"]), last["flow_id"], int(last["run_number"])]
        ckpt.runs_done = runs_done
        await ck.save(cur, m.name, m.status.phase, ckpt)

    applied = await m.apply(batch, {}, checkpoint)
    m.status.backfill_progress(ckpt.runs_done, ckpt.total_runs, applied.rows)
    await m.publish()


def _note(m: Mirror, batch: Batch, applied: Applied) -> None:
    """Count the batch in the status; attempts finished just now may still get artifact rows (the tail's job)."""
    m.note_applied(applied, batch)
    recent = [key for key, ts in applied.attempts_done.items() if ts >= ck.now_ms() - ARTIFACTS_RECENT_MS]
    if recent:
        names: dict[tuple[Any, ...], list[str]] = {}
        for a in batch.artifacts:
            names.setdefault(attempt_key(a), []).append(a["name"])
        for key in recent:
            ck.expect_artifacts(m.ckpt.tail, key, ck.now_ms(), names.get(key, []))


async def copy_whole_runs(m: Mirror, runs: list[dict[str, Any]]) -> None:
    """Copy these runs (up to the horizon) now, out of the backfill's order; the backfill skips them later.

    The live tail calls this in the middle of a poll, after it moved its cursors in memory past
    rows it has not written yet: these transactions must not save the checkpoint (a kill -9
    before the poll's own transaction would skip those rows). ``mirror_runs`` records the copy.
    """
    for i in range(0, len(runs), m.batch_runs):
        batch = Batch(complete=True)
        await _fill(m, batch, runs[i:i + m.batch_runs])
        await m.apply(batch, {}, _noter(m, batch))


def _noter(m: Mirror, batch: Batch) -> Callable[[Cursor, Applied], Awaitable[None]]:
    async def note(_cur: Cursor, applied: Applied) -> None:
        m.note_applied(applied, batch)
    return note


async def _continue_large_run(m: Mirror) -> None:
    """One chunk of a run with more tasks than a batch holds; the last chunk moves the cursor."""
    ckpt = m.ckpt
    part = ckpt.partial_run
    assert part is not None and ckpt.horizon is not None
    h = ckpt.horizon
    key = (part["flow_id"], int(part["run_number"]))
    run = part["run"]
    tasks = await m.source.all(m.source.sql.tasks_of_runs, ([key[0]], [key[1]], h["task_id"],
                                                             int(part["task_id"]), BATCH_TASKS))
    batch = Batch(complete=False)
    if int(part["task_id"]) == 0:
        batch.new_runs[key] = run
        batch.steps = await m.source.all(m.source.sql.steps_of_runs, ([key[0]], [key[1]]))
    else:
        mirrored = await m.mirrored_keys([key])
        batch.mirrored[key] = mirrored[key]
    batch.tasks = tasks
    await _children(m, batch)
    last_chunk = len(tasks) < BATCH_TASKS
    if last_chunk:
        batch.heartbeats[key] = run
    if tasks:
        part["task_id"] = int(tasks[-1]["task_id"])
    if last_chunk:
        ckpt.partial_run = None
        await _commit(m, batch, run, runs_passed=int(part.get("passed", 1)))
    else:
        await _commit(m, batch, None, runs_passed=0)
