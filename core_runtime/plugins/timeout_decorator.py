"""``TimeoutException``: raised in a step when its ``@timeout`` is up (Metaflow's module path)."""

from __future__ import annotations

from core_runtime.exception import MetaflowException


class TimeoutException(MetaflowException):
    """What @catch stores when @timeout stopped the step."""

    headline = "@timeout"
