"""Which inputs a spun step gets: those its parents produced in a past run.

A step the past run ran is spun with the inputs of its task there (the first task of the step,
or the task the pathspec names), as Metaflow does. A step that is new since that run has no task
there; its inputs are then what its parents in the *current* graph produced in that run, planned
exactly as the scheduler would have planned the step (scheduler/transitions.py): a step after a
foreach split gets its first split, a join gets every branch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core_runtime.scheduler.past_runs import PastRun, PastRunError, PastTask, as_finished, find_run, run_tasks
from core_runtime.scheduler.plan import Finished, TaskPlan
from core_runtime.scheduler.transitions import Transitions
from core_runtime.spin.pathspec import SpinTarget


class SpinInputError(LookupError):
    """The inputs cannot be found; the message says what was looked for and what to do."""


@dataclass
class SpinInputs:
    past: PastRun
    plan: TaskPlan
    spun_task: PastTask | None          # the past task whose inputs are used; None for a new step
    notes: list[str] = field(default_factory=list)


def find_inputs(conn: Any, graph: Any, ds: Any, target: SpinTarget, *, namespace: str | None,
                inputs_given: bool) -> SpinInputs:
    """``inputs_given``: an artifacts module supplies inputs, so missing parents are not an error."""
    try:
        past = find_run(conn, graph.flow_name, target.run_id, namespace=namespace)
        tasks = run_tasks(conn, past.run_pk)
        return _inputs(conn, graph, ds, target, past, tasks, inputs_given)
    except PastRunError as exc:
        raise SpinInputError(str(exc)) from None


def _inputs(conn: Any, graph: Any, ds: Any, target: SpinTarget, past: PastRun, tasks: list[PastTask],
            inputs_given: bool) -> SpinInputs:
    step = target.step
    mine = [t for t in tasks if t.step == step]
    if target.task_id is not None:
        mine = [t for t in mine if t.task_id == target.task_id]
        if not mine:
            raise SpinInputError(f"no task {graph.flow_name}/{past.run_id}/{step}/{target.task_id}")
    by_path = {f"{t.step}/{t.task_id}": t for t in tasks}
    if mine:
        spun = mine[0]
        parents = []
        for pid in spun.parent_task_ids:
            parent = by_path.get(pid)
            if parent is None:
                raise SpinInputError(f"parent task {pid} of {step}/{spun.task_id} is missing from run "
                                     f"{graph.flow_name}/{past.run_id}")
            parents.append(as_finished(conn, parent, graph, ds))
        plan = TaskPlan(step, parents, list(spun.stack), is_join=_is_join(graph, step))
        return SpinInputs(past, plan, spun)
    if step == graph.start_step:
        raise SpinInputError(f"run {graph.flow_name}/{past.run_id} has no task of {step!r}")
    return _new_step(conn, graph, ds, step, past, tasks, inputs_given)


def _is_join(graph: Any, step: str) -> bool:
    return str(graph.steps[step].type) == "join"


def _new_step(conn: Any, graph: Any, ds: Any, step: str, past: PastRun, tasks: list[PastTask],
              inputs_given: bool) -> SpinInputs:
    parents_in_graph = list(graph.steps[step].in_funcs)
    where = f"run {graph.flow_name}/{past.run_id}"
    done = {p: [t for t in tasks if t.step == p and t.status == "completed"] for p in parents_in_graph}
    missing = [p for p, ts in done.items() if not ts]
    note = (f"Step {step!r} has no task in {where} (it is new since that run): its inputs come from "
            f"its parents in the current graph ({', '.join(parents_in_graph) or 'none'}).")
    if missing:
        if not inputs_given:
            raise SpinInputError(
                f"step {step!r} has no task in {where}, and neither has its parent "
                f"{', '.join(repr(p) for p in missing)}: run the flow again, or give the step's "
                "inputs with --artifacts-module")
        return SpinInputs(past, TaskPlan(step, [], [], is_join=_is_join(graph, step)), None,
                          [note, f"Parent {', '.join(missing)} has no task there either: the step "
                                 "sees only the --artifacts-module inputs and the run's parameters."])
    transitions = Transitions(graph)
    for parent in parents_in_graph:
        for past_task in done[parent]:
            finished = as_finished(conn, past_task, graph, ds)
            plan = _plan_for(transitions, finished, step)
            if plan is not None:
                return SpinInputs(past, plan, None, [note])
    raise SpinInputError(f"the tasks of {', '.join(parents_in_graph)} in {where} never complete a "
                         f"set of inputs for the join {step!r}")


def _plan_for(transitions: Transitions, finished: Finished, step: str) -> TaskPlan | None:
    if step not in finished.next:
        return None
    only_here = Finished(finished.step, finished.task_id, finished.task_pk, finished.records,
                         finished.stack, [step], finished.foreach_var, finished.num_splits,
                         finished.labels)
    for plan in transitions.successors(only_here):
        return plan     # the first split of a foreach, or the completed join
    return None
