"""Step decorators: @step, @retry, @catch, @timeout, @resources, @card.

Decorators only attach data to the step function (``fn._fs_decorators``); the scheduler and the
task process read it. Arguments are evaluated when the class body runs, so values taken from a
Config (``@retry(times=cfg.retries)``) are plain numbers by then.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class DecoratorError(ValueError):
    """A decorator got an argument it cannot use; the message names the decorator."""


@dataclass
class StepDecorator:
    name: str
    attributes: dict[str, Any] = field(default_factory=dict)


def _attach(fn: Any, deco: StepDecorator) -> Any:
    decos: list[StepDecorator] = list(getattr(fn, "_fs_decorators", []))
    if any(d.name == deco.name for d in decos) and deco.name != "card":
        raise DecoratorError(f"@{deco.name} is applied twice to step {fn.__name__!r}")
    decos.append(deco)
    fn._fs_decorators = decos
    return fn


def step(fn: F) -> F:
    """Marks a method of a FlowSpec as a step."""
    fn._fs_is_step = True  # type: ignore[attr-defined]
    if not hasattr(fn, "_fs_decorators"):
        fn._fs_decorators = []  # type: ignore[attr-defined]
    return fn


def _number(deco: str, name: str, value: Any, *, minimum: float = 0) -> float:
    try:
        num = float(value)
    except (TypeError, ValueError):
        raise DecoratorError(f"@{deco}({name}={value!r}): expected a number") from None
    if num < minimum:
        raise DecoratorError(f"@{deco}({name}={value!r}): must be at least {minimum:g}")
    return num


def _decorator_factory(name: str, build: Callable[..., dict[str, Any]]) -> Callable[..., Any]:
    def decorator(fn: Any = None, **kwargs: Any) -> Any:
        # Both @retry and @retry(times=2) are allowed, as in Metaflow.
        if fn is not None and callable(fn):
            return _attach(fn, StepDecorator(name, build()))
        attrs = build(**kwargs)
        return lambda f: _attach(f, StepDecorator(name, attrs))

    decorator.__name__ = name
    return decorator


def _retry(times: Any = 3, minutes_between_retries: Any = 2) -> dict[str, Any]:
    return {"times": int(_number("retry", "times", times)),
            "minutes_between_retries": _number("retry", "minutes_between_retries",
                                               minutes_between_retries)}


def _catch(var: str | None = None, print_exception: bool = True) -> dict[str, Any]:
    if var is not None and (not isinstance(var, str) or not var.isidentifier()):
        raise DecoratorError(f"@catch(var={var!r}): expected an attribute name")
    return {"var": var, "print_exception": bool(print_exception)}


def _timeout(seconds: Any = 0, minutes: Any = 0, hours: Any = 0) -> dict[str, Any]:
    total = (_number("timeout", "seconds", seconds) + 60 * _number("timeout", "minutes", minutes)
             + 3600 * _number("timeout", "hours", hours))
    if total <= 0:
        raise DecoratorError("@timeout needs seconds=, minutes= or hours= greater than 0")
    return {"seconds": seconds, "minutes": minutes, "hours": hours, "total_seconds": total}


def _resources(cpu: Any = 1, memory: Any = 4096, gpu: Any = 0, disk: Any = None) -> dict[str, Any]:
    out = {"cpu": _number("resources", "cpu", cpu), "memory": _number("resources", "memory", memory),
           "gpu": _number("resources", "gpu", gpu)}
    if disk is not None:
        out["disk"] = _number("resources", "disk", disk)
    return out


def _card(type: str = "default", id: str | None = None, options: dict[str, Any] | None = None,
          timeout: Any = 45) -> dict[str, Any]:
    if id is not None and (not isinstance(id, str) or not id.replace("_", "").isalnum()):
        raise DecoratorError(f"@card(id={id!r}): use letters, digits and underscores")
    return {"type": type, "id": id, "options": dict(options or {}), "timeout": timeout}


retry = _decorator_factory("retry", _retry)
catch = _decorator_factory("catch", _catch)
timeout = _decorator_factory("timeout", _timeout)
resources = _decorator_factory("resources", _resources)
card = _decorator_factory("card", _card)


def step_decorators(fn: Any) -> list[StepDecorator]:
    return list(getattr(fn, "_fs_decorators", []))


def find_decorator(fn: Any, name: str) -> StepDecorator | None:
    for d in step_decorators(fn):
        if d.name == name:
            return d
    return None


class CaughtException:
    """What @catch(var=...) stores: the exception of the last failed attempt, as text.

    Kept as plain strings (not the exception object) so it always pickles and can be read
    by the client without the user's exception classes.
    """

    def __init__(self, type: str, message: str, traceback: str) -> None:
        self.type = type
        self.message = message
        self.traceback = traceback

    @property
    def exception(self) -> str:
        return f"{self.type}: {self.message}"

    def __str__(self) -> str:
        return self.exception

    def __repr__(self) -> str:
        return f"CaughtException({self.exception!r})"
