"""Which tasks follow a finished task: linear, static split, foreach, and join barriers."""

from __future__ import annotations

from typing import Any

from core_runtime.scheduler.plan import Finished, Frame, TaskPlan


def stack_key(stack: list[Frame]) -> tuple[tuple[str, int], ...]:
    return tuple((str(f["step"]), int(f["index"])) for f in stack)


class Transitions:
    """Turns finished tasks into runnable task plans; holds the join barriers.

    A join of a foreach waits for all ``num_splits`` tasks of the same split (same outer
    foreach position); a join of a static split waits for one task per incoming branch.
    """

    def __init__(self, graph: Any) -> None:
        self.graph = graph
        self.barriers: dict[tuple[Any, ...], list[Finished]] = {}

    def _in_funcs(self, step: str) -> list[str]:
        return list(self.graph.steps[step].in_funcs)

    def is_join(self, step: str) -> bool:
        return str(self.graph.steps[step].type) == "join"

    def is_foreach_join(self, step: str) -> bool:
        # A static split has two or more branches, so its join has several in_funcs;
        # the join of a foreach has exactly one.
        return self.is_join(step) and len(self._in_funcs(step)) == 1

    def successors(self, done: Finished) -> list[TaskPlan]:
        out: list[TaskPlan] = []
        for nxt in done.next:
            if self.is_join(nxt):
                plan = self._arrive(nxt, done)
                if plan is not None:
                    out.append(plan)
            elif done.foreach_var is not None:
                for i in range(done.num_splits):
                    frame = {"step": done.step, "var": done.foreach_var,
                             "num_splits": done.num_splits, "index": i, "value": done.labels[i]}
                    out.append(TaskPlan(nxt, [done], done.stack + [frame]))
            else:
                out.append(TaskPlan(nxt, [done], list(done.stack)))
        return out

    def _arrive(self, join: str, done: Finished) -> TaskPlan | None:
        if self.is_foreach_join(join):
            if not done.stack:
                raise RuntimeError(f"join {join!r} reached from {done.path} outside any foreach")
            outer = done.stack[:-1]
            key: tuple[Any, ...] = (join, stack_key(outer), done.stack[-1]["step"])
            expected = int(done.stack[-1]["num_splits"])
        else:
            outer = list(done.stack)
            key = (join, stack_key(outer))
            expected = len(self._in_funcs(join))
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
        return TaskPlan(join, arrived, outer, is_join=True)
