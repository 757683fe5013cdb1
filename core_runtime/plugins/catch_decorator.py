"""``FailureHandledByCatch``: what ``@catch`` stores when a task died without a Python exception
(Metaflow's module path)."""

from __future__ import annotations

from core_runtime.exception import MetaflowException


class FailureHandledByCatch(MetaflowException):
    """What @catch stores when the task died without a Python exception (a crash, a signal)."""

    headline = "Task execution failed but @catch handled it"

    def __init__(self, retry_count: int | str = 0) -> None:
        super().__init__(f"the task kept failing over {retry_count} attempts without raising a "
                         f"Python exception: something in its environment ended it")
