"""Decoding Metaflow's internal artifacts without running any code from the pickle.

Plain containers and scalars need no class lookup at all in pickle protocol 2+; the only
classes allowed are inert stand-ins for the two Metaflow types internal artifacts use
(``ForeachFrame``, ``MetaflowExceptionWrapper``). Everything else is refused, so a hostile or
user-defined pickle cannot import or call anything in the server process.
"""

from __future__ import annotations

import io
import math
import pickle
from collections import namedtuple
from typing import Any

ForeachFrame = namedtuple("ForeachFrame", ["step", "var", "num_splits", "index", "value"])


class ExceptionRecord:
    """Stand-in for ``metaflow.exception.MetaflowExceptionWrapper``: only keeps its state."""

    def __init__(self, *args: Any) -> None:
        self.state: dict[str, Any] = {}

    def __setstate__(self, state: Any) -> None:
        self.state = dict(state) if isinstance(state, dict) else {"exception": repr(state)}

    @property
    def type(self) -> str:
        return str(self.state.get("type") or "")

    @property
    def message(self) -> str:
        return str(self.state.get("exception") or "")

    @property
    def stacktrace(self) -> str:
        return str(self.state.get("stacktrace") or "")


_ALLOWED: dict[tuple[str, str], Any] = {
    ("__main__", "ForeachFrame"): ForeachFrame,
    ("metaflow.runtime", "ForeachFrame"): ForeachFrame,
    ("metaflow.datastore.task_datastore", "ForeachFrame"): ForeachFrame,
    ("metaflow.exception", "MetaflowExceptionWrapper"): ExceptionRecord,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "bytearray"): bytearray,
    ("builtins", "complex"): complex,
}


class RestrictedValueError(ValueError):
    """The pickle needs something outside the allowed plain types."""


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise RestrictedValueError(f"{module}.{name} is not a plain value") from None


def restricted_loads(data: bytes) -> Any:
    """The value of a pickle made only of builtins (and Metaflow's internal stand-ins)."""
    try:
        return _Unpickler(io.BytesIO(data)).load()
    except RestrictedValueError:
        raise
    except Exception as exc:  # noqa: BLE001 - a corrupt pickle can raise almost anything
        raise RestrictedValueError(f"cannot decode pickle: {type(exc).__name__}: {exc}") from None


def to_json_value(value: Any, depth: int = 0) -> Any:
    """A JSON-serializable form of a decoded plain value (tuples/sets become lists)."""
    if depth > 50:
        return repr(value)[:200]
    if value is None or isinstance(value, (bool, int, float, str)):
        if isinstance(value, float) and math.isnan(value):   # NaN is not JSON
            return "NaN"
        return value
    if isinstance(value, dict):
        return {str(k): to_json_value(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_json_value(v, depth + 1) for v in value]
    if isinstance(value, ExceptionRecord):
        return {"type": value.type, "exception": value.message}
    return repr(value)[:200]
