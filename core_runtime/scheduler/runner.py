"""The scheduler's event loop: one thread, one selector over every task's pipes and exit fds.

The parent does all Postgres writes (through RunStore); task processes only write to the
datastore. Heartbeats and log flushes happen on timers inside the same loop, so no thread
is ever running when the loop forks a task.
"""

from __future__ import annotations

import os
import platform
import selectors
import shutil
import signal
import tempfile
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from core_runtime.decorators import find_decorator, resolved_attributes
from core_runtime.scheduler.card_events import CardEvents
from core_runtime.scheduler.child import TaskContext, run_step
from core_runtime.scheduler.completion import AttemptCompletion
from core_runtime.scheduler.console import LinePrinter
from core_runtime.scheduler.executor import AttemptSpec
from core_runtime.scheduler.gang import gang_of, parallel_of
from core_runtime.scheduler.local_executor import LocalExecutor
from core_runtime.scheduler.placement import Placer
from core_runtime.scheduler.plan import ChildResult, Record, TaskPlan
from core_runtime.scheduler.run_state import TIMEOUT_GRACE_SECONDS, Queued, RunFailed, Running, RunSetup
from core_runtime.scheduler.transitions import Transitions

POLL_SECONDS = 0.5


class Runner(AttemptCompletion):
    def __init__(self, setup: RunSetup) -> None:
        self.s = setup
        self.transitions = Transitions(setup.graph)
        self.ready: deque[Queued] = deque()       # runnable now
        self.delayed: list[Queued] = []            # retries waiting for minutes_between_retries
        self.running: dict[int, Running] = {}
        self.tmpdir = tempfile.mkdtemp(prefix="flowscope-run-")
        self.local = LocalExecutor(self.tmpdir, _child_body)
        self.placer = Placer(setup.flow_cls, self.local, setup.remote, setup.remote_all)
        self.param_records: list[Record] = []
        self.sel = selectors.DefaultSelector()
        self.interrupted: str | None = None
        self.end_done = False
        self.control_tasks: dict[tuple[Any, ...], str] = {}    # @parallel gang -> control task id
        self._wake_r, self._wake_w = os.pipe()

    # ---- public ----------------------------------------------------------------------------
    def execute(self) -> int:
        """Run the flow to the end; returns the process exit code."""
        s = self.s
        old = self._install_signals()
        try:
            self.ready.append(Queued(TaskPlan(s.graph.start_step, [], [])))
            self._loop()
            if self.interrupted:
                raise RunFailed(f"interrupted by {self.interrupted}", None)
            if not self.end_done:
                waiting = ", ".join(sorted({k[0] for k in self.transitions.barriers})) or "nothing"
                raise RunFailed(f"run stalled before the end step (joins waiting: {waiting})", None)
            s.store.finish_run(s.run, "completed", "all steps completed")
            s.console.line("Done!")
            return 0
        except RunFailed as exc:
            self._kill_all(f"killed: {exc.reason}")
            s.store.finish_run(s.run, "failed", exc.reason, exc.step)
            s.console.error(f"Workflow failed: {exc.reason}")
            return 130 if self.interrupted == "SIGINT" else (143 if self.interrupted else 1)
        except BaseException as exc:
            self._kill_all("killed: the runtime failed")
            try:
                s.store.finish_run(s.run, "failed", f"runtime error: {type(exc).__name__}: {exc}")
            except Exception:  # noqa: BLE001, S110 - the database may be the problem; re-raise the cause
                pass
            raise
        finally:
            self._restore_signals(old)
            self.placer.close()
            self.sel.close()
            shutil.rmtree(self.tmpdir, ignore_errors=True)

    # ---- signals ---------------------------------------------------------------------------
    def _install_signals(self) -> dict[int, Any]:
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self.sel.register(self._wake_r, selectors.EVENT_READ, ("wake", None))

        def on_signal(signum: int, _frame: Any) -> None:
            self.interrupted = signal.Signals(signum).name
            try:
                os.write(self._wake_w, b"x")
            except OSError:
                pass

        old: dict[int, Any] = {}
        for sig in (signal.SIGINT, signal.SIGTERM):
            old[sig] = signal.signal(sig, on_signal)
        return old

    def _restore_signals(self, old: dict[int, Any]) -> None:
        for sig, handler in old.items():
            signal.signal(sig, handler)
        for fd in (self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass

    # ---- the loop --------------------------------------------------------------------------
    def _loop(self) -> None:
        s = self.s
        hb_every = s.settings.heartbeat_interval
        # Log chunks are flushed by each LogWriter's own timer; only heartbeats are timed here.
        next_hb = time.monotonic() + hb_every
        while not self.interrupted:
            if self.delayed:
                now = time.monotonic()
                due = [q for q in self.delayed if q.not_before <= now]
                self.delayed = [q for q in self.delayed if q.not_before > now]
                self.ready.extend(due)
            self._launch_ready()
            if not self.running and not self.ready and not self.delayed:
                return
            now = time.monotonic()
            # Only bounded lists are scanned here (running <= max_workers, delayed = retries),
            # never the ready queue, which can hold 100,000 tasks of a wide foreach.
            wake = min([next_hb, now + POLL_SECONDS]
                       + [r.deadline for r in self.running.values() if r.deadline]
                       + [q.not_before for q in self.delayed])
            for key, _mask in self.sel.select(max(0.0, wake - now)):
                kind, item = key.data
                if kind == "wake":
                    try:
                        os.read(self._wake_r, 512)
                    except OSError:
                        pass
                elif kind == "exit":
                    if item.proc.on_event():
                        self._reap(item)
                    else:
                        self._record_placement(item)
                else:
                    self._read(item, key.fd, kind)
            for r in list(self.running.values()):
                if r.proc.event_fd is None:
                    self._reap(r, block=False)
            now = time.monotonic()
            for r in list(self.running.values()):
                if r.deadline and now >= r.deadline and r.timed_out is None:
                    r.timed_out = r.deadline - r.proc.started
                    r.proc.kill()
            if now >= next_hb:
                # Tasks waiting between retries are alive too (minutes_between_retries can
                # exceed the readers' heartbeat timeout).
                pks = [r.q.task.task_pk for r in self.running.values()]
                pks += [q.task.task_pk for q in self.delayed]
                s.store.heartbeat(s.run, pks)
                next_hb = now + hb_every
                gone = self.placer.health()
                if gone:
                    raise RunFailed(gone, None)

    # ---- launching -------------------------------------------------------------------------
    def _launch_ready(self) -> None:
        while self.ready and len(self.running) < self.s.max_workers:
            q = self.ready.popleft()
            if q.task is None and self.s.cloner is not None:
                cloned = self.s.cloner.try_clone(q.plan)
                if cloned is not None:
                    self.s.console.task(self.s.run.run_id, cloned.step, cloned.task_id, None,
                                        f"Cloned from run {self.s.origin_run_id}.")
                    self._completed_task(cloned)
                    continue
            self._launch(q)

    def _create_task(self, q: Queued) -> list[tuple[str, str, str]]:
        """Creates the task row; returns its task-wide metadata for _launch to write."""
        plan = q.plan
        s = self.s
        q.task = s.store.create_task(
            s.run, plan.step, foreach_index=plan.index, foreach_value=plan.foreach_value,
            foreach_stack=plan.stack or None, parent_task_ids=[p.path for p in plan.parents],
            iteration_stack=plan.iteration)
        fields = [("runtime", "flowscope", "runtime"), ("user-name", s.username or "", "user-name"),
                  ("python_version", platform.python_version(), "python_version")]
        if s.origin_run_id is not None:
            fields.append(("origin-run-id", s.origin_run_id, "origin-run-id"))
        gang = gang_of(plan)
        if gang is not None and plan.index == 0:
            # Metaflow marks the first task of a @parallel gang as its control task.
            fields.append(("internal_task_type", "control_task", "internal_task_type"))
            self.control_tasks[gang] = q.task.task_id
        res = find_decorator(getattr(s.flow_cls, plan.step), "resources")
        if res is not None:
            fields += [(k, str(v), "resources") for k, v in res.attributes.items()]
        if s.environments is not None:
            fields += s.environments.metadata(plan.step)
        return fields

    def _user_retries(self, fn: Any) -> int:
        retry = find_decorator(fn, "retry")
        return int(resolved_attributes(retry, self.s.flow_cls).get("times", 0)) if retry else 0

    def _launch(self, q: Queued) -> None:
        from core_runtime.logs import LogWriter

        s = self.s
        task_fields = self._create_task(q) if q.task is None else []
        task = q.task
        s.store.start_attempt(task, q.attempt)
        s.store.record_metadata(task, q.attempt, [("attempt", str(q.attempt), "attempt")])
        env = s.environments.python_for(q.plan.step) if s.environments is not None else None
        ctx = TaskContext(flow_cls=s.flow_cls, graph=s.graph, flow_name=s.run.flow_id,
                          run_id=s.run.run_id, task_id=task.task_id, attempt=q.attempt,
                          username=s.username, origin_run_id=s.origin_run_id,
                          run_values=s.run_values, tags=s.tags, fallback=q.fallback,
                          env_python=env[0] if env else None, env_pythonpath=env[1] if env else None,
                          parameter_names=s.parameter_names, project=s.project,
                          graph_info=s.graph_info, parallel=parallel_of(q.plan, task.task_id, self.control_tasks),
                          max_num_splits=s.max_num_splits)
        fn = getattr(s.flow_cls, q.plan.step)
        timeout = find_decorator(fn, "timeout")
        limit = float(resolved_attributes(timeout, s.flow_cls)["total_seconds"]) if timeout else None
        ctx.timeout_seconds = limit
        catch = find_decorator(fn, "catch")
        if catch is not None:
            ctx.catch_var = resolved_attributes(catch, s.flow_cls).get("var") or None
        if catch is not None and q.fallback is None and q.attempt >= self._user_retries(fn):
            ctx.catch_here = resolved_attributes(catch, s.flow_cls)
        executor, request, notice = self.placer.choose(q.plan.step)
        spec = AttemptSpec(ctx, q.plan, s.settings, request, f"{task.task_pk}.{q.attempt}")
        try:
            proc = executor.launch(spec)
        except Exception as exc:  # noqa: BLE001 - e.g. a request no node of the cluster can take
            s.store.record_metadata(task, None, task_fields)
            self._launch_failed(q, str(exc))
            return
        # Task-wide fields and a placement known at launch (local) go in one statement.
        placement = proc.take_placement()
        fields: list[Any] = list(task_fields)
        if notice and q.attempt == 0:
            fields.append(("remote-compute", notice, "notice"))
        if placement is not None:
            fields += placement.metadata(q.attempt)
        s.store.record_metadata(task, None, fields)
        if notice and q.attempt == 0:
            s.console.task(s.run.run_id, q.plan.step, task.task_id, None, notice)
        # The step raises TimeoutException at the limit; a step that does not stop (stuck in
        # native code, ignoring the exception) is killed a little later.
        deadline = proc.started + limit + TIMEOUT_GRACE_SECONDS if limit else None
        run = Running(q, proc, {}, {}, deadline, {proc.stdout_fd, proc.stderr_fd})
        if proc.events_fd is not None:
            run.events = CardEvents(s.store, task)
            run.open_fds.add(proc.events_fd)
            self.sel.register(proc.events_fd, selectors.EVENT_READ, ("events", run))
        for stream, fd in (("stdout", proc.stdout_fd), ("stderr", proc.stderr_fd)):
            run.writers[stream] = LogWriter(s.ds, s.store, task, s.run.flow_id, s.run.run_id,
                                            q.attempt, stream,
                                            flush_interval=s.settings.log_flush_interval)
            run.printers[stream] = LinePrinter(self._printer(task, proc.pid))
            self.sel.register(fd, selectors.EVENT_READ, (stream, run))
        if proc.event_fd is not None:
            self.sel.register(proc.event_fd, selectors.EVENT_READ, ("exit", run))
        self.running[proc.key] = run
        what = "Task is starting" + (f" (retry {q.attempt})" if q.attempt and not q.fallback else "")
        if q.fallback:
            what = "Task failed; @catch stores the exception and the flow continues"
        s.console.task(s.run.run_id, q.plan.step, task.task_id, proc.pid, what + ".")

    def _printer(self, task: Any, pid: int | None) -> Callable[[str], None]:
        s = self.s
        return lambda line: s.console.task(s.run.run_id, task.step_name, task.task_id, pid, line)

    def _record_placement(self, run: Running) -> None:
        """A remote attempt has been placed on a node: record where (the UI shows it)."""
        placement = run.proc.take_placement()
        if placement is None:
            return
        self.s.store.record_metadata(run.q.task, run.q.attempt, placement.metadata(run.q.attempt))
        self.s.console.task(self.s.run.run_id, run.q.plan.step, run.q.task.task_id, placement.pid,
                            f"Task is running on {placement.executor} node {placement.host}"
                            + (f" ({placement.node_id[:12]})" if placement.node_id else "") + ".")

    def _launch_failed(self, q: Queued, reason: str) -> None:
        """The executor refused the attempt before it started: it fails like a crashed one."""
        s = self.s
        full_reason = (f"step {q.plan.step} failed: {reason} (task {s.run.flow_id}/{s.run.run_id}/"
                       f"{q.plan.step}/{q.task.task_id}, attempt {q.attempt})")
        s.store.finish_attempt(q.task, q.attempt, status="failed", exit_code=None, reason=reason,
                               final=True, exception_type=None, exception_message=None, traceback=None)
        s.console.task(s.run.run_id, q.plan.step, q.task.task_id, None, f"Task failed: {reason}")
        raise RunFailed(full_reason, q.plan.step)

    @staticmethod
    def _stream_of(run: Running, fd: int) -> str:
        if fd == run.proc.events_fd:
            return "events"
        return "stdout" if fd == run.proc.stdout_fd else "stderr"

    # ---- output and exit -------------------------------------------------------------------
    def _read(self, run: Running | None, fd: int, stream: str) -> None:
        # The attempt may have been reaped earlier in the same select() batch: its pipes are closed
        # (and the fd number possibly reused, e.g. by a log chunk file); a stale event is ignored.
        if run is None or fd not in run.open_fds:
            return
        while True:
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self.sel.unregister(fd)
                os.close(fd)
                run.open_fds.discard(fd)
                return
            if stream == "events":
                run.events.feed(data)
            else:
                run.writers[stream].feed(data)
                run.printers[stream].feed(data)
            if len(data) < 65536:
                return

    def _reap(self, run: Running, block: bool = True) -> None:
        end = run.proc.collect(block)
        if end is None:
            return
        if run.proc.event_fd is not None:
            self.sel.unregister(run.proc.event_fd)
        run.proc.close()
        self._record_placement(run)   # a remote attempt that ended before its placement was read
        # Drain what the task wrote before exiting; a grandchild may keep a pipe open, so
        # read only what is there now instead of waiting for EOF.
        for fd in list(run.open_fds):
            self._read(run, fd, self._stream_of(run, fd))
            if fd in run.open_fds:
                self.sel.unregister(fd)
                os.close(fd)
                run.open_fds.discard(fd)
        if end.exit_code == -signal.SIGSEGV:
            # Like Metaflow, say so in the task's own stderr, where the user looks first.
            note = b"Task crashed: segmentation fault (SIGSEGV)\n"
            run.writers["stderr"].feed(note)
            run.printers["stderr"].feed(note)
        for p in run.printers.values():
            p.close()
        for w in run.writers.values():
            w.close()
        if run.events is not None:
            run.events.close()
        del self.running[run.proc.key]
        try:
            self._attempt_done(run, end.result, end.exit_code, end.how, end.lost)
        finally:
            if run.events is not None and run.events.recorded:
                self.s.store.close_live_cards(run.q.task, run.q.attempt)

    def _kill_all(self, reason: str) -> None:
        for run in list(self.running.values()):
            run.proc.kill()
        for run in list(self.running.values()):
            try:
                run.proc.collect(block=True)
                run.proc.close()
            except Exception:  # noqa: BLE001, S110 - best effort while tearing down a failed run
                pass
            for w in run.writers.values():
                try:
                    w.close()
                except Exception:  # noqa: BLE001, S110 - best effort while tearing down a failed run
                    pass
            for fd in list(run.open_fds):
                try:
                    os.close(fd)
                except OSError:
                    pass
            try:
                self.s.store.finish_attempt(run.q.task, run.q.attempt, status="failed", exit_code=-9,
                                            reason=reason, final=True)
                if run.events is not None and run.events.recorded:
                    self.s.store.close_live_cards(run.q.task, run.q.attempt)
            except Exception:  # noqa: BLE001, S110 - best effort while tearing down a failed run
                pass
        self.running.clear()


def _child_body(spec: AttemptSpec) -> ChildResult:
    import sys

    from contract.datastore import open_datastore

    ctx, plan, settings = spec.ctx, spec.plan, spec.settings
    if ctx.env_python:
        from core_runtime.environments.launch import run_in_environment

        sys.stdout.flush()
        return run_in_environment(ctx, plan, settings)
    ds = open_datastore(settings)
    result, _flow = run_step(ctx, plan, ds)
    if not result.ok and result.traceback:
        sys.stderr.write(result.traceback if result.traceback.endswith("\n") else result.traceback + "\n")
    return result
