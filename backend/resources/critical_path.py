"""Where the time went: the critical path through a run's task graph, queued time, idle gaps.

The critical path is the chain of tasks, parent to child, with the largest total running time
(each task's ``finished_at - started_at``, a running task's up to now, one whose heartbeat was lost
up to its last heartbeat): no schedule could have finished the run sooner than it, however many
workers there were. Along it, each task's queued
time is how long it waited after its last parent finished (a worker slot, scheduling, a retry's
wait); idle gaps are the moments of the run when no task was running at all.

Pure functions over the run's task spans (backend/db/critical_path.py reads them as columns).
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Any

from backend.resources.schema import INT, STR, arr, nullable, obj

MIN_GAP_MS = 1000        # idle gaps shorter than this are scheduling noise, not reported
MAX_GAPS = 20

SCHEMAS = {
    "CriticalPath": obj({
        "run": STR, "wall_ms": nullable(INT), "path_ms": INT, "queued_ms": INT, "tasks_total": INT,
        "tasks": arr(obj({"pathspec": STR, "step_name": STR, "task_id": STR, "foreach_value": nullable(STR),
                          "status": STR, "started_at": nullable(INT), "finished_at": nullable(INT),
                          "duration_ms": INT, "queued_ms": nullable(INT)})),
        "steps": arr(obj({"step_name": STR, "tasks": INT, "duration_ms": INT, "queued_ms": INT})),
        "idle_gaps": arr(obj({"start": INT, "end": INT, "duration_ms": INT})),
        "idle_ms": INT,
    }, description="The longest chain of tasks by running time (root first), time queued along it "
                   "(waiting after the last parent finished), per step on the path, and the run's "
                   "idle gaps (no task running, at least 1 s)."),
}


@dataclass(frozen=True, slots=True)
class Spans:
    """A run's tasks as parallel columns, in task_pk order (the order the writers create them)."""

    pk: list[int]
    step: list[str]
    task_id: list[str]
    foreach_value: list[str | None]
    status: list[str]
    parents: list[list[str]]        # "step/task_id" of each parent
    started: list[int | None]
    finished: list[int | None]

    def __len__(self) -> int:
        return len(self.pk)


def weight(spans: Spans, i: int, now: int) -> int:
    s, e = spans.started[i], spans.finished[i]
    if s is None:
        return 0
    return max(0, (e if e is not None else now) - s)


def key_index(spans: Spans) -> dict[str, int]:
    """"step/task_id" (how parents are recorded) → the task's index."""
    return {f"{step}/{tid}": i for i, (step, tid) in enumerate(zip(spans.step, spans.task_id, strict=True))}


def parent_indices(spans: Spans, index: dict[str, int]) -> list[list[int]]:
    """Each task's parents as indices (parents not in the run, e.g. Metaflow's _parameters, dropped)."""
    get = index.get
    return [[j for p in ps if (j := get(p, -1)) >= 0 and j != i] for i, ps in enumerate(spans.parents)]


def topological(parents: list[list[int]]) -> list[int]:
    """Task indices parents-first: task_pk order when it already is one (the writers create a
    task after its parents), else Kahn's algorithm."""
    if all(j < i for i, ps in enumerate(parents) for j in ps):
        return list(range(len(parents)))
    children: dict[int, list[int]] = defaultdict(list)
    indegree = [0] * len(parents)
    for i, ps in enumerate(parents):
        for j in ps:
            children[j].append(i)
            indegree[i] += 1
    queue = deque(i for i in range(len(parents)) if indegree[i] == 0)
    order = []
    while queue:
        i = queue.popleft()
        order.append(i)
        for c in children[i]:
            indegree[c] -= 1
            if indegree[c] == 0:
                queue.append(c)
    return order   # tasks on a cycle (corrupt parents) are left out


def longest_path(spans: Spans, now: int, parents: list[list[int]] | None = None) -> list[int]:
    """Indices of the chain with the largest total weight, root first (dynamic programming over
    the task DAG, O(tasks + parent links))."""
    if parents is None:
        parents = parent_indices(spans, key_index(spans))
    n = len(spans)
    best = [-1] * n          # -1: not reached (left out of the order)
    via = [-1] * n
    finished = spans.finished
    for i in topological(parents):
        top, arg = 0, -1
        for j in parents[i]:
            b = best[j]
            if b < 0:
                continue
            # ties: the parent that finished last gated the task
            if arg < 0 or b > top or (b == top and (finished[j] or 0) > (finished[arg] or 0)):
                top, arg = b, j
        best[i] = top + weight(spans, i, now)
        via[i] = arg
    reached = [i for i in range(n) if best[i] >= 0]
    if not reached:
        return []
    end = max(reached, key=lambda i: (best[i], finished[i] or 0, -i))
    path = [end]
    while via[path[-1]] >= 0:
        path.append(via[path[-1]])
    return path[::-1]


def ready_at(spans: Spans, i: int, index: dict[str, int], run_started: int | None) -> int | None:
    """When the task could start: its last parent's finish (the run's start for a root)."""
    if not spans.parents[i]:
        return run_started
    ends = [spans.finished[j] for p in spans.parents[i] if (j := index.get(p)) is not None]
    if not ends or any(e is None for e in ends):
        return None
    return max(e for e in ends if e is not None)


def idle_gaps(spans: Spans, lo: int | None, hi: int | None, now: int) -> list[tuple[int, int]]:
    """Stretches of [lo, hi] with no task running, longest first (at least MIN_GAP_MS)."""
    intervals = sorted((s, e if e is not None else now) for s, e in zip(spans.started, spans.finished, strict=True)
                       if s is not None)
    if not intervals or lo is None:
        return []
    gaps = []
    reach = lo
    for s, e in intervals:
        if s - reach >= MIN_GAP_MS:
            gaps.append((reach, s))
        reach = max(reach, e)
    end = hi if hi is not None else now
    if end - reach >= MIN_GAP_MS:
        gaps.append((reach, end))
    return gaps


def critical_path_shape(run: dict[str, Any], spans: Spans, now: int) -> dict[str, Any]:
    index = key_index(spans)
    path = longest_path(spans, now, parent_indices(spans, index))
    tasks: list[dict[str, Any]] = []
    per_step: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    for i in path:
        ready = ready_at(spans, i, index, run.get("started_at"))
        s = spans.started[i]
        queued = max(0, s - ready) if s is not None and ready is not None else None
        w = weight(spans, i, now)
        tasks.append({"pathspec": f"{run['flow_id']}/{run['run_id']}/{spans.step[i]}/{spans.task_id[i]}",
                      "step_name": spans.step[i], "task_id": spans.task_id[i],
                      "foreach_value": spans.foreach_value[i], "status": spans.status[i],
                      "started_at": s, "finished_at": spans.finished[i], "duration_ms": w, "queued_ms": queued})
        if spans.step[i] not in per_step:
            order.append(spans.step[i])
            per_step[spans.step[i]] = {"step_name": spans.step[i], "tasks": 0, "duration_ms": 0, "queued_ms": 0}
        agg = per_step[spans.step[i]]
        agg["tasks"] += 1
        agg["duration_ms"] += w
        agg["queued_ms"] += queued or 0
    started, finished = run.get("started_at"), run.get("finished_at")
    if finished is None and run.get("status") not in ("running", "pending"):
        finished = run.get("heartbeat_at")   # heartbeat lost: the run ended at its last sign of life
    gaps = idle_gaps(spans, started, finished, now)
    wall = (finished if finished is not None else now) - started if started is not None else None
    return {
        "run": f"{run['flow_id']}/{run['run_id']}", "wall_ms": wall,
        "path_ms": sum(t["duration_ms"] for t in tasks), "queued_ms": sum(t["queued_ms"] or 0 for t in tasks),
        "tasks_total": len(spans), "tasks": tasks, "steps": [per_step[s] for s in order],
        "idle_gaps": [{"start": a, "end": b, "duration_ms": b - a}
                      for a, b in sorted(gaps, key=lambda g: g[0] - g[1])[:MAX_GAPS]],
        "idle_ms": sum(b - a for a, b in gaps),
    }
