"""Parameter: a run-wide, read-only value given on the command line (``--alpha 0.1``).

Where a value comes from, first match wins: ``--name value`` on ``run``, the environment
variable ``METAFLOW_RUN_<NAME>`` (upper case, ``-`` as ``_``), the default. A default may be a
function of a ``ParameterContext`` (called once per run) or a ``config_expr``. The type comes
from ``type=`` or else from the default (int, float, bool, str, or JSON for dicts and lists);
text values — from the command line, the environment, or a default given as text — are
converted to it. ``separator=","`` splits a text value into a list. Values are artifacts of
every task (``self.<attr>``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


class ParameterError(ValueError):
    """A parameter value cannot be used; the message names the option."""


class JSONTypeClass:
    """Marker type: the command-line value is parsed as JSON."""

    name = "JSON"


JSONType = JSONTypeClass


class AttrDict(dict):  # type: ignore[type-arg]
    """``ctx.configs.cfg.key`` as well as ``ctx.configs["cfg"]``."""

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None


@dataclass
class ParameterContext:
    """What a default function gets: ``def default(ctx): return ctx.user_name``."""

    flow_name: str | None = None
    user_name: str | None = None
    parameter_name: str | None = None
    logger: Callable[..., None] = field(default=lambda *a, **k: logging.getLogger("core_runtime").info(*a))
    ds_type: str = "local"
    configs: Mapping[str, Any] = field(default_factory=AttrDict)


def _parse_bool(text: str) -> bool:
    low = text.strip().lower()
    if low in ("1", "true", "yes", "on", "y"):
        return True
    if low in ("0", "false", "no", "off", "n"):
        return False
    raise ValueError("expected true or false")


def env_var(name: str) -> str:
    return "METAFLOW_RUN_" + name.upper().replace("-", "_")


class Parameter:
    """Declared in the flow class body: ``alpha = Parameter('alpha', help='...', default=0.01)``."""

    IS_CONFIG_PARAMETER = False

    def __init__(self, name: str, default: Any = None, type: Any = None, help: str | None = None,
                 required: bool | None = None, show_default: bool = True, separator: str | None = None,
                 **kwargs: Any) -> None:
        self.name = name
        self.default = default
        self.help = help or ""
        self.required = bool(required)
        self.show_default = show_default
        self.separator = separator
        self.kwargs = kwargs
        self.attr = name  # replaced by __set_name__ with the class attribute name
        if type is None:
            type = _infer_type(default)
        self.type = type

    def __set_name__(self, owner: type, attr: str) -> None:
        self.attr = attr

    # A data descriptor, so it wins over instance attributes and cannot be assigned in a step.
    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        if obj is None:
            return self
        return obj._fs_parameter_value(self.attr)

    def __set__(self, obj: Any, value: Any) -> None:
        raise AttributeError(f"Parameter {self.name!r} is read-only: it cannot be assigned in a step")

    @property
    def type_name(self) -> str:
        if self.type is JSONType:
            return "JSON"
        return getattr(self.type, "__name__", str(self.type))

    @property
    def option(self) -> str:
        return "--" + self.name

    @property
    def is_flag(self) -> bool:
        """Declared ``is_flag=True`` (a click option keyword Metaflow passes through): ``--name`` alone
        is True. Otherwise a bool, like every type, takes a value (``--name true``), as in Metaflow."""
        return self.kwargs.get("is_flag") is True

    def parse(self, text: str, source: str | None = None) -> Any:
        """The value of ``--name text``; ParameterError names the option and the expected type."""
        conv: Callable[[str], Any]
        if self.type is bool:
            conv = _parse_bool
        elif self.type is JSONType:
            conv = json.loads
        elif self.type in (int, float, str) or callable(self.type):
            conv = self.type
        else:
            conv = str
        try:
            value = conv(text)
        except (ValueError, TypeError, json.JSONDecodeError) as exc:
            raise ParameterError(
                f"invalid value {text!r} for {source or self.option}: expected {self.type_name} ({exc})"
            ) from None
        return self._split(value)

    def _split(self, value: Any) -> Any:
        if self.separator and isinstance(value, str):
            return value.split(self.separator)
        return value

    def default_value(self, ctx: ParameterContext | None = None, flow_cls: type | None = None) -> Any:
        """The default, computed: a function gets ``ctx``, a config_expr the flow's Configs,
        and text is converted to the parameter's type."""
        from core_runtime.config_expr import resolve

        value = self.default
        if flow_cls is not None:
            value = resolve(value, flow_cls)
        if callable(value) and not isinstance(value, type):
            value = _call_default(value, ctx or ParameterContext(parameter_name=self.name))
        if isinstance(value, str) and self.type is not str:
            return self.parse(value, f"the default of {self.option}")
        return self._split(value)


def _call_default(fn: Callable[..., Any], ctx: ParameterContext) -> Any:
    import inspect

    try:
        takes_ctx = bool(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        takes_ctx = True
    return fn(ctx) if takes_ctx else fn()


def _infer_type(default: Any) -> Any:
    if isinstance(default, bool):
        return bool
    if isinstance(default, int):
        return int
    if isinstance(default, float):
        return float
    if isinstance(default, (dict, list)):
        return JSONType
    return str


def flow_parameters(cls: type) -> list[Parameter]:
    """The Parameters of a flow class (and its bases), in definition order."""
    seen: dict[str, Parameter] = {}
    for klass in reversed(cls.__mro__):
        for attr, value in vars(klass).items():
            if isinstance(value, Parameter):
                seen[attr] = value
    return list(seen.values())
