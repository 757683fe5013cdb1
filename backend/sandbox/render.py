"""A decoded artifact value as the API shows it: type name, bounded text, and JSON when it is JSON.

Used in the sandbox (on whatever the pickle produced) and in the server (on values the safe
decoder produced, which are only plain types). Every walk has a total budget, not only a
per-container one: a pickle can make a list hold the same list a thousand times, a thousand
levels deep, which a per-container limit would still print in full.
"""

from __future__ import annotations

import math
from collections import Counter, OrderedDict, defaultdict, deque
from typing import Any

MAX_DEPTH = 6
MAX_ITEMS = 1000
# Containers walked item by item (within the budget) instead of trusting their repr().
WALKED_MAPPINGS = (OrderedDict, defaultdict, Counter)


class _Full(Exception):
    pass


def type_name(value: object) -> str:
    cls = type(value)
    pickled_as = getattr(cls, "__pickled_as__", None)   # the safe decoder's stand-ins
    if isinstance(pickled_as, str):
        return pickled_as
    module = cls.__module__ or ""
    return cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"


def _plain_repr(value: object) -> str:
    try:
        return repr(value)
    except ValueError:   # an int over Python's 4,300-digit str() limit
        if isinstance(value, int):
            return f"<int of {value.bit_length()} bits>"
        raise


class _Text:
    def __init__(self, limit: int) -> None:
        self.parts: list[str] = []
        self.left = limit

    def add(self, text: str) -> None:
        if len(text) > self.left:
            self.parts.append(text[: self.left])
            self.left = 0
            raise _Full
        self.parts.append(text)
        self.left -= len(text)

    def value(self, v: object, depth: int) -> None:
        kind = type(v)
        if kind is dict:
            self.items(v.items(), "{", "}", depth, pairs=True)   # type: ignore[attr-defined]
        elif isinstance(v, WALKED_MAPPINGS):
            self.items(v.items(), f"{type_name(v)}({{", "})", depth, pairs=True)
        elif kind is list:
            self.items(v, "[", "]", depth)
        elif kind is tuple:
            self.items(v, "(", ",)" if len(v) == 1 else ")", depth)   # type: ignore[arg-type]
        elif isinstance(v, tuple) and hasattr(v, "_fields"):   # a namedtuple (e.g. ForeachFrame)
            self.items(v, f"{type_name(v)}(", ")", depth)
        elif isinstance(v, deque):
            self.items(v, f"{type_name(v)}([", "])", depth)
        elif kind is set or kind is frozenset:
            if not v:
                self.add(f"{kind.__name__}()")
            else:
                self.items(v, "{" if kind is set else "frozenset({", "}" if kind is set else "})", depth)
        elif isinstance(v, str | bytes | bytearray) and len(v) > self.left:
            self.add(_plain_repr(v[: self.left + 2]))   # enough to fill what is left
        else:
            self.add(_plain_repr(v))

    def items(self, items: Any, open_: str, close: str, depth: int, pairs: bool = False) -> None:
        self.add(open_)
        if depth >= MAX_DEPTH:
            self.add("...")
        else:
            for i, item in enumerate(items):
                if i:
                    self.add(", ")
                if i >= MAX_ITEMS:
                    self.add("...")
                    break
                if pairs:
                    key, val = item
                    self.value(key, depth + 1)
                    self.add(": ")
                    self.value(val, depth + 1)
                else:
                    self.value(item, depth + 1)
        self.add(close)


def text_of(value: object, max_chars: int) -> tuple[str, bool]:
    """(text, truncated): a repr-like text of at most ``max_chars`` characters."""
    out = _Text(max_chars)
    try:
        out.value(value, 0)
    except _Full:
        return "".join(out.parts), True
    return "".join(out.parts), False


def _json(value: object, budget: list[int], depth: int) -> Any:
    """The value as JSON types, or raise _Full when it is not JSON or its encoding would pass the
    budget (characters, roughly)."""
    budget[0] -= len(value) + 2 if isinstance(value, str) else 4   # about its encoded size
    if budget[0] < 0 or depth > 100:
        raise _Full
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        if abs(value) >= 1 << 53:   # JavaScript would round it
            raise _Full
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _Full
        return value
    if type(value) is dict:
        if not all(isinstance(k, str) for k in value):
            raise _Full
        return {k: _json(v, budget, depth + 1) for k, v in value.items()}
    if type(value) is list:
        return [_json(v, budget, depth + 1) for v in value]
    raise _Full


def render(value: object, max_chars: int) -> dict[str, Any]:
    text, truncated = text_of(value, max_chars)
    out: dict[str, Any] = {"type": type_name(value), "text": text, "truncated": truncated}
    try:
        out["json"] = _json(value, [max_chars], 0)
    except (_Full, RecursionError):
        pass
    return out
