"""A bounded on-disk cache of immutable datastore objects (so S3 is read once per object).

Files are named by the SHA-1 of the key; the bound is enforced by deleting the least recently
used files (by mtime, touched on every hit). Used only from the datastore thread pool.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Any


class DiskCache:
    def __init__(self, directory: str, max_bytes: int) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()
        self.bytes = sum(p.stat().st_size for p in self.dir.glob("*/*") if p.is_file())

    def _path(self, key: str) -> Path:
        digest = hashlib.sha1(key.encode()).hexdigest()
        return self.dir / digest[:2] / digest

    def get(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            data = path.read_bytes()
        except OSError:
            self.misses += 1
            return None
        self.hits += 1
        try:
            os.utime(path)
        except OSError:
            pass
        return data

    def put(self, key: str, data: bytes) -> None:
        if len(data) > self.max_bytes // 4:
            return
        path = self._path(key)
        path.parent.mkdir(exist_ok=True)
        tmp = path.with_suffix(f".tmp{threading.get_ident()}")
        tmp.write_bytes(data)
        os.replace(tmp, path)  # atomic: a reader never sees half a file
        with self._lock:
            self.bytes += len(data)
            if self.bytes > self.max_bytes:
                self._evict()

    def _evict(self) -> None:
        files = sorted((p.stat().st_mtime, p) for p in self.dir.glob("*/*") if p.is_file())
        total = sum(p.stat().st_size for _, p in files)
        for _, path in files:
            if total <= self.max_bytes * 0.8:
                break
            size = path.stat().st_size
            path.unlink(missing_ok=True)
            total -= size
        self.bytes = total

    def stats(self) -> dict[str, Any]:
        total = self.hits + self.misses
        return {"dir": str(self.dir), "bytes": self.bytes, "max_bytes": self.max_bytes,
                "hits": self.hits, "misses": self.misses,
                "hit_rate": round(self.hits / total, 3) if total else None}
