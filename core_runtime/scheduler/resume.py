"""resume: a new run that clones the origin's completed tasks before the resume step.

The new run is scheduled from ``start`` as usual; whenever the next task belongs to a step that
is not the resume step nor downstream of it, and the origin has a completed task at the same
place (same step, same foreach indices), that task is cloned (RunStore.clone_task) instead of run.
"""

from __future__ import annotations

from typing import Any

from core_runtime.scheduler.past_runs import PastRun, PastRunError, PastTask, as_finished, find_run, run_tasks
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
    def __init__(self, conn: Any, graph: Any, origin: PastRun, step: str) -> None:
        self.conn = conn
        self.graph = graph
        self.origin = origin
        self.step = step
        self.rerun = downstream(graph, step)

    @property
    def origin_run_id(self) -> str:
        return self.origin.run_id

    @classmethod
    def find(cls, conn: Any, graph: Any, origin_run_id: str | None, step: str | None) -> ResumePlanner:
        try:
            origin = find_run(conn, graph.flow_name, origin_run_id)
        except PastRunError as exc:
            raise ResumeError(f"resume: {exc}") from None
        if step is None:
            if origin.status == "completed" or not origin.failed_step:
                raise ResumeError(f"resume: run {graph.flow_name}/{origin.run_id} has no failed step; "
                                  f"name the step to resume from (resume STEP)")
            step = origin.failed_step
        if step not in graph.steps:
            raise ResumeError(f"resume: run {origin.run_id} failed at step {step!r}, "
                              f"which the flow no longer has")
        return cls(conn, graph, origin, step)

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
        for t in run_tasks(planner.conn, planner.origin.run_pk):
            if t.status == "completed" and t.step not in planner.rerun:
                self.origin_tasks[t.key()] = t

    def attach(self, run: Any) -> None:
        self.run = run

    def try_clone(self, plan: TaskPlan) -> Finished | None:
        if plan.step in self.p.rerun:
            return None
        origin = self.origin_tasks.get(plan.key())
        if origin is None:
            return None
        ref = self.store.clone_task(self.run, origin.task_pk,
                                    parent_task_ids=[p.path for p in plan.parents])
        # As Metaflow records on a cloned task: where it came from.
        self.store.record_metadata(ref, None, [
            ("origin-run-id", self.p.origin.run_id, "origin-run-id"),
            ("origin-task-id", origin.task_id, "origin-task-id")])
        return as_finished(self.p.conn, origin, self.p.graph, self.ds,
                           task_id=ref.task_id, task_pk=ref.task_pk)
