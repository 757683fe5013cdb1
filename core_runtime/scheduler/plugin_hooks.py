"""Metaflow's task hooks of extension step decorators, called around the step in the task.

In Metaflow's order: every ``task_pre_step``, then ``task_decorate`` wraps the step function
(the first decorator innermost), the step runs, then ``task_post_step`` on success or
``task_exception`` on failure (a decorator returning True handles the exception: the task goes
on as if the step had returned), and ``task_finished`` last, whatever happened.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core_runtime.decorators import StepDecorator


class PluginHooks:
    def __init__(self, decorators: list[StepDecorator], step: str, flow: Any, run_id: str, task_id: str,
                 retry_count: int, max_user_code_retries: int) -> None:
        self.decorators = decorators
        self.step = step
        self.flow = flow
        self.graph = getattr(flow, "_graph", None)
        self.run_id = run_id
        self.task_id = task_id
        self.retry_count = retry_count
        self.max_retries = max_user_code_retries

    def run(self, step_func: Callable[[], None]) -> bool:
        """Run the step through the hooks; True when a decorator handled its exception."""
        if not self.decorators:
            step_func()
            return False
        ok = False
        handled = False
        try:
            for d in self.decorators:
                d.task_pre_step(self.step, None, None, self.run_id, self.task_id, self.flow, self.graph,
                                self.retry_count, self.max_retries, None, None)
            for d in self.decorators:
                step_func = d.task_decorate(step_func, self.flow, self.graph, self.retry_count,
                                            self.max_retries, None)
            try:
                step_func()
            except Exception as exc:
                for d in self.decorators:
                    handled = bool(d.task_exception(exc, self.step, self.flow, self.graph,
                                                    self.retry_count, self.max_retries)) or handled
                if not handled:
                    raise
            else:
                for d in self.decorators:
                    d.task_post_step(self.step, self.flow, self.graph, self.retry_count, self.max_retries)
            ok = True
            return handled
        finally:
            for d in self.decorators:
                d.task_finished(self.step, self.flow, self.graph, ok, self.retry_count, self.max_retries)
