"""Which tasks follow a finished task: linear, static split, foreach, switch, loop, join barriers."""

from __future__ import annotations

from typing import Any

from core_runtime.scheduler.plan import Finished, Frame, TaskPlan


def stack_key(stack: list[Frame]) -> tuple[tuple[str, int], ...]:
    return tuple((str(f["step"]), int(f["index"])) for f in stack)


def next_iteration(graph: Any, done: Finished, nxt: str) -> list[int]:
    """The iteration stack of the task of ``nxt`` that follows ``done``.

    A recursive step that picks itself runs again one iteration further; leaving it pops its
    level; entering a recursive step opens a level at 0 (Metaflow's LOOPING/EXITING/ENTERING).
    """
    iteration = list(done.iteration)
    here = graph.steps[done.step]
    if here.is_recursive and nxt == done.step:
        if not iteration:      # only a run recorded before iterations existed lacks the level
            return [1]
        return iteration[:-1] + [iteration[-1] + 1]
    if here.is_recursive and iteration:
        iteration = iteration[:-1]
    if graph.steps[nxt].is_recursive:
        iteration = iteration + [0]
    return iteration


class Transitions:
    """Turns finished tasks into runnable task plans; holds the join barriers.

    A join of a foreach waits for all ``num_splits`` tasks of the same split (same outer
    foreach position); a join of a static split waits for one task per branch of its split.
    A switch runs only the case its task chose, so branches that run a switch count once, by the
    case that ran. Barriers are keyed by the iteration too, like Metaflow's finished-task keys.
    """

    def __init__(self, graph: Any) -> None:
        self.graph = graph
        self.barriers: dict[tuple[Any, ...], list[Finished]] = {}
        # join -> the split it closes (a wide foreach asks for every arriving task)
        self._split_of = {n.matching_join: n for n in graph.steps.values() if n.matching_join}

    def _in_funcs(self, step: str) -> list[str]:
        return list(self.graph.steps[step].in_funcs)

    def is_join(self, step: str) -> bool:
        return str(self.graph.steps[step].type) == "join"

    def is_foreach_join(self, step: str) -> bool:
        split = self._split_of.get(step)
        return split is not None and str(split.type) in ("split-foreach", "split-parallel")

    def _branches(self, join: str) -> int:
        split = self._split_of.get(join)
        return len(split.next) if split is not None else len(self._in_funcs(join))

    def successors(self, done: Finished) -> list[TaskPlan]:
        out: list[TaskPlan] = []
        for nxt in done.next:
            iteration = next_iteration(self.graph, done, nxt)
            if self.is_join(nxt):
                plan = self._arrive(nxt, done, iteration)
                if plan is not None:
                    out.append(plan)
            elif done.foreach_var is not None:
                for i in range(done.num_splits):
                    frame = {"step": done.step, "var": done.foreach_var,
                             "num_splits": done.num_splits, "index": i, "value": done.labels[i]}
                    out.append(TaskPlan(nxt, [done], done.stack + [frame], iteration=iteration))
            else:
                out.append(TaskPlan(nxt, [done], list(done.stack), iteration=iteration))
        return out

    def _arrive(self, join: str, done: Finished, iteration: list[int]) -> TaskPlan | None:
        if self.is_foreach_join(join):
            if not done.stack:
                raise RuntimeError(f"join {join!r} reached from {done.path} outside any foreach")
            outer = done.stack[:-1]
            key: tuple[Any, ...] = (join, stack_key(outer), done.stack[-1]["step"], tuple(iteration))
            expected = int(done.stack[-1]["num_splits"])
        else:
            outer = list(done.stack)
            key = (join, stack_key(outer), tuple(iteration))
            expected = self._branches(join)
        arrived = self.barriers.setdefault(key, [])
        arrived.append(done)
        if len(arrived) < expected:
            return None
        del self.barriers[key]
        if self.is_foreach_join(join):
            arrived.sort(key=lambda f: int(f.stack[-1]["index"]))
        else:
            order = {s: i for i, s in enumerate(self._in_funcs(join))}
            arrived.sort(key=lambda f: order.get(f.step, 0))
        return TaskPlan(join, arrived, outer, is_join=True, iteration=iteration)
