"""Decoding pickles of plain values without running any code from them (no sandbox needed).

Most artifacts — numbers, strings, lists, dicts, sets, dates, decimals, UUIDs, and Metaflow's own
internal artifacts — are plain values: pickle protocol 2+ builds containers and scalars with
opcodes, and the few classes involved are named in an allow-list here. Anything else (numpy,
pandas, user classes, ``os.system``) is refused with ``RestrictedValueError`` and goes to the
sandboxed worker instead.

Allowed classes are handed out as throw-away subclasses made per decode: a pickle can set
attributes on any class it names (the BUILD opcode), and must not be able to change a class the
server itself uses (``uuid.UUID``) or the next decode's stand-ins. Constructors that could turn a
few bytes into gigabytes (``bytearray(10**10)``) are wrapped to refuse sizes.
"""

from __future__ import annotations

import codecs
import datetime
import decimal
import fractions
import io
import math
import pickle
import uuid
from collections import Counter, OrderedDict, defaultdict, deque, namedtuple
from collections.abc import Callable
from typing import Any

from backend.sandbox.render import text_of

_ForeachFrame = namedtuple("_ForeachFrame", ["step", "var", "num_splits", "index", "value"])


class ForeachFrame(_ForeachFrame):
    """Stand-in for Metaflow's ForeachFrame (a namedtuple of the foreach stack)."""

    __slots__ = ()
    __pickled_as__ = "metaflow.datastore.task_datastore.ForeachFrame"


class ExceptionRecord:
    """Stand-in for ``metaflow.exception.MetaflowExceptionWrapper``: only keeps its state."""

    __pickled_as__ = "metaflow.exception.MetaflowExceptionWrapper"

    def __init__(self, *args: Any) -> None:
        self.state: dict[str, Any] = {}

    def __setstate__(self, state: Any) -> None:
        self.state = dict(state) if isinstance(state, dict) else {"exception": repr(state)}

    def __repr__(self) -> str:
        return f"MetaflowExceptionWrapper({self.type}: {self.message})"

    @property
    def type(self) -> str:
        return str(self.state.get("type") or "")

    @property
    def message(self) -> str:
        return str(self.state.get("exception") or "")

    @property
    def stacktrace(self) -> str:
        return str(self.state.get("stacktrace") or "")


class IncludedFileRecord:
    """Stand-in for ``metaflow.includefile.IncludedFile``, the value of an IncludeFile parameter in
    ``_parameters``: only keeps its descriptor (where Metaflow uploaded the content, its size)."""

    __pickled_as__ = "metaflow.includefile.IncludedFile"

    def __init__(self, *args: Any) -> None:
        self.state: dict[str, Any] = {}

    def __setstate__(self, state: Any) -> None:
        self.state = dict(state) if isinstance(state, dict) else {}

    @property
    def descriptor(self) -> dict[str, Any]:
        d = self.state.get("_descriptor")
        return d if isinstance(d, dict) else {}

    def shown(self) -> dict[str, Any]:
        """How the run's parameters show it (the UI reads this shape; core_runtime's has ``path``)."""
        d = self.descriptor
        size = d.get("size")
        url = d.get("url")
        encoding = d.get("encoding")
        return {"type": "IncludeFile", "url": url if isinstance(url, str) else None,
                "size": size if isinstance(size, int) and not isinstance(size, bool) else None,
                "is_text": d.get("is_text") is not False,
                "encoding": encoding if isinstance(encoding, str) else None}

    def __repr__(self) -> str:
        shown = self.shown()
        size = "" if shown["size"] is None else f", {shown['size']} bytes"
        return f"IncludedFile({shown['url']!r}{size})"


class RestrictedValueError(ValueError):
    """The pickle needs something outside the allowed plain types."""


def _sized(cls: type) -> Callable[..., Any]:
    """``bytearray(n)`` / ``bytes(n)`` allocate n bytes: only accept existing data."""
    def make(*args: Any) -> Any:
        if args and isinstance(args[0], int):
            raise RestrictedValueError(f"{cls.__name__}() of a size is not a plain value")
        return cls(*args)
    return make


def _latin1(text: Any, encoding: str = "utf-8") -> bytes:
    """``_codecs.encode(str, 'latin1')``: how protocol 2 spells bytes. No other codec."""
    if not isinstance(text, str) or encoding.lower().replace("-", "").replace("_", "") != "latin1":
        raise RestrictedValueError(f"_codecs.encode with {encoding!r} is not a plain value")
    return codecs.encode(text, "latin-1")


# Immutable built-in types (no class attributes can be set on them) and pure constructors.
_PLAIN: dict[tuple[str, str], Any] = {
    ("builtins", "set"): set, ("builtins", "frozenset"): frozenset, ("builtins", "list"): list,
    ("builtins", "dict"): dict, ("builtins", "tuple"): tuple, ("builtins", "str"): str,
    ("builtins", "int"): int, ("builtins", "float"): float, ("builtins", "bool"): bool,
    ("builtins", "complex"): complex, ("builtins", "bytearray"): _sized(bytearray),
    ("builtins", "bytes"): _sized(bytes), ("_codecs", "encode"): _latin1,
    ("datetime", "datetime"): datetime.datetime, ("datetime", "date"): datetime.date,
    ("datetime", "time"): datetime.time, ("datetime", "timedelta"): datetime.timedelta,
    ("datetime", "timezone"): datetime.timezone, ("decimal", "Decimal"): decimal.Decimal,
    ("collections", "OrderedDict"): OrderedDict, ("collections", "defaultdict"): defaultdict,
    ("collections", "deque"): deque,
}
# Python classes: handed out as a fresh subclass per decode (see the module docstring).
_CLASSES: dict[tuple[str, str], type] = {
    ("__main__", "ForeachFrame"): ForeachFrame,
    ("metaflow.runtime", "ForeachFrame"): ForeachFrame,
    ("metaflow.datastore.task_datastore", "ForeachFrame"): ForeachFrame,
    ("metaflow.exception", "MetaflowExceptionWrapper"): ExceptionRecord,
    ("metaflow.includefile", "IncludedFile"): IncludedFileRecord,
    ("collections", "Counter"): Counter,
    ("fractions", "Fraction"): fractions.Fraction,
    ("uuid", "UUID"): uuid.UUID,
    ("uuid", "SafeUUID"): uuid.SafeUUID,
}


class _Unpickler(pickle.Unpickler):
    def __init__(self, data: bytes) -> None:
        super().__init__(io.BytesIO(data))
        self._made: dict[type, type] = {}

    def find_class(self, module: str, name: str) -> Any:
        if module == "__builtin__":   # protocol 0-2 pickles spell it the Python 2 way
            module = "builtins"
        plain = _PLAIN.get((module, name))
        if plain is not None:
            return plain
        base = _CLASSES.get((module, name))
        if base is None:
            raise RestrictedValueError(f"{module}.{name} is not a plain value")
        if base is uuid.SafeUUID:   # an Enum: nothing to subclass, nothing settable on members
            return base
        if base not in self._made:
            pickled_as = getattr(base, "__pickled_as__", f"{base.__module__}.{base.__qualname__}")
            attrs: dict[str, Any] = {"__pickled_as__": pickled_as, "__module__": base.__module__}
            if hasattr(base, "__slots__"):
                attrs["__slots__"] = ()
            self._made[base] = type(base.__name__, (base,), attrs)
        return self._made[base]

    def persistent_load(self, pid: Any) -> Any:
        raise RestrictedValueError("persistent ids are not plain values")


def restricted_loads(data: bytes) -> Any:
    """The value of a pickle made only of plain types (and Metaflow's internal stand-ins)."""
    try:
        return _Unpickler(data).load()
    except RestrictedValueError:
        raise
    except Exception as exc:  # noqa: BLE001 - a corrupt pickle can raise almost anything
        raise RestrictedValueError(f"cannot decode pickle: {type(exc).__name__}: {exc}") from None


def to_json_value(value: Any, budget: int = 200_000) -> Any:
    """A JSON-serializable form of a decoded plain value (tuples/sets become lists).

    Bounded in depth and in total nodes (a pickle can share one list a million times): past the
    bound, containers end with "..." and deeper values are shown as their truncated text.
    """
    left = [budget]

    def walk(v: Any, depth: int) -> Any:
        left[0] -= 1
        if v is None or isinstance(v, (bool, int, float, str)):
            if isinstance(v, float) and math.isnan(v):   # NaN is not JSON
                return "NaN"
            return v
        if depth > 50:
            return text_of(v, 200)[0]
        if isinstance(v, dict):
            out: dict[str, Any] = {}
            for k, x in v.items():
                if left[0] < 0:
                    out["..."] = "..."
                    break
                out[k if isinstance(k, str) else text_of(k, 200)[0]] = walk(x, depth + 1)
            return out
        if isinstance(v, (list, tuple, set, frozenset)):
            items: list[Any] = []
            for x in v:
                if left[0] < 0:
                    items.append("...")
                    break
                items.append(walk(x, depth + 1))
            return items
        if isinstance(v, ExceptionRecord):
            return {"type": v.type, "exception": v.message}
        return text_of(v, 200)[0]

    return walk(value, 0)
