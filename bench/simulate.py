"""How one run unfolds in time: tasks, attempts and retries, then cut at a point for live runs.

Pure functions of the RNG, so a seed reproduces every timestamp. A run is simulated to the end
first and then "cut" at an instant (now, or the moment a stale run lost its heartbeat): what
finished before the cut is done, what was under way is running, foreach splits not yet picked up
by a worker are pending, later steps do not exist yet.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from bench.catalogue import Flow, Step

RETRY_RATE = 0.05     # share of tasks of a @retry step whose first attempt fails
OVERHEAD_MS = (30, 800)


@dataclass
class Attempt:
    begin: int
    end: int | None       # None: still running at the cut
    ok: bool


@dataclass
class TaskPlan:
    step: Step
    index: int | None     # foreach index
    created: int
    attempts: list[Attempt] = field(default_factory=list)   # empty: pending

    @property
    def status(self) -> str:
        if not self.attempts:
            return "pending"
        last = self.attempts[-1]
        if last.end is None:
            return "running"
        return "completed" if last.ok else "failed"


@dataclass
class RunPlan:
    started: int
    steps: list[tuple[Step, list[TaskPlan]]]
    finished: int | None
    failed_step: str | None


def _duration(rng: random.Random, median: float) -> int:
    return max(5, int(rng.lognormvariate(math.log(median), 0.6)))


def simulate(rng: random.Random, flow: Flow, created: int, width: int, workers: int,
             fail: bool) -> RunPlan:
    """The whole run, to its end (or the failing step, when ``fail``)."""
    start = created + rng.randint(*OVERHEAD_MS)
    fail_at = rng.randrange(len(flow.steps)) if fail else -1
    ends: dict[str, int] = {}
    out: list[tuple[Step, list[TaskPlan]]] = []
    for si, step in enumerate(flow.steps):
        t0 = max((ends[p] for p in step.parents), default=start) + rng.randint(*OVERHEAD_MS)
        n = width if step.foreach else 1
        failing = rng.randrange(n) if si == fail_at else -1
        free = [t0] * min(n, workers)
        tasks = []
        median = flow.step_ms[si]
        for i in range(n):
            slot = i % len(free)
            begin = free[slot] + rng.randint(5, 200)
            plan = TaskPlan(step, i if step.foreach else None, t0)
            tries = step.retry + 1 if i == failing else (
                2 if step.retry and rng.random() < RETRY_RATE else 1)
            for a in range(tries):
                end = begin + _duration(rng, median if a == tries - 1 else median / 3)
                plan.attempts.append(Attempt(begin, end, i != failing and a == tries - 1))
                begin = end + rng.randint(100, 2000)
            free[slot] = plan.attempts[-1].end or begin
            tasks.append(plan)
        out.append((step, tasks))
        ends[step.name] = max(free)
        if si == fail_at:
            break
    finished = max(ends.values()) + rng.randint(*OVERHEAD_MS)
    return RunPlan(start, out, finished, flow.steps[fail_at].name if fail else None)


def cut(plan: RunPlan, at: int) -> RunPlan:
    """The run as seen at instant ``at`` (it has not finished by then)."""
    steps: list[tuple[Step, list[TaskPlan]]] = []
    for step, tasks in plan.steps:
        if tasks[0].created > at:
            break
        kept = []
        for t in tasks:
            tries = [a for a in t.attempts if a.begin <= at]
            if not tries and not step.foreach:
                continue
            for a in tries:
                if a.end is not None and a.end > at:
                    a.end, a.ok = None, False
            t.attempts = tries
            kept.append(t)
        if kept:
            steps.append((step, kept))
    return RunPlan(plan.started, steps, None, None)
