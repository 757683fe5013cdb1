"""Parameter: a run-wide, read-only value given on the command line (``--alpha 0.1``).

The type comes from ``type=`` or else from the default (int, float, bool, str, or JSON for
dicts and lists). Values are artifacts of the run: every task sees them as ``self.<attr>``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


class ParameterError(ValueError):
    """A parameter value from the command line cannot be used; the message names the option."""


class JSONType:
    """Marker type: the command-line value is parsed as JSON."""


def _parse_bool(text: str) -> bool:
    low = text.strip().lower()
    if low in ("1", "true", "yes", "on", "y"):
        return True
    if low in ("0", "false", "no", "off", "n"):
        return False
    raise ValueError("expected true or false")


class Parameter:
    """Declared in the flow class body: ``alpha = Parameter('alpha', help='...', default=0.01)``."""

    def __init__(self, name: str, default: Any = None, type: Any = None, help: str | None = None,
                 required: bool = False, show_default: bool = True, **_ignored: Any) -> None:
        self.name = name
        self.default = default
        self.help = help or ""
        self.required = bool(required)
        self.show_default = show_default
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

    def parse(self, text: str) -> Any:
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
            return conv(text)
        except (ValueError, TypeError, json.JSONDecodeError) as exc:
            raise ParameterError(
                f"invalid value {text!r} for {self.option}: expected {self.type_name} ({exc})"
            ) from None

    def default_value(self) -> Any:
        value = self.default
        if callable(value) and not isinstance(value, type):
            value = value()
        return value


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
