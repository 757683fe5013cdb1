"""How the scheduler ends an attempt: record a success and queue the successors, or decide
between a retry, @catch's fallback attempt (a @parallel gang worker's failure goes to its control
task) and failing the run."""

from __future__ import annotations

import time
from collections import deque

from core_runtime.decorators import find_decorator, resolved_attributes
from core_runtime.scheduler.gang import is_gang_worker
from core_runtime.scheduler.plan import ChildResult, Finished, Record
from core_runtime.scheduler.run_state import TIMEOUT_GRACE_SECONDS, Queued, RunFailed, Running, RunSetup
from core_runtime.scheduler.transitions import Transitions


class AttemptCompletion:
    """The Runner's end-of-attempt handling (a mixin: it reads and queues into the Runner's state)."""

    s: RunSetup
    transitions: Transitions
    ready: deque[Queued]
    delayed: list[Queued]
    param_records: list[Record]
    end_done: bool

    def _attempt_done(self, run: Running, result: ChildResult | None, exit_code: int | None,
                      how: str, lost: str | None = None) -> None:
        s = self.s
        q = run.q
        task = q.task

        def say(text: str) -> None:
            s.console.task(s.run.run_id, q.plan.step, task.task_id, run.proc.pid, text)

        if result is not None and result.ok and run.timed_out is None:
            from core_runtime.artifacts import ArtifactRecord

            records = {r["name"]: r for r in result.records}
            for r in self.param_records:
                records.setdefault(r["name"], r)
            s.store.record_artifacts(task, q.attempt, [ArtifactRecord(**r) for r in records.values()])
            for c in result.cards:
                s.store.record_card(task, q.attempt, c["card_id"], c["type"], c["location"], c["size"],
                                    data_location=c.get("data_location"), final=True,
                                    updated_at=c.get("updated_at"), decorator_id=c.get("decorator_id"))
            s.store.finish_attempt(task, q.attempt, status="completed", exit_code=exit_code,
                                   reason="exception caught by @catch" if result.caught else None,
                                   final=True)
            say("Task finished successfully.")
            self._completed_task(Finished(q.plan.step, task.task_id, task.task_pk, records,
                                          q.plan.stack, result.next, result.foreach_var,
                                          result.num_splits, result.labels, q.plan.iteration))
            return
        if result is not None and result.records:
            # What the failed attempt had set, as Metaflow keeps it: Task(…).data of that attempt.
            from core_runtime.artifacts import ArtifactRecord

            s.store.record_artifacts(task, q.attempt, [ArtifactRecord(**r) for r in result.records])
        exc_class: str | None
        if run.timed_out is not None:
            limit = run.timed_out - TIMEOUT_GRACE_SECONDS
            exc = {"exception_type": "TimeoutException",
                   "exception_message": f"timeout after {limit:g} s (killed: the step did not stop)",
                   "traceback": None}
            reason = f"TimeoutException: timeout after {limit:g} s (killed: the step did not stop)"
            exc_class = "core_runtime.plugins.timeout_decorator.TimeoutException"
        elif result is not None:
            exc = {"exception_type": result.exception_type,
                   "exception_message": result.exception_message, "traceback": result.traceback}
            reason = f"{result.exception_type}: {result.exception_message}"
            exc_class = result.exception_class
        else:
            exc = {"exception_type": None, "exception_message": None, "traceback": None}
            reason = lost or f"task process {how}"
            exc_class = "core_runtime.plugins.catch_decorator.FailureHandledByCatch"
        fn = getattr(s.flow_cls, q.plan.step)
        retry = find_decorator(fn, "retry")
        catch = find_decorator(fn, "catch")
        retry_attrs = resolved_attributes(retry, s.flow_cls) if retry else {}
        times = int(retry_attrs.get("times", 0))
        user_attempts_done = q.attempt + 1
        full_reason = (f"step {q.plan.step} failed: {reason} (task {s.run.flow_id}/{s.run.run_id}/"
                       f"{q.plan.step}/{task.task_id}, attempt {q.attempt})")
        if q.fallback is None and user_attempts_done <= times:
            s.store.finish_attempt(task, q.attempt, status="failed", exit_code=exit_code,
                                   reason=reason, final=False, **exc)
            # Metaflow's local runtime retries at once; the delay is for schedulers (and for
            # FLOWSCOPE_RETRY_DELAYS=true).
            delay = 60.0 * float(retry_attrs.get("minutes_between_retries") or 0) \
                if retry and s.settings.retry_delays else 0.0
            say(f"Task failed: {reason}. Retrying" + (f" in {delay:g} s." if delay else "."))
            retry_q = Queued(q.plan, task, q.attempt + 1, time.monotonic() + delay)
            if delay > 0:
                self.delayed.append(retry_q)
            else:
                self.ready.appendleft(retry_q)
            return
        if q.fallback is None and catch is not None and is_gang_worker(q.plan):
            # Metaflow gives a @parallel gang's @catch attempt to its control task only: a worker
            # that failed every attempt stays failed, and the gang goes on to the join with what
            # the worker started from (the control task's catch stores the exception).
            s.store.finish_attempt(task, q.attempt, status="failed", exit_code=exit_code,
                                   reason=reason, final=True, **exc)
            say(f"Task failed: {reason.rstrip('.')}. Its gang's control task handles it (@catch).")
            inherited = dict(q.plan.parents[0].records) if q.plan.parents else {}
            self._completed_task(Finished(q.plan.step, task.task_id, task.task_pk, inherited,
                                          q.plan.stack, list(s.graph.steps[q.plan.step].next)))
            return
        if q.fallback is None and catch is not None:
            s.store.finish_attempt(task, q.attempt, status="failed", exit_code=exit_code,
                                   reason=reason, final=False, **exc)
            say(f"Task failed: {reason.rstrip('.')}.")
            fallback = dict(exc, var=catch.attributes.get("var"), exception_class=exc_class)
            self.ready.appendleft(Queued(q.plan, task, q.attempt + 1, 0.0, fallback))
            return
        s.store.finish_attempt(task, q.attempt, status="failed", exit_code=exit_code,
                               reason=reason, final=True, **exc)
        say(f"Task failed: {reason.rstrip('.')}.")
        raise RunFailed(full_reason, q.plan.step)

    def _completed_task(self, done: Finished) -> None:
        if done.step == self.s.graph.start_step:
            # Parameters are artifacts of every task, joins included (as in Metaflow).
            self.param_records = [r for n, r in done.records.items() if n in self.s.run_values]
        if done.step == self.s.graph.end_step:
            self.end_done = True
            return
        for plan in self.transitions.successors(done):
            self.ready.append(Queued(plan))
