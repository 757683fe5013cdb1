"""``config_expr``: a value computed from the flow's Configs when the flow runs.

``@project(name=config_expr("cfg").project)`` or ``@environment(vars={"v": config_expr("str(cfg.x)")})``
record the expression; ``resolve(value, flow_cls)`` evaluates every expression inside a decorator
argument (dicts, lists and tuples are walked) with the flow's Config values as names. A bare
name (``config_expr("cfg")``) can be followed by attribute and key accesses, which are delayed too.
"""

from __future__ import annotations

import re
import sys
from typing import Any

_IDENTIFIER = re.compile(r"^[A-Za-z_]\w*$")


class ConfigExprError(ValueError):
    """A config expression cannot be evaluated; the message names the expression."""


class DelayedValue:
    """An expression over Config values, evaluated by ``resolve`` once the flow class is known."""

    def __init__(self, expr: str, scope: dict[str, Any] | None = None,
                 path: tuple[tuple[str, Any], ...] = ()) -> None:
        self._expr = expr
        self._scope = scope or {}
        self._path = path

    def __getattr__(self, name: str) -> DelayedValue:
        if name.startswith("__") or not _IDENTIFIER.match(self._expr):
            raise AttributeError(name)
        return DelayedValue(self._expr, self._scope, self._path + (("attr", name),))

    def __getitem__(self, key: Any) -> DelayedValue:
        if not _IDENTIFIER.match(self._expr):
            raise TypeError(f"config_expr({self._expr!r}) cannot be indexed; write the index "
                            f"inside the expression")
        return DelayedValue(self._expr, self._scope, self._path + (("item", key),))

    def evaluate(self, configs: dict[str, Any]) -> Any:
        try:
            value = eval(self._expr, dict(self._scope), dict(configs))
        except Exception as exc:  # noqa: BLE001 - any failure names the expression
            raise ConfigExprError(f"config_expr({self._expr!r}) failed: {type(exc).__name__}: {exc}") from None
        for kind, raw_key in self._path:
            key = resolve_with(raw_key, configs)
            try:
                value = getattr(value, key) if kind == "attr" else value[key]
            except (AttributeError, KeyError, IndexError, TypeError) as exc:
                raise ConfigExprError(f"config_expr({self._expr!r}): no {key!r} in the value "
                                      f"({type(exc).__name__})") from None
        return value

    def __repr__(self) -> str:
        tail = "".join(f".{k}" if kind == "attr" else f"[{k!r}]" for kind, k in self._path)
        return f"config_expr({self._expr!r}){tail}"


def config_expr(expr: str) -> DelayedValue:
    """An expression using the flow's Configs by name, evaluated when the flow runs."""
    if not isinstance(expr, str) or not expr.strip():
        raise ConfigExprError(f"config_expr needs an expression string, got {expr!r}")
    return DelayedValue(expr, sys._getframe(1).f_globals)


def contains_delayed(value: Any) -> bool:
    if isinstance(value, DelayedValue):
        return True
    if isinstance(value, dict):
        return any(contains_delayed(k) or contains_delayed(v) for k, v in value.items())
    if isinstance(value, (list, tuple, set)):
        return any(contains_delayed(v) for v in value)
    return False


def resolve_with(value: Any, configs: dict[str, Any]) -> Any:
    """``value`` with every DelayedValue in it evaluated against ``configs`` (name -> value)."""
    if isinstance(value, DelayedValue):
        return value.evaluate(configs)
    if isinstance(value, dict):
        return {resolve_with(k, configs): resolve_with(v, configs) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_with(v, configs) for v in value]
    if isinstance(value, tuple):
        return tuple(resolve_with(v, configs) for v in value)
    if isinstance(value, set):
        return {resolve_with(v, configs) for v in value}
    return value


def resolve(value: Any, flow_cls: type) -> Any:
    """Evaluate the DelayedValues in ``value`` with the Configs of ``flow_cls``."""
    if not contains_delayed(value):
        return value
    from core_runtime.config import config_values

    return resolve_with(value, config_values(flow_cls))
