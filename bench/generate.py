"""The stream of generated batches: ordinary runs oldest first, then the huge run and its long log.

One RNG drives everything in a fixed order, so a seed (and --now) reproduces the dataset exactly.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from bench.artifact_pool import PooledArtifact
from bench.catalogue import Flow, World
from bench.copy_text import Tables
from bench.emit import Emitted, Ids, RunHead, emit_run
from bench.logs import LogTarget, flood, task_output, write_log
from bench.simulate import Attempt, cut, simulate
from contract.datastore import Datastore

DAY_MS = 86_400_000
FAIL_RATE = 0.10
STALE_RATE = 0.0005      # running runs whose process died long ago: heartbeat lost
WORKERS = 16             # foreach tasks run at once in an ordinary run
HUGE_WORKERS = 256
LIVE_RUNS = 3            # the newest runs start seconds before "now": still running


@dataclass(frozen=True)
class SeedOptions:
    runs: int
    tasks_per_run: int
    huge_run: int
    log_lines: int
    seed: int
    now_ms: int
    artifacts_per_task: int = 2
    recent_logs: int = 100      # the newest N runs get short logs on every task
    huge_failures: int = 0      # the huge run fails, with this many failed foreach tasks
    days: int = 365
    batch_runs: int = 2000


@dataclass
class FlowState:
    last_number: int = 0
    orchestrated: int = 0
    last_run_at: int | None = None
    created: int | None = None


@dataclass
class Manifest:
    """Where the special cases ended up, for benchmarks and the summary."""

    huge_run: str | None = None
    huge_run_pk: int | None = None
    log_task: str | None = None
    log_task_pk: int | None = None
    flows: dict[str, FlowState] = field(default_factory=dict)


def _params(rng: random.Random, flow: Flow) -> str:
    vals = {"alpha": lambda: f"{rng.uniform(0.001, 1):.4f}", "epochs": lambda: str(rng.randint(1, 200)),
            "dataset": lambda: f"\"s3://data/{rng.choice(['clicks', 'orders', 'users'])}/v{rng.randint(1, 9)}\"",
            "batch_size": lambda: str(2 ** rng.randint(4, 11)),
            "region": lambda: f"\"{rng.choice(['us-east-1', 'eu-west-1', 'ap-south-1'])}\"",
            "limit": lambda: str(rng.randint(100, 10**6))}
    return "{" + ", ".join(f"\"{p}\": {vals[p]()}" for p in flow.params) + "}"


def _tags(rng: random.Random, world: World) -> tuple[str, ...]:
    n = bisect.bisect(_TAG_COUNT_CUM, rng.random())
    picked = {world.tags[bisect.bisect(world.tag_cum, rng.random() * world.tag_cum[-1])] for _ in range(n)}
    return tuple(sorted(picked))


_TAG_COUNT_CUM = [0.10, 0.45, 0.75, 0.90]   # 0..4 tags per run


class Generator:
    def __init__(self, opts: SeedOptions, world: World, rng: random.Random, ds: Datastore,
                 pools: dict[tuple[str, str], list[list[PooledArtifact]]], ids: Ids) -> None:
        self.o, self.w, self.rng, self.ds, self.pools, self.ids = opts, world, rng, ds, pools, ids
        self.manifest = Manifest()

    def _head(self, flow: Flow, created: int) -> RunHead:
        rng, st = self.rng, self.manifest.flows.setdefault(flow.flow_id, FlowState())
        st.created = created if st.created is None else st.created
        st.last_run_at = created
        if flow.flow_id.endswith("DailyFlow") and rng.random() < 0.3:
            st.orchestrated += 1   # the counter keeps ids unique; the random part makes them look real
            run_id, number = f"argo-{flow.flow_id.lower()}-{st.orchestrated}{rng.getrandbits(16):04x}", None
        else:
            st.last_number += 1
            run_id, number = str(st.last_number), st.last_number
        w = self.w
        user = w.users[flow.owner] if rng.random() < 0.6 else w.users[
            bisect.bisect(w.user_cum, rng.random() * w.user_cum[-1])]
        return RunHead(flow, run_id, number, user, _tags(rng, w), created, _params(rng, flow))

    def _one(self, t: Tables, flow: Flow, created: int, width: int, workers: int,
             stale_rate: float) -> tuple[RunHead, Emitted]:
        rng, now = self.rng, self.o.now_ms
        head = self._head(flow, created)
        fail = rng.random() < FAIL_RATE if stale_rate else False
        stale = rng.random() < stale_rate
        plan = simulate(rng, flow, created, width, workers, fail)
        finished = plan.finished
        assert finished is not None
        if stale:
            at = rng.randint(plan.started, finished)
            plan, status, heartbeat = cut(plan, at), "running", at
        elif finished > now:
            plan, status = cut(plan, now), "running"
            heartbeat = max(plan.started, now - rng.randint(0, 4000))
        else:
            status, heartbeat = ("failed" if fail else "completed"), finished
        return head, emit_run(rng, self.ids, t, self.pools, head, plan, status, heartbeat)

    def _short_logs(self, t: Tables, head: RunHead, em: Emitted, heartbeat_now: int) -> None:
        for task_pk, tp in em.tasks:
            for a, at in enumerate(tp.attempts):
                end = at.end if at.end is not None else heartbeat_now
                base = LogTarget(head.flow.flow_id, head.run_id, em.run_pk, tp.step.name, task_pk, a, "stdout")
                write_log(self.ds, t, self.ids, base, task_output(at.begin, end, tp.step.name,
                                                                  self.rng.randint(5, 40)))
                if at.end is not None and not at.ok:
                    err = LogTarget(base.flow_id, base.run_id, base.run_pk, base.step, task_pk, a, "stderr")
                    write_log(self.ds, t, self.ids, err, [(end, "Traceback (most recent call last):"),
                                                          (end, "  ... (see the attempt's traceback)"),
                                                          (end, "Task failed.")])

    def batches(self) -> Iterator[tuple[Tables, float]]:
        """(rows of a batch, progress units it completes); a unit is one ordinary run."""
        o, rng, w = self.o, self.rng, self.w
        end = o.now_ms - 60_000
        span = o.days * DAY_MS
        start = end - span
        for lo in range(0, o.runs, o.batch_runs):
            t = Tables()
            hi = min(o.runs, lo + o.batch_runs)
            for i in range(lo, hi):
                flow = w.flows[bisect.bisect(w.flow_cum, rng.random() * w.flow_cum[-1])]
                created = start + int((i + rng.random()) * span / o.runs)
                if i >= o.runs - LIVE_RUNS:   # always a few live runs, whatever the scale
                    created = o.now_ms - (o.runs - i) * 5_000 - rng.randint(0, 4_000)
                width = max(1, o.tasks_per_run - 3 + rng.randint(-2, 2)) if flow.shape == "foreach" else 0
                stale = 1.0 if i == o.runs // 2 else STALE_RATE   # and at least one stale one
                head, em = self._one(t, flow, created, width, WORKERS, stale)
                if i >= o.runs - o.recent_logs:
                    self._short_logs(t, head, em, o.now_ms)
            yield t, hi - lo
        if o.huge_run > 0:
            yield self._huge(), o.huge_run / o.tasks_per_run

    def _huge(self) -> Tables:
        o, t = self.o, Tables()
        if o.huge_failures:
            head, em = self._huge_failed(t)
        else:
            head, em = self._one(t, self.w.huge, o.now_ms - 2 * DAY_MS, o.huge_run, HUGE_WORKERS, 0.0)
        self.manifest.huge_run = f"{head.flow.flow_id}/{head.run_id}"
        self.manifest.huge_run_pk = em.run_pk
        if o.log_lines > 0:
            task_pk, tp = em.tasks[0]    # the start step prints a very long log
            at = tp.attempts[0]
            assert at.end is not None
            target = LogTarget(head.flow.flow_id, head.run_id, em.run_pk, tp.step.name, task_pk, 0, "stdout")
            write_log(self.ds, t, self.ids, target, flood(at.begin, at.end, o.log_lines))
            self.manifest.log_task = f"{self.manifest.huge_run}/{tp.step.name}/{task_pk}"
            self.manifest.log_task_pk = task_pk
        return t

    def _huge_failed(self, t: Tables) -> tuple[RunHead, Emitted]:
        """The huge run failing in its foreach step with ``huge_failures`` failed splits (errors
        drawn from emit's list, each with its traceback on the task's stderr); the join never runs."""
        o, rng = self.o, self.rng
        head = self._head(self.w.huge, o.now_ms - 2 * DAY_MS)
        plan = simulate(rng, self.w.huge, head.created, o.huge_run, HUGE_WORKERS, False)
        at = next(i for i, (step, _tasks) in enumerate(plan.steps) if step.foreach)
        step, tasks = plan.steps[at]
        for i in rng.sample(range(len(tasks)), min(o.huge_failures, len(tasks))):
            # every attempt @retry allows fails, within the span the task had
            tp = tasks[i]
            lo, hi = tp.attempts[0].begin, tp.attempts[-1].end or tp.attempts[-1].begin
            n = step.retry + 1
            cuts = [lo + (hi - lo) * k // n for k in range(n + 1)]
            tp.attempts = [Attempt(cuts[k], max(cuts[k], cuts[k + 1] - 50), False) for k in range(n)]
        plan.steps = plan.steps[:at + 1]
        ends = [tp.attempts[-1].end or 0 for tp in tasks]
        plan.finished = max(ends) + rng.randint(30, 800)
        plan.failed_step = step.name
        em = emit_run(rng, self.ids, t, self.pools, head, plan, "failed", plan.finished, keep_tracebacks=True)
        for task_pk, tp in em.tasks:
            for a, att in enumerate(tp.attempts):
                tb = (em.tracebacks or {}).get((task_pk, a))
                if tb is not None and att.end is not None:
                    err = LogTarget(head.flow.flow_id, head.run_id, em.run_pk, tp.step.name, task_pk, a, "stderr")
                    write_log(self.ds, t, self.ids, err, [(att.end, line) for line in tb.splitlines()])
        return head, em
