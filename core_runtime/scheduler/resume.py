"""resume: a new run that clones what the origin run completed and runs the rest (Metaflow's rules).

The new run is scheduled from ``start`` as usual. A task is cloned (RunStore.clone_task) instead of
run when all its parents were cloned, its step is not to be re-run, and the origin has a completed
task at the same place: same step, same foreach indices, same iteration of a recursive step.
Without a STEP nothing is forced to re-run, so only the tasks the origin did not complete run
again, and everything after them (their parents were not cloned): a failed foreach split re-runs
alone, a loop resumes at the iteration that failed. ``resume STEP`` re-runs STEP and every step
after it.
"""

from __future__ import annotations

from typing import Any

from core_runtime.scheduler.past_runs import (
    PastRun,
    PastRunError,
    PastTask,
    as_finished,
    find_run,
    run_tasks,
    task_records,
)
from core_runtime.scheduler.plan import Finished, TaskPlan


class ResumeError(ValueError):
    pass


def downstream(graph: Any, step: str) -> set[str]:
    seen = {step}
    todo = [step]
    while todo:
        for nxt in graph.steps[todo.pop()].next:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


class ResumePlanner:
    def __init__(self, conn: Any, graph: Any, origin: PastRun, step: str, *, forced: bool = True) -> None:
        self.conn = conn
        self.graph = graph
        self.origin = origin
        self.step = step
        # resume STEP re-runs STEP and what follows; plain resume re-runs only what did not complete.
        self.rerun = downstream(graph, step) if forced else set()

    @property
    def origin_run_id(self) -> str:
        return self.origin.run_id

    @classmethod
    def find(cls, conn: Any, graph: Any, origin_run_id: str | None, step: str | None) -> ResumePlanner:
        try:
            origin = find_run(conn, graph.flow_name, origin_run_id)
        except PastRunError as exc:
            raise ResumeError(f"resume: {exc}") from None
        forced = step is not None
        if step is None:
            if origin.status == "completed" or not origin.failed_step:
                raise ResumeError(f"resume: run {graph.flow_name}/{origin.run_id} has no failed step; "
                                  f"name the step to resume from (resume STEP)")
            step = origin.failed_step
        if step not in graph.steps:
            raise ResumeError(f"resume: run {origin.run_id} failed at step {step!r}, "
                              f"which the flow no longer has")
        return cls(conn, graph, origin, step, forced=forced)

    def parameters(self, names: list[str], ds: Any = None) -> dict[str, Any]:
        """The origin's parameter values: its start task's artifacts (exact values, included
        files' content), else what the run row shows."""
        from core_runtime.artifacts import load_artifact
        from core_runtime.scheduler.past_runs import task_records

        out = {n: self.origin.parameters[n] for n in names if n in self.origin.parameters}
        if ds is None:
            return out
        starts = [t for t in run_tasks(self.conn, self.origin.run_pk, self.graph.start_step)
                  if t.status == "completed"]
        if starts:
            records = task_records(self.conn, starts[0])
            for n in names:
                if n in records:
                    out[n] = load_artifact(ds, records[n]["location"])
        return out

    def cloner(self, store: Any, ds: Any) -> Cloner:
        return Cloner(self, store, ds)


class Cloner:
    def __init__(self, planner: ResumePlanner, store: Any, ds: Any) -> None:
        self.p = planner
        self.store = store
        self.ds = ds
        self.run: Any = None
        self.origin_tasks: dict[tuple[Any, ...], PastTask] = {}
        # origin "step/task_id" -> the steps of its children: the case a switch task chose.
        self.children: dict[str, list[str]] = {}
        for t in run_tasks(planner.conn, planner.origin.run_pk):
            if t.status == "completed" and t.step not in planner.rerun:
                self.origin_tasks[t.key()] = t
            for parent in t.parent_task_ids:
                steps = self.children.setdefault(parent, [])
                if t.step not in steps:
                    steps.append(t.step)

    def attach(self, run: Any) -> None:
        self.run = run

    def try_clone(self, plan: TaskPlan) -> Finished | None:
        if plan.step in self.p.rerun or not all(p.cloned for p in plan.parents):
            return None
        origin = self.origin_tasks.get(plan.key())
        if origin is None:
            return None
        next_steps = None
        node = self.p.graph.steps[plan.step]
        if node.is_switch:
            chosen = self._chosen_case(node, origin)
            if chosen is None:
                return None
            next_steps = [chosen]
        ref = self.store.clone_task(self.run, origin.task_pk,
                                    parent_task_ids=[p.path for p in plan.parents])
        # As Metaflow records on a cloned task: where it came from.
        self.store.record_metadata(ref, None, [
            ("origin-run-id", self.p.origin.run_id, "origin-run-id"),
            ("origin-task-id", origin.task_id, "origin-task-id")])
        done = as_finished(self.p.conn, origin, self.p.graph, self.ds,
                           task_id=ref.task_id, task_pk=ref.task_pk, next_steps=next_steps)
        done.cloned = True
        return done

    def _chosen_case(self, node: Any, origin: PastTask) -> str | None:
        """The step a switch task of the origin went to: its child there, or, when the run stopped
        before the child was made, the case its condition artifact selects."""
        from core_runtime.artifacts import load_artifact

        children = [s for s in self.children.get(origin.path, []) if s in node.next]
        if len(children) == 1:
            return children[0]
        record = task_records(self.p.conn, origin).get(node.condition or "")
        if record is None or node.switch is None:
            return None
        try:
            case = node.switch.case_for(load_artifact(self.ds, record["location"]))
        except Exception:  # noqa: BLE001 - an unreadable value only means the task runs again
            return None
        return case.target if case is not None else None
