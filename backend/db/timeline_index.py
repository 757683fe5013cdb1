"""An in-memory row index of a finished run's timeline, so level-of-detail requests skip SQL.

Numbering 100,000 tasks with a window function and joining their attempts costs ~1 s in
Postgres on every zoom step. A finished run never changes again, so its tasks and attempt
spans are read once (two index scans, no window function; the tasks' ids, foreach values and
iterations with the first answer that shows a lane per task), and each requested row order
(sort, grouping, filters) is computed once in Python and kept as flat lists: the attempts in
row order with their row number, start, end and status. A zoom or pan is then one tight loop
over the attempts of the requested rows.

Only runs whose tasks and attempts are all finished are indexed: with anything still running,
effective statuses and open spans depend on the clock, and the SQL path answers instead.
Indexes are kept in app[TIMELINE_INDEX] (backend/cache/timeline_index.py), keyed by the run's
change_seq so a run that is written to again is read again, and bounded by their size in bytes:
each RunIndex keeps ``nbytes`` up to date as row orders, levels and answers are added to it
(estimates checked against tracemalloc in tests/backend/test_cache_budget.py).
"""

from __future__ import annotations

import asyncio
import gc
import math
import sys
from collections import Counter, OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import accumulate, chain, groupby, repeat
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from backend.cache.sizes import deep_size, sampled_size
from backend.db.query import Db

if TYPE_CHECKING:
    from backend.cache.timeline_index import TimelineIndexCache

STATUS_CODES = ("pending", "completed", "running", "failed")
CODE = {s: i for i, s in enumerate(STATUS_CODES)}
# Per run: row orders, zoom levels and answers kept (each also counts against the byte bound).
MAX_VIEWS = 6
MAX_RESPONSES = 64
MAX_LEVELS = 16

# Columns as arrays, one row per query: psycopg2 parses arrays in C, ~10x faster than 100,000 rows.
# Each column of a 100k-task run costs ~20 ms (aggregate, array text out, parse), so the first read
# takes only what row orders and aggregated lanes use: a duration is computed (end - start, what
# the generated duration_ms column holds), and a task's id, foreach value and loop iteration, which
# only one-lane-per-task answers show, are read when the first of those is asked for (DETAILS_SQL).
TASKS_SQL = """SELECT array_agg(task_pk) AS pk, array_agg(step_name) AS step, array_agg(status) AS status,
                      array_agg(started_at) AS s, array_agg(finished_at) AS e
               FROM tasks WHERE run_pk = %(run_pk)s AND left(step_name, 1) <> '_'"""
DETAILS_SQL = """SELECT array_agg(task_pk) AS pk, array_agg(task_id) AS id, array_agg(foreach_value) AS fv,
                        array_agg(iteration_stack[cardinality(iteration_stack)]) AS it
                 FROM tasks WHERE run_pk = %(run_pk)s AND left(step_name, 1) <> '_'"""
# Latest "host" metadata row per task (see backend.db.timeline.TASK_HOST); read only for group=host.
HOSTS_SQL = """SELECT array_agg(task_pk) AS pk, array_agg(host) AS host FROM (
                   SELECT DISTINCT ON (task_pk) task_pk, value AS host FROM metadata
                   WHERE run_pk = %(run_pk)s AND field_name = 'host' ORDER BY task_pk, id DESC) h"""
ATTEMPTS_SQL = """SELECT array_agg(task_pk) AS pk, array_agg(attempt) AS attempt, array_agg(status) AS status,
                         array_agg(started_at) AS s, array_agg(finished_at) AS e
                  FROM attempts WHERE run_pk = %(run_pk)s"""


@dataclass
class View:
    """One row order: tasks (indices into RunIndex.tasks) and their attempts flattened."""

    order: list[int]
    groups: list[tuple[str | None, int, int]]     # (step, or host with group=host; row_start, row_count)
    # attempts of row r are at [offsets[r], offsets[r + 1])
    offsets: list[int]
    a_row: list[int]
    a_start: list[int]
    a_end: list[int]
    a_code: list[int]

    @property
    def nbytes(self) -> int:
        """The lists, plus the int objects made for them: task indices (order), offsets and row
        numbers (a_row; shared by a row's attempts). Starts and ends are the index's own ints,
        status codes small ints."""
        lists = (self.order, self.offsets, self.a_row, self.a_start, self.a_end, self.a_code)
        return (sum(map(sys.getsizeof, lists)) + deep_size(self.groups)
                + INT_BYTES * (2 * len(self.order) + len(self.offsets)))


INT_BYTES = sys.getsizeof(2**20)


@dataclass
class RunIndex:
    # per task: (task_pk, step_name, status, started_at, finished_at, duration)
    tasks: list[tuple[Any, ...]]
    # per task index: ((attempt, status, started_at, finished_at), ...) in attempt order. Tuples, not
    # lists: a tuple of numbers and strings leaves the garbage collector's lists after its first pass,
    # a list never does (100,000 lists made every full collection of a process that had opened a
    # 100,000-task timeline walk them; docs/benchmarks.md, "cpu19").
    attempts: list[tuple[tuple[int, str, int, int], ...]]
    first: int | None
    last: int | None
    n_attempts: int
    views: dict[tuple[Any, ...], View] = field(default_factory=dict)
    # finished responses by their full parameters (window, width, rows, ...): re-opening a run
    # page or going back to a zoom level costs a dict lookup
    responses: OrderedDict[tuple[Any, ...], dict[str, Any]] = field(default_factory=OrderedDict)
    # whole-run aggregated segments per (view, rows, lanes, power-of-two bucket): see level_segments
    levels: OrderedDict[tuple[Any, ...], dict[int, list[list[Any]]]] = field(default_factory=OrderedDict)
    # task_pk -> host it ran on, once a host grouping was asked for (load_hosts)
    hosts: dict[int, str] | None = None
    # per task index, once a lane per task was asked for: (task ids, foreach values, loop iterations),
    # three lists in the order of ``tasks`` (a dict of tuples held 11.5 MiB more for the 100,003-task
    # run: 165.1 against 153.6 MiB after every view, bench.cache_memory on fs-scale, 2026-12-06)
    details: tuple[list[str], list[str | None], list[int | None]] | None = None
    # bytes held, by part: the index itself, then each view, level and response by its key
    base_bytes: int = 0
    part_bytes: dict[tuple[Any, ...], int] = field(default_factory=dict)

    @property
    def nbytes(self) -> int:
        return self.base_bytes + sum(self.part_bytes.values())

    def _keep(self, part: tuple[Any, ...], size: int) -> None:
        self.part_bytes[part] = size

    def _drop(self, part: tuple[Any, ...]) -> None:
        self.part_bytes.pop(part, None)

    def response(self, key: tuple[Any, ...]) -> dict[str, Any] | None:
        data = self.responses.get(key)
        if data is not None:
            self.responses.move_to_end(key)
        return data

    def level(self, key: tuple[Any, ...]) -> dict[int, list[list[Any]]] | None:
        segments = self.levels.get(key)
        if segments is not None:
            self.levels.move_to_end(key)
        return segments

    def keep_level(self, key: tuple[Any, ...], segments: dict[int, list[list[Any]]]) -> None:
        self.levels[key] = segments
        self._keep(("level", key), level_size(segments))
        while len(self.levels) > MAX_LEVELS:
            self._drop(("level", self.levels.popitem(last=False)[0]))

    def keep_response(self, key: tuple[Any, ...], data: dict[str, Any]) -> None:
        self.responses[key] = data
        self._keep(("response", key), response_size(data))
        while len(self.responses) > MAX_RESPONSES:
            self._drop(("response", self.responses.popitem(last=False)[0]))

    def keep_view(self, key: tuple[Any, ...], v: View) -> None:
        self.views[key] = v
        self._keep(("view", key), v.nbytes)

    def drop_view(self, key: tuple[Any, ...]) -> None:
        """Forget a row order and the levels and responses computed from it."""
        dropped = id(self.views.pop(key))
        self._drop(("view", key))
        for level_key in [k for k in self.levels if k[0] == dropped]:
            del self.levels[level_key]
            self._drop(("level", level_key))
        self.clear_responses()

    def clear_responses(self) -> None:
        for key in self.responses:
            self._drop(("response", key))
        self.responses.clear()

    def trim(self, max_bytes: int) -> None:
        """Give back memory until ``nbytes`` fits: answers first, then levels, then row orders
        (oldest first). The index itself stays; it is the cache's to drop."""
        if self.nbytes > max_bytes:
            self.clear_responses()
        while self.nbytes > max_bytes and self.levels:
            self._drop(("level", self.levels.popitem(last=False)[0]))
        while self.nbytes > max_bytes and self.views:
            self.drop_view(next(iter(self.views)))


def _status_ids() -> set[int]:
    return {id(s) for s in STATUS_CODES}


def level_size(segments: dict[int, list[list[Any]]]) -> int:
    """Segments are lists of new ints and a mix dict; status names are the module's constants."""
    return deep_size(segments, _status_ids())


def response_size(data: dict[str, Any]) -> int:
    """An answer's own containers and strings: its numbers, statuses and mixes are the index's
    or the level's (shared), so only dicts, lists and the pathspec strings are new."""
    total = sys.getsizeof(data) + sys.getsizeof(data["lanes"]) + deep_size(data["groups"])
    for lane in data["lanes"]:
        total += sys.getsizeof(lane) + INT_BYTES
        task = lane.get("task")
        if task is not None:
            total += sys.getsizeof(task) + sys.getsizeof(task["pathspec"]) + sys.getsizeof(lane["bars"])
            total += sum(map(sys.getsizeof, lane["bars"]))
        else:
            total += sys.getsizeof(lane["segments"]) + sum(map(sys.getsizeof, lane["segments"]))
    return total


def cacheable(run: dict[str, Any]) -> bool:
    return run.get("status") in ("completed", "failed") and run.get("finished_at") is not None


async def load(db: Db, run: dict[str, Any], cache: TimelineIndexCache | None = None) -> RunIndex | None:
    """The run's index, reading it on first use; None when the run has unfinished work, or when
    its index is too big to keep (the SQL path answers then).

    Requests that arrive while the index is being read wait for it (one read, one copy in
    memory, however many clients open the run at once). Without a cache the index is built and
    returned, not kept.
    """
    if cache is None:
        return await read(db, run)
    key = (int(run["run_pk"]), int(run.get("change_seq") or 0))
    return await cache.load(key, lambda: read(db, run))


async def read(db: Db, run: dict[str, Any]) -> RunIndex | None:
    """The run's index from its tasks and attempts; None when it has unfinished work."""
    params = {"run_pk": run["run_pk"]}
    # both at once on two pooled connections: a 100k-task run's two reads take ~0.1–0.2 s each
    tasks, attempts = await asyncio.gather(db.one(TASKS_SQL, params), db.one(ATTEMPTS_SQL, params))
    t, a = tasks or {}, attempts or {}
    if not t.get("pk") or "running" in t["status"]:
        return None
    if "running" in (a.get("status") or []) or None in (a.get("e") or []):
        return None
    return build(t, a)


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: building a 100k-task index or view makes ~10^5 tuples
    and lists that all live on, and the collector, triggered every 700 allocations, would walk the
    growing heap again and again (it was a third of a cold build). The block has no await, so no
    other request runs while the collector is off."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def build(t: dict[str, list[Any]], a: dict[str, list[Any] | None]) -> RunIndex:
    """The index from the two queries' column arrays (every run task; every attempt); a task's
    duration is computed here (end - start), its id, foreach value and iteration read later
    (load_details)."""
    with gc_paused():
        return _build(t, a)


def _build(t: dict[str, list[Any]], a: dict[str, list[Any] | None]) -> RunIndex:
    a_pk = a.get("pk") or []
    starts, ends = t["s"], t["e"]
    durations = [None if s is None or e is None else e - s for s, e in zip(starts, ends)]
    rows = list(zip(t["pk"], t["step"], t["status"], starts, ends, durations))
    pos = {pk: i for i, pk in enumerate(t["pk"])}
    per_task: list[list[tuple[int, str, int, int]]] = [[] for _ in rows]
    if a_pk:
        for pk, attempt, status, s, e in zip(a_pk, a["attempt"] or [], a["status"] or [], a["s"] or [],
                                             a["e"] or []):
            i = pos.get(pk)
            if i is not None:
                per_task[i].append((attempt, status, s, e))
    for spans in per_task:
        if len(spans) > 1:       # most tasks ran once: no call for them (100k calls: ~0.1 s)
            spans.sort()
    first = min(a["s"] or []) if a_pk else None
    last = max(a["e"] or []) if a_pk else None
    attempts = [tuple(spans) for spans in per_task]
    idx = RunIndex(rows, attempts, first, last, len(a_pk))
    idx.base_bytes = sampled_size(rows) + sampled_size(attempts)
    return idx


async def load_hosts(db: Db, run: dict[str, Any], idx: RunIndex) -> None:
    """Fills idx.hosts (one query over the run's metadata) the first time rows are grouped by host."""
    if idx.hosts is None:
        h = await db.one(HOSTS_SQL, {"run_pk": run["run_pk"]}) or {}
        idx.hosts = dict(zip(h.get("pk") or [], h.get("host") or []))
        idx._keep(("hosts",), sampled_size(list(idx.hosts.items())))   # counted in the cache budget


async def load_details(db: Db, run: dict[str, Any], idx: RunIndex) -> bool:
    """Fills idx.details (one query) the first time a lane per task is asked for; False when the
    run's tasks no longer match the index (the SQL path answers then)."""
    if idx.details is None:
        d = await db.one(DETAILS_SQL, {"run_pk": run["run_pk"]}) or {}
        pks = d.get("pk") or []
        at = {pk: i for i, pk in enumerate(pks)}
        try:
            order = [at[t[0]] for t in idx.tasks]
        except KeyError:
            return False
        ids, fvs = d.get("id") or [], d.get("fv") or []
        loops = d.get("it") or [None] * len(pks)
        details = ([ids[i] for i in order], [fvs[i] for i in order], [loops[i] for i in order])
        if idx.details is None:      # not filled by a request that read them at the same time
            idx.details = details
            # counted in the cache budget: three lists and the values they hold
            idx._keep(("details",), sum(sampled_size(column) for column in details))
    return True


SORT_FIELD = {"start": 3, "end": 4, "duration": 5}


def view(idx: RunIndex, steps_order: Sequence[str], sort: str, group: str, statuses: Sequence[str],
         steps: Sequence[str]) -> View:
    """The rows in the same order as the SQL path: (step rank,) sort key NULLS LAST, task_pk."""
    key = (tuple(steps_order), sort, group, tuple(sorted(statuses)), tuple(sorted(steps)))
    v = idx.views.get(key)
    if v is not None:
        return v
    with gc_paused():
        v = _view(idx, steps_order, sort, group, statuses, steps)
    if len(idx.views) >= MAX_VIEWS:
        idx.drop_view(next(iter(idx.views)))   # the oldest row order
    idx.keep_view(key, v)
    return v


def _view(idx: RunIndex, steps_order: Sequence[str], sort: str, group: str, statuses: Sequence[str],
          steps: Sequence[str]) -> View:
    rank = {s: i for i, s in enumerate(steps_order)}
    field_ = SORT_FIELD[sort]
    wanted_status = set(statuses)
    wanted_step = set(steps)
    chosen = ([i for i, t in enumerate(idx.tasks)
               if (not wanted_status or t[2] in wanted_status) and (not wanted_step or t[1] in wanted_step)]
              if wanted_status or wanted_step else list(range(len(idx.tasks))))

    hosts = idx.hosts or {}
    tasks, attempts = idx.tasks, idx.attempts
    names: list[Any]
    if group == "host":
        keys: list[Any] = [(hosts.get(t[0]) is None, hosts.get(t[0]) or "", t[field_] is None, t[field_] or 0, t[0])
                           for t in tasks]
        chosen.sort(key=keys.__getitem__)
        names = [hosts.get(t[0]) for t in tasks]
    else:
        # (step rank, key NULLS LAST, task_pk) as three stable sorts on plain ints: ~2x faster
        # than one sort on tuples, whose every comparison walks two tuples.
        chosen.sort(key=list(map(itemgetter(0), tasks)).__getitem__)
        nulls_last = 1 << 64                  # above any bigint
        keys = [nulls_last if t[field_] is None else t[field_] for t in tasks]
        chosen.sort(key=keys.__getitem__)
        if group == "step":
            names = list(map(itemgetter(1), tasks))
            chosen.sort(key=list(map(rank.get, names, repeat(1_000_000))).__getitem__)
        else:
            names = [""] * len(tasks)
    # The rows' attempts flattened in row order, by C loops (map, chain, repeat) over the index's
    # own span tuples: no Python-level loop per task.
    spans = list(map(attempts.__getitem__, chosen))
    counts = list(map(len, spans))
    flat = list(chain.from_iterable(spans))
    offsets = list(accumulate(counts, initial=0))
    a_row = list(chain.from_iterable(map(repeat, range(len(chosen)), counts)))
    a_start = list(map(itemgetter(2), flat))
    a_end = list(map(itemgetter(3), flat))
    a_code = list(map(CODE.__getitem__, map(itemgetter(1), flat)))
    groups: list[tuple[str | None, int, int]] = []
    row = 0
    for name, members in groupby(map(names.__getitem__, chosen)):
        n = len(list(members))
        groups.append((name, row, n))
        row += n
    return View(chosen, groups, offsets, a_row, a_start, a_end, a_code)


def bucket_counts(v: View, row_start: int, row_end: int, per_lane: int, w0: int, w1: int,
                  bucket_ms: float) -> list[tuple[int, int, int, int, int]]:
    """Attempt spans of rows [row_start, row_end) counted per (lane, status code, b0, b1).

    Comprehensions and Counter (C loops) instead of one Python loop with a dict update per
    attempt: ~4x faster over 100,000 attempts. Spans outside [w0, w1] get lane -1 and are dropped.
    """
    lo, hi = v.offsets[row_start], v.offsets[row_end]
    starts, ends = v.a_start[lo:hi], v.a_end[lo:hi]
    inv = 1.0 / bucket_ms
    ceil = math.ceil
    lanes = [(r - row_start) // per_lane if s <= w1 and e >= w0 else -1
             for r, s, e in zip(v.a_row[lo:hi], starts, ends)]
    b0 = [int((s - w0) * inv) if s > w0 else 0 for s in starts]
    b1 = [ceil((e - w0) * inv) if e < w1 else ceil((w1 - w0) * inv) for e in ends]
    counts = Counter(zip(lanes, v.a_code[lo:hi], b0, b1))
    return [(k[0], k[1], k[2], k[3], n) for k, n in counts.items() if k[0] >= 0]


def task_lanes(idx: RunIndex, v: View, row_start: int, row_end: int) -> list[dict[str, Any]]:
    """The SQL path's task_lanes rows for [row_start, row_end) (after load_details)."""
    assert idx.details is not None, "load_details first"
    details, hosts = idx.details, idx.hosts or {}
    out: list[dict[str, Any]] = []
    for row in range(row_start, row_end):
        i = v.order[row]
        t = idx.tasks[i]
        task_id, foreach_value, iteration = details[0][i], details[1][i], details[2][i]
        base = {"rn": row, "task_id": task_id, "step_name": t[1], "foreach_value": foreach_value,
                "iteration": iteration, "task_status": t[2], "host": hosts.get(t[0])}
        spans = idx.attempts[v.order[row]]
        if not spans:
            out.append({**base, "attempt": None, "started_at": None, "finished_at": None, "status": None})
        for attempt, status, s, e in spans:
            out.append({**base, "attempt": attempt, "started_at": s, "finished_at": e, "status": status})
    return out
