"""User-defined decorators with Metaflow's API: UserStepDecorator, @user_step_decorator,
StepMutator and FlowMutator.

* ``UserStepDecorator`` subclasses wrap a step: ``pre_step(step_name, flow, inputs)`` runs
  before it (returning a callable replaces the step; setting ``self.skip_step`` skips it) and
  ``post_step(step_name, flow, exception)`` after it (return None to swallow the exception,
  the exception to raise it, or ``(exception, next_args)``). ``init(**kwargs)`` takes the
  decorator's arguments.
* ``@user_step_decorator`` turns a generator ``(step_name, flow, inputs[, attributes])`` that
  yields once into such a decorator; yielding a dict skips the step.
* ``StepMutator.pre_mutate/mutate(mutable_step)`` and ``FlowMutator.pre_mutate/mutate(mutable_flow)``
  add or remove decorators and parameters before the run starts (``mutable_flow.configs`` has
  the Config values).

Wrappers run in the task process; mutators run once in the command before the run is recorded.
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable, Iterator
from typing import Any

from core_runtime.exception import MetaflowException

USER_SKIP_STEP: dict[str, Any] = {}


def _step_list(fn: Any, field: str) -> list[Any]:
    if not hasattr(fn, field):
        setattr(fn, field, [])
    return getattr(fn, field)  # type: ignore[no-any-return]


class _StepBound:
    """Shared by step decorators and mutators: ``@Deco`` or ``@Deco(args)`` above ``@step``."""

    _step_field = "_fs_wrappers"
    _allowed_args = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._args: list[Any] = list(args)
        self._kwargs: dict[str, Any] = dict(kwargs)
        self._my_step: Any = None
        self._ran_init = False
        if self._args and callable(self._args[0]) and getattr(self._args[0], "_fs_is_step", False):
            self._bind(self._args.pop(0))
        if self._args and not self._allowed_args:
            raise MetaflowException(f"{type(self).__name__} takes keyword arguments only")

    @property
    def decorator_name(self) -> str:
        return f"{type(self).__module__}.{type(self).__qualname__}"

    def _bind(self, fn: Any) -> Any:
        if not getattr(fn, "_fs_is_step", False):
            raise MetaflowException(f"{type(self).__name__} can only decorate a @step "
                                    f"(put it above @step)")
        self._my_step = fn
        _step_list(fn, self._step_field).append(self)
        return fn

    def __call__(self, fn: Any = None) -> Any:
        if fn is None:
            raise MetaflowException(f"{type(self).__name__} can only be applied to a step")
        if isinstance(fn, _StepBound):
            fn = fn._my_step
        return self._bind(fn)

    # The class body holds the decorator object; reading it gives the step function.
    def __get__(self, obj: Any, owner: Any = None) -> Any:
        return self._my_step.__get__(obj, owner) if obj is not None else self._my_step

    def get_args_kwargs(self) -> tuple[list[Any], dict[str, Any]]:
        return list(self._args), dict(self._kwargs)

    def init(self, *args: Any, **kwargs: Any) -> None:
        """Override to take arguments (``@Deco(x=1)``); replaces __init__."""

    def external_init(self, flow_cls: type | None = None) -> None:
        if self._ran_init:
            return
        if flow_cls is not None:
            from core_runtime.config_expr import resolve

            self._args = list(resolve(self._args, flow_cls))
            self._kwargs = dict(resolve(self._kwargs, flow_cls))
        if (self._args or self._kwargs) and "init" not in _own_methods(type(self)):
            raise MetaflowException(f"{type(self).__name__} is used with arguments but does "
                                    f"not implement init()")
        self.init(*self._args, **self._kwargs)
        self._ran_init = True


def _own_methods(cls: type) -> set[str]:
    names: set[str] = set()
    for klass in cls.__mro__:
        if klass in (_StepBound, UserStepDecorator, StepMutator, object):
            break
        names.update(klass.__dict__)
    return names


class UserStepDecorator(_StepBound):
    _step_field = "_fs_wrappers"

    def pre_step(self, step_name: str, flow: Any, inputs: Any = None) -> Callable[..., Any] | None:
        return None

    def post_step(self, step_name: str, flow: Any, exception: Exception | None = None) -> Any:
        if exception:
            return exception, None
        return None, None

    @property
    def skip_step(self) -> bool | dict[str, Any]:
        return getattr(self, "_skip_step", False)

    @skip_step.setter
    def skip_step(self, value: bool | dict[str, Any]) -> None:
        self._skip_step = value


def user_step_decorator(*args: Any, **kwargs: Any) -> Any:
    """Make a UserStepDecorator from a generator that yields once around the step."""
    if not args:
        return lambda f: user_step_decorator(f, **kwargs)
    gen_fn = args[0]
    if not isinstance(gen_fn, types.FunctionType) or not inspect.isgeneratorfunction(gen_fn):
        raise MetaflowException("@user_step_decorator decorates a generator function "
                                "(step_name, flow, inputs[, attributes]) that yields once")
    n_args = len(inspect.signature(gen_fn).parameters)
    if n_args not in (3, 4):
        raise MetaflowException(f"@user_step_decorator: {gen_fn.__name__} takes {n_args} arguments; "
                                f"it must take (step_name, flow, inputs) or (step_name, flow, "
                                f"inputs, attributes)")

    class GeneratorDecorator(UserStepDecorator):
        def init(self, *a: Any, **kw: Any) -> None:
            if kw and n_args != 4:
                raise MetaflowException(f"@{gen_fn.__name__} takes no arguments: its generator "
                                        f"has no attributes parameter")
            self._attributes = kw
            self._gen: Any = None

        def pre_step(self, step_name: str, flow: Any, inputs: Any = None) -> Any:
            call = (step_name, flow, inputs) + ((self._attributes,) if n_args == 4 else ())
            self._gen = gen_fn(*call)
            try:
                yielded = next(self._gen)
            except StopIteration:
                self.skip_step = True       # returned without yielding: the step does not run
                return None
            if isinstance(yielded, dict):
                self.skip_step = yielded or True
                return None
            return yielded

        def post_step(self, step_name: str, flow: Any, exception: Exception | None = None) -> Any:
            if self._gen is None or self._gen.gi_frame is None:
                return (exception, None) if exception else (None, None)
            try:
                if exception is not None:
                    self._gen.throw(exception)
                else:
                    next(self._gen)
            except StopIteration as stop:
                return stop.value if stop.value is not None else (None, None)
            except Exception as exc:  # noqa: BLE001 - the generator re-raised or raised anew
                return exc, None
            return None, None, MetaflowException(f"@{gen_fn.__name__} yielded more than once")

        @property
        def decorator_name(self) -> str:
            return f"{gen_fn.__module__}.{gen_fn.__name__}"

    GeneratorDecorator.__name__ = GeneratorDecorator.__qualname__ = gen_fn.__name__
    GeneratorDecorator.__module__ = gen_fn.__module__
    GeneratorDecorator.__doc__ = gen_fn.__doc__
    return GeneratorDecorator


class StepMutator(_StepBound):
    _step_field = "_fs_mutators"
    _allowed_args = True

    def pre_mutate(self, mutable_step: MutableStep) -> None:
        return None

    def mutate(self, mutable_step: MutableStep) -> None:
        return None


class FlowMutator:
    """``@MyMutator`` or ``@MyMutator(args)`` on the flow class."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._args = list(args)
        self._kwargs = dict(kwargs)
        self._flow_cls: type | None = None
        if self._args and isinstance(self._args[0], (type, FlowMutator)):
            first = self._args.pop(0)
            self._set_flow_cls(first._flow_cls if isinstance(first, FlowMutator) else first)

    def __mro_entries__(self, bases: tuple[Any, ...]) -> tuple[type, ...]:
        # ``@MyMutator class Base(FlowSpec)`` then ``class MyFlow(Base)``: inherit from the class.
        assert self._flow_cls is not None
        return (self._flow_cls,)

    def __call__(self, flow_cls: Any = None) -> Any:
        if flow_cls is not None:
            return self._set_flow_cls(flow_cls._flow_cls if isinstance(flow_cls, FlowMutator) else flow_cls)
        if self._flow_cls is None:
            raise MetaflowException(f"{type(self).__name__} can only be applied to a flow class")
        # ``@MyMutator class MyFlow`` leaves this object under the flow's name, so the file's
        # ``MyFlow()`` lands here: start the flow.
        return self._flow_cls()

    def __getattr__(self, name: str) -> Any:
        # The object stands for the flow class (MyFlow.some_attribute).
        if name.startswith("__") or self.__dict__.get("_flow_cls") is None:
            raise AttributeError(name)
        return getattr(self.__dict__["_flow_cls"], name)

    def _set_flow_cls(self, flow_cls: Any) -> Any:
        self._flow_cls = flow_cls
        flow_cls._fs_flow_mutators = list(flow_cls.__dict__.get("_fs_flow_mutators", [])) + [self]
        return flow_cls

    def init(self, *args: Any, **kwargs: Any) -> None:
        """Override to take arguments (``@MyMutator(x=1)``)."""

    def external_init(self, flow_cls: type) -> None:
        from core_runtime.config_expr import resolve

        self.init(*resolve(self._args, flow_cls), **resolve(self._kwargs, flow_cls))

    def pre_mutate(self, mutable_flow: MutableFlow) -> None:
        return None

    def mutate(self, mutable_flow: MutableFlow) -> None:
        return None


# ---- what mutators see -------------------------------------------------------------------------
IGNORE, ERROR, OVERRIDE = 1, 2, 3


class MutableStep:
    IGNORE, ERROR, OVERRIDE = IGNORE, ERROR, OVERRIDE

    def __init__(self, flow: MutableFlow, name: str, fn: Any) -> None:
        self._flow = flow
        self.name = name
        self._fn = fn

    @property
    def flow(self) -> MutableFlow:
        return self._flow

    @property
    def decorator_specs(self) -> Iterator[tuple[str, str, list[Any], dict[str, Any]]]:
        """(name, fully qualified name, args, kwargs) of each decorator of the step."""
        for d in getattr(self._fn, "_fs_decorators", []):
            yield d.name, f"core_runtime.decorators.{d.name}", [], dict(d.attributes)
        for field in ("_fs_wrappers", "_fs_mutators"):
            for deco in getattr(self._fn, field, []):
                args, kwargs = deco.get_args_kwargs()
                yield type(deco).__name__, deco.decorator_name, args, kwargs

    def has_decorator(self, name: str) -> bool:
        return bool(self.get_decorator_specs(name))

    def get_decorator_specs(self, name: str) -> list[tuple[str, str, list[Any], dict[str, Any]]]:
        return [s for s in self.decorator_specs if (s[1] if "." in name else s[0]) == name]

    def add_decorator(self, deco_type: Any, deco_args: list[Any] | None = None,
                      deco_kwargs: dict[str, Any] | None = None, duplicates: int = IGNORE) -> Any:
        """Add a built-in decorator (its function, or its name / ``name:k=v`` spec) or a
        UserStepDecorator/StepMutator class; returns what was added, None when ignored."""
        from core_runtime.decorators import STEP_DECORATORS, make_decorator

        if isinstance(deco_type, type) and issubclass(deco_type, _StepBound):
            deco = deco_type(*(deco_args or []), **(deco_kwargs or {}))
            existing = self.get_decorator_specs(deco.decorator_name)
            if existing and not self._duplicate(deco.decorator_name, duplicates):
                return None
            return deco._bind(self._fn) and deco
        name = getattr(deco_type, "__name__", deco_type)
        kwargs = dict(deco_kwargs or {})
        if isinstance(name, str) and ":" in name:
            from core_runtime.cli.decospecs import parse_spec

            name, spec_kwargs = parse_spec(name)
            kwargs = {**spec_kwargs, **kwargs}
        build = STEP_DECORATORS.get(str(name))
        if build is None:
            raise MetaflowException(f"add_decorator: unknown decorator {deco_type!r}")
        if self.has_decorator(str(name)) and name != "card" and not self._duplicate(str(name), duplicates):
            return None
        added = make_decorator(str(name), build(**kwargs))
        self._fn._fs_decorators = list(getattr(self._fn, "_fs_decorators", [])) + [added]
        return added

    def _duplicate(self, name: str, policy: int) -> bool:
        """True when the new decorator should be added despite an existing one."""
        if policy == OVERRIDE:
            self.remove_decorator(name)
            return True
        if policy == ERROR:
            raise MetaflowException(f"step {self.name!r} already has @{name}")
        return False

    def remove_decorator(self, deco_name: str, deco_args: list[Any] | None = None,
                         deco_kwargs: dict[str, Any] | None = None) -> bool:
        match_all = deco_args is None and deco_kwargs is None
        removed = False
        decos = []
        for d in getattr(self._fn, "_fs_decorators", []):
            if d.name == deco_name.rsplit(".", 1)[-1] and (match_all or d.attributes == (deco_kwargs or {})):
                removed = True
                continue
            decos.append(d)
        self._fn._fs_decorators = decos
        for field in ("_fs_wrappers", "_fs_mutators"):
            kept = []
            for deco in getattr(self._fn, field, []):
                named = deco.decorator_name if "." in deco_name else type(deco).__name__
                if named == deco_name and (match_all or deco.get_args_kwargs() == (deco_args or [], deco_kwargs or {})):
                    removed = True
                    continue
                kept.append(deco)
            setattr(self._fn, field, kept)
        return removed


class MutableFlow:
    def __init__(self, flow_cls: type) -> None:
        self._cls = flow_cls

    @property
    def configs(self) -> Iterator[tuple[str, Any]]:
        from core_runtime.config import flow_configs

        for c in flow_configs(self._cls):
            yield c.name, c.value

    @property
    def parameters(self) -> Iterator[tuple[str, Any]]:
        from core_runtime.parameters import flow_parameters

        for p in flow_parameters(self._cls):
            yield p.attr, p

    @property
    def steps(self) -> Iterator[tuple[str, MutableStep]]:
        for name in dir(self._cls):
            fn = getattr(self._cls, name, None)
            if callable(fn) and getattr(fn, "_fs_is_step", False):
                yield name, MutableStep(self, name, fn)

    def add_parameter(self, name: str, value: Any, overwrite: bool = False) -> None:
        from core_runtime.parameters import Parameter

        if not isinstance(value, Parameter):
            raise MetaflowException(f"add_parameter({name!r}): expected a Parameter, got {value!r}")
        if hasattr(self._cls, name) and not overwrite:
            raise MetaflowException(f"the flow already has {name!r} (pass overwrite=True)")
        value.__set_name__(self._cls, name)
        setattr(self._cls, name, value)

    def remove_parameter(self, parameter_name: str) -> bool:
        from core_runtime.parameters import Parameter

        for klass in self._cls.__mro__:
            if isinstance(klass.__dict__.get(parameter_name), Parameter):
                delattr(klass, parameter_name)
                return True
        return False

    @property
    def decorator_specs(self) -> Iterator[tuple[str, str, list[Any], dict[str, Any]]]:
        from core_runtime.flow_decorators import flow_decorators

        for d in flow_decorators(self._cls):
            yield d.name, f"core_runtime.flow_decorators.{d.name}", [], dict(d.attributes)

    def add_decorator(self, deco_type: Any, deco_args: list[Any] | None = None,
                      deco_kwargs: dict[str, Any] | None = None, duplicates: int = IGNORE) -> Any:
        from core_runtime import flow_decorators

        name = getattr(deco_type, "__name__", deco_type)
        if name != "project":
            raise MetaflowException(f"add_decorator: unknown flow decorator {deco_type!r}")
        if flow_decorators.find_flow_decorator(self._cls, "project") is not None:
            if duplicates == ERROR:
                raise MetaflowException("the flow already has @project")
            if duplicates == IGNORE:
                return None
            self.remove_decorator("project")
        return flow_decorators.project(self._cls, **(deco_kwargs or {}))

    def remove_decorator(self, deco_name: str, deco_args: list[Any] | None = None,
                         deco_kwargs: dict[str, Any] | None = None) -> bool:
        for klass in self._cls.__mro__:
            specs = klass.__dict__.get("_fs_flow_decorators")
            if specs and any(s.name == deco_name for s in specs):
                klass._fs_flow_decorators = [s for s in specs if s.name != deco_name]  # type: ignore[attr-defined]
                return True
        return False


def apply_mutators(flow_cls: type) -> None:
    """Run every FlowMutator and StepMutator of the flow: all pre_mutate, then all mutate."""
    mutators: list[FlowMutator] = []
    for klass in reversed(flow_cls.__mro__):
        mutators.extend(klass.__dict__.get("_fs_flow_mutators", []))
    flow = MutableFlow(flow_cls)
    step_mutators = [(m, step) for _name, step in flow.steps
                     for m in list(getattr(step._fn, "_fs_mutators", []))]
    if not mutators and not step_mutators:
        return
    for m in mutators:
        m.external_init(flow_cls)
    for sm, _step in step_mutators:
        sm.external_init(flow_cls)
    for m in mutators:
        m.pre_mutate(flow)
    for sm, step in step_mutators:
        sm.pre_mutate(step)
    for m in mutators:
        m.mutate(flow)
    for sm, step in step_mutators:
        sm.mutate(step)


def run_wrapped(flow: Any, step_name: str, method: Callable[..., Any], inputs: Any,
                wrappers: list[UserStepDecorator]) -> Any:
    """Call the step through its UserStepDecorators, as Metaflow orders them: the outermost
    decorator's pre_step first, post_step last. Returns the arguments for a self.next the
    runtime must make on the step's behalf (None when the step made its own)."""
    stack: list[UserStepDecorator] = []
    replacement = None
    next_args: Any = None
    for w in reversed(wrappers):
        replacement = w.pre_step(step_name, flow, inputs)
        stack.append(w)
        if w.skip_step:
            next_args = w.skip_step
            break
        if replacement:
            break
    raised: Exception | None = None
    had_exception = False
    try:
        if not next_args:
            args = (flow,) if inputs is None else (flow, inputs)
            if replacement:
                next_args = replacement(*args) or None
            else:
                method(*args[1:])
    except Exception as exc:  # noqa: BLE001 - handed to the decorators' post_step
        raised, had_exception = exc, True
    for w in reversed(stack):
        try:
            r = w.post_step(step_name, flow, raised)
        except Exception as exc:  # noqa: BLE001 - a post_step may raise anything
            r = exc
        if r is None:
            raised = None
        elif isinstance(r, Exception):
            raised = r
        elif isinstance(r, tuple) and len(r) == 2:
            raised, next_args = r[0], (r[1] if r[1] is not None else next_args)
        elif isinstance(r, tuple) and len(r) == 3:
            raise r[2]
        else:
            raise RuntimeError(f"post_step of {type(w).__name__} returned {r!r}; expected None, "
                               f"an exception, or (exception, next arguments)")
    if raised is not None:
        raise raised
    if (next_args is not None and next_args is not False) or had_exception:
        return next_args if isinstance(next_args, dict) else {}
    return None
