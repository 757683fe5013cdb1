"""A size-bounded LRU of immutable values, with hit/miss counters for /api/-/status."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

V = TypeVar("V")


def _default_size(value: Any) -> int:
    if isinstance(value, (bytes, str)):
        return len(value)
    return 1024


class LruCache(Generic[V]):
    """Least-recently-used eviction once the summed sizes exceed ``max_bytes``.

    Only for values that never change once they exist (closed log chunks, finished DAGs,
    artifact renderings by sha), so there is nothing to invalidate.
    """

    def __init__(self, name: str, max_bytes: int, size_of: Callable[[V], int] = _default_size) -> None:
        self.name = name
        self.max_bytes = max_bytes
        self._size_of = size_of
        self._items: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self.bytes = 0
        self.hits = 0
        self.misses = 0
        self.evictions = 0

    def get(self, key: Hashable) -> V | None:
        item = self._items.get(key)
        if item is None:
            self.misses += 1
            return None
        self._items.move_to_end(key)
        self.hits += 1
        return item[0]

    def get_many(self, keys: list[Hashable]) -> list[V | None]:
        """get() of each key, in one call (counted the same)."""
        items = self._items
        found = items.get
        to_end = items.move_to_end
        out: list[V | None] = []
        for key in keys:
            item = found(key)
            if item is None:
                out.append(None)
            else:
                to_end(key)
                out.append(item[0])
        hits = len(out) - out.count(None)
        self.hits += hits
        self.misses += len(out) - hits
        return out

    def put(self, key: Hashable, value: V, size: int | None = None) -> None:
        """Keep ``value``; ``size`` (bytes) when the caller knows it better than ``size_of``
        (e.g. a memo whose key is the big part)."""
        size = self._size_of(value) if size is None else size
        if size > self.max_bytes // 4:
            return  # one huge value would flush everything else; serve it uncached
        old = self._items.pop(key, None)
        if old is not None:
            self.bytes -= old[1]
        self._items[key] = (value, size)
        self.bytes += size
        while self.bytes > self.max_bytes and self._items:
            _, (_, evicted) = self._items.popitem(last=False)
            self.bytes -= evicted
            self.evictions += 1

    def discard(self, key: Hashable) -> None:
        item = self._items.pop(key, None)
        if item is not None:
            self.bytes -= item[1]

    def keys(self) -> list[Hashable]:
        return list(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def stats(self) -> dict[str, Any]:
        total = self.hits + self.misses
        return {"entries": len(self._items), "bytes": self.bytes, "max_bytes": self.max_bytes,
                "hits": self.hits, "misses": self.misses, "evictions": self.evictions,
                "hit_rate": round(self.hits / total, 3) if total else None}
