"""What cached Python values cost in memory, for the caches' byte bounds.

``deep_size`` walks containers with ``sys.getsizeof`` (each object counted once); cheap enough
for values that took longer to make than to walk (a rendered artifact, a timeline answer), not
for a run's whole index, which is estimated from samples (backend/db/timeline_index.py).
Small ints, None and booleans are shared by the interpreter and cost nothing extra.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

_FREE = (type(None), bool)


def deep_size(value: Any, seen: set[int] | None = None) -> int:
    """Bytes of ``value`` and everything it holds (dict, list, tuple, set, str, bytes, int, float)."""
    seen = set() if seen is None else seen
    total = 0
    stack = [value]
    while stack:
        obj = stack.pop()
        if isinstance(obj, _FREE) or (type(obj) is int and -5 <= obj <= 256):
            continue
        key = id(obj)
        if key in seen:
            continue
        seen.add(key)
        total += sys.getsizeof(obj)
        if isinstance(obj, dict):
            stack.extend(obj.keys())
            stack.extend(obj.values())
        elif isinstance(obj, (list, tuple, set, frozenset)):
            stack.extend(obj)
    return total


def sampled_size(items: Sequence[Any], samples: int = 256) -> int:
    """Estimated deep size of a long list of similar items: the list itself plus the mean deep
    size of up to ``samples`` evenly spaced items, times their number."""
    n = len(items)
    if n == 0:
        return sys.getsizeof(items)
    step = max(1, n // samples)
    picked = items[::step]
    mean = sum(deep_size(item) for item in picked) / len(picked)
    return sys.getsizeof(items) + int(mean * n)
