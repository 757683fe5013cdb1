"""Step decorators: @step, @retry, @catch, @timeout, @resources, @card, @environment, @secrets,
@parallel.

Decorators only attach data to the step function (``fn._fs_decorators``); the scheduler and the
task process read it. Arguments are evaluated when the class body runs, so values taken from a
Config (``@retry(times=cfg.retries)``) are plain numbers by then; a ``config_expr`` argument is
evaluated when the flow runs (``resolved_attributes``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class DecoratorError(ValueError):
    """A decorator got an argument it cannot use; the message names the decorator."""


class StepDecorator:
    """A decorator on a step: its name and arguments (``attributes``).

    Built-in decorators are plain instances (``StepDecorator.builtin("retry", {...})``); the
    scheduler and the task read their attributes. A Metaflow extension's step decorator is a
    subclass with ``name``, ``defaults`` and Metaflow's task hooks, which the task process calls
    around the step as Metaflow's does (``core_runtime/scheduler/plugin_hooks.py``).
    """

    name: str = "NONAME"
    defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, attributes: dict[str, Any] | None = None, statically_defined: bool = False,
                 inserted_by: Any = None) -> None:
        self.attributes: dict[str, Any] = {**self.defaults, **(attributes or {})}
        self.statically_defined = statically_defined
        self.inserted_by = inserted_by

    @classmethod
    def builtin(cls, name: str, attributes: dict[str, Any]) -> StepDecorator:
        deco = cls(attributes)
        deco.name = name
        return deco

    def __repr__(self) -> str:
        return f"@{self.name}({self.attributes!r})"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, StepDecorator) and type(other) is type(self)
                and (other.name, other.attributes) == (self.name, self.attributes))

    __hash__ = None  # type: ignore[assignment]

    # Metaflow's hooks for a step decorator plugin; the built-in ones do nothing here.
    def step_init(self, flow: Any, graph: Any, step_name: str, decorators: list[Any], environment: Any,
                  flow_datastore: Any, logger: Any) -> None:
        return None

    def task_pre_step(self, step_name: str, task_datastore: Any, metadata: Any, run_id: str, task_id: str,
                      flow: Any, graph: Any, retry_count: int, max_user_code_retries: int,
                      ubf_context: Any, inputs: Any) -> None:
        return None

    def task_decorate(self, step_func: Any, flow: Any, graph: Any, retry_count: int,
                      max_user_code_retries: int, ubf_context: Any) -> Any:
        return step_func

    def task_post_step(self, step_name: str, flow: Any, graph: Any, retry_count: int,
                       max_user_code_retries: int) -> None:
        return None

    def task_exception(self, exception: BaseException, step_name: str, flow: Any, graph: Any,
                       retry_count: int, max_user_code_retries: int) -> bool:
        return False

    def task_finished(self, step_name: str, flow: Any, graph: Any, is_task_ok: bool, retry_count: int,
                      max_user_code_retries: int) -> None:
        return None


class FlowDecorator:
    """Base class of a Metaflow extension's flow decorator: ``name``, ``defaults``, ``options``
    (top-level command-line options, also read from ``METAFLOW_<OPTION>``) and ``flow_init``,
    called before the run starts with those options' values."""

    name: str = "NONAME"
    defaults: ClassVar[dict[str, Any]] = {}
    options: ClassVar[dict[str, dict[str, Any]]] = {}

    def __init__(self, attributes: dict[str, Any] | None = None, statically_defined: bool = False,
                 inserted_by: Any = None) -> None:
        self.attributes: dict[str, Any] = {**self.defaults, **(attributes or {})}
        self.statically_defined = statically_defined
        self.inserted_by = inserted_by

    def flow_init(self, flow: Any, graph: Any, environment: Any, flow_datastore: Any, metadata: Any,
                  logger: Any, echo: Any, options: dict[str, Any]) -> None:
        return None


# Step decorator classes from Metaflow extensions (core_runtime/extensions.py), by name.
PLUGIN_STEP_DECORATORS: dict[str, type[StepDecorator]] = {}


def make_decorator(name: str, attributes: dict[str, Any]) -> StepDecorator:
    """A decorator record by name: an extension's class if one has that name, else built-in."""
    cls = PLUGIN_STEP_DECORATORS.get(name)
    if cls is not None:
        return cls(attributes, statically_defined=False)
    return StepDecorator.builtin(name, attributes)


def plugin_step_decorator(cls: type[StepDecorator]) -> Callable[..., Any]:
    """Register a StepDecorator subclass under ``cls.name`` and return its ``@name`` function
    (``@name``, ``@name(k=v)``; ``--with name:k=v`` and mutators find it too)."""

    def build(**kwargs: Any) -> dict[str, Any]:
        known = cls.defaults or {}
        unknown = sorted(set(kwargs) - set(known))
        if unknown:
            raise TypeError(f"unexpected argument(s) {', '.join(unknown)} (takes: {', '.join(known) or 'none'})")
        return {**known, **kwargs}

    def decorator(fn: Any = None, **kwargs: Any) -> Any:
        if fn is not None and callable(fn):
            return _attach(fn, cls(build(), statically_defined=True))
        try:
            attrs = build(**kwargs)
        except TypeError as exc:
            raise DecoratorError(f"@{cls.name}: {exc}") from None
        return lambda f: _attach(f, cls(attrs, statically_defined=True))

    PLUGIN_STEP_DECORATORS[cls.name] = cls
    STEP_DECORATORS[cls.name] = build
    decorator.__name__ = cls.name
    decorator.__doc__ = cls.__doc__
    return decorator


def plugin_decorators(fn: Any) -> list[StepDecorator]:
    """The step's decorators that are extension classes (their hooks run in the task)."""
    return [d for d in getattr(fn, "_fs_decorators", []) if type(d) is not StepDecorator]


def _attach(fn: Any, deco: StepDecorator) -> Any:
    target = getattr(fn, "_my_step", None)   # a user decorator object standing for the step
    if target is not None:
        _attach(target, deco)
        return fn
    decos: list[StepDecorator] = list(getattr(fn, "_fs_decorators", []))
    if any(d.name == deco.name for d in decos) and deco.name != "card":
        raise DecoratorError(f"@{deco.name} is applied twice to step {fn.__name__!r}")
    decos.append(deco)
    fn._fs_decorators = decos
    return fn


def step(fn: F) -> F:
    """Marks a method of a FlowSpec as a step."""
    fn._fs_is_step = True  # type: ignore[attr-defined]
    # Metaflow's attributes of a step function, read by code that iterates a flow.
    fn.is_step = True  # type: ignore[attr-defined]
    fn.name = fn.__name__  # type: ignore[attr-defined]
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


STEP_DECORATORS: dict[str, Callable[..., dict[str, Any]]] = {}


def _decorator_factory(name: str, build: Callable[..., dict[str, Any]]) -> Callable[..., Any]:
    def decorator(fn: Any = None, **kwargs: Any) -> Any:
        # Both @retry and @retry(times=2) are allowed, as in Metaflow.
        if fn is not None and callable(fn):
            return _attach(fn, StepDecorator.builtin(name, build()))
        try:
            attrs = build(**kwargs)
        except TypeError as exc:
            raise DecoratorError(f"@{name}: {exc}".replace(f"_{name}() ", "")) from None
        return lambda f: _attach(f, StepDecorator.builtin(name, attrs))

    decorator.__name__ = name
    STEP_DECORATORS[name] = build
    return decorator


def _delayed(value: Any) -> bool:
    from core_runtime.config_expr import contains_delayed

    return contains_delayed(value)


def _retry(times: Any = 3, minutes_between_retries: Any = 2) -> dict[str, Any]:
    if _delayed(times) or _delayed(minutes_between_retries):
        return {"times": times, "minutes_between_retries": minutes_between_retries}
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
          scope: str = "task", timeout: Any = 45, save_errors: bool = True, customize: bool = False,
          refresh_interval: Any = 5, rank: str | None = None) -> dict[str, Any]:
    if id is not None and (not isinstance(id, str) or not id.replace("_", "").isalnum()):
        raise DecoratorError(f"@card(id={id!r}): use letters, digits and underscores")
    return {"type": type, "id": id, "options": dict(options or {}), "scope": scope,
            "timeout": _number("card", "timeout", timeout), "save_errors": bool(save_errors),
            # Metaflow compares customize's text with "True" (a string "False" is not True).
            "customize": str(customize) == "True",
            "refresh_interval": _number("card", "refresh_interval", refresh_interval), "rank": rank}


def _environment(vars: dict[str, Any] | None = None) -> dict[str, Any]:
    if vars is not None and not isinstance(vars, dict):
        raise DecoratorError(f"@environment(vars={vars!r}): expected a dict of name -> value")
    return {"vars": dict(vars or {})}


def _secrets(sources: list[Any] | None = None, role: str | None = None,
             allow_override: bool = False) -> dict[str, Any]:
    if sources is not None and not isinstance(sources, (list, tuple)):
        raise DecoratorError(f"@secrets(sources={sources!r}): expected a list of secret specs")
    return {"sources": list(sources or []), "role": role, "allow_override": bool(allow_override)}


def _parallel() -> dict[str, Any]:
    return {}


retry = _decorator_factory("retry", _retry)
catch = _decorator_factory("catch", _catch)
timeout = _decorator_factory("timeout", _timeout)
resources = _decorator_factory("resources", _resources)
card = _decorator_factory("card", _card)
environment = _decorator_factory("environment", _environment)
secrets = _decorator_factory("secrets", _secrets)
parallel = _decorator_factory("parallel", _parallel)


def step_decorators(fn: Any) -> list[StepDecorator]:
    return list(getattr(fn, "_fs_decorators", []))


def find_decorator(fn: Any, name: str) -> StepDecorator | None:
    for d in step_decorators(fn):
        if d.name == name:
            return d
    return None


def resolved_attributes(deco: StepDecorator, flow_cls: type) -> dict[str, Any]:
    """The decorator's attributes with every config_expr in them evaluated."""
    from core_runtime.config_expr import resolve

    return dict(resolve(deco.attributes, flow_cls))


class CaughtException:
    """What @catch(var=...) stores: the exception of the last failed attempt, as text.

    Shaped like Metaflow's stored exception: ``.type`` is the qualified class name
    (``builtins.ValueError``, ``mymodule.MyError``), ``.exception`` the message, ``.stacktrace``
    the traceback (also ``.message`` and ``.traceback``). Kept as plain strings, not the exception
    object, so it always pickles and the client reads it without the user's exception classes.
    """

    def __init__(self, type: str, message: str, traceback: str) -> None:
        self.type = type
        self.message = message
        self.traceback = traceback

    @property
    def exception(self) -> str:
        return self.message

    @property
    def stacktrace(self) -> str:
        return self.traceback

    def __str__(self) -> str:
        return self.traceback or f"{self.type}: {self.message}"

    def __repr__(self) -> str:
        return f"CaughtException({self.type}: {self.message!r})"
