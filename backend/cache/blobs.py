"""Datastore reads for the event loop: in a bounded thread pool, under a timeout, cached.

A datastore call that hangs (a dead S3 endpoint, a stuck NFS mount) costs one pool thread and
fails the request with 504 after ``datastore_timeout``; it never blocks the event loop or other
requests' cache hits. Keys under the datastore are immutable once written (content-addressed
blobs, numbered log chunks, cards per attempt), so everything read is cacheable.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from backend.cache.disk import DiskCache
from backend.cache.lru import LruCache
from contract.datastore import Datastore


class BlobReader:
    def __init__(self, datastore: Datastore, *, timeout: float, threads: int, memory: LruCache[bytes],
                 disk: DiskCache | None) -> None:
        self.datastore = datastore
        self.timeout = timeout
        self.memory = memory
        self.disk = disk
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="datastore")
        self.in_flight = 0
        self.timeouts = 0
        self.errors = 0

    async def get(self, key: str) -> bytes:
        cached = self.memory.get(key)
        if cached is not None:
            return cached
        loop = asyncio.get_running_loop()
        self.in_flight += 1
        try:
            data = await asyncio.wait_for(loop.run_in_executor(self._pool, self._read, key), self.timeout)
        except TimeoutError:
            self.timeouts += 1
            raise TimeoutError(f"datastore read of {key} took longer than {self.timeout:g} s") from None
        except Exception:
            self.errors += 1
            raise
        finally:
            self.in_flight -= 1
        self.memory.put(key, data)
        return data

    def _read(self, key: str) -> bytes:
        if self.disk is not None:
            hit = self.disk.get(key)
            if hit is not None:
                return hit
        data = self.datastore.get(key)
        if self.disk is not None:
            self.disk.put(key, data)
        return data

    def close(self) -> None:
        # Do not wait for stuck reads: shutdown must not hang on a dead datastore.
        self._pool.shutdown(wait=False, cancel_futures=True)

    def stats(self) -> dict[str, Any]:
        return {"root": self.datastore.root, "in_flight": self.in_flight, "timeouts": self.timeouts,
                "errors": self.errors, "timeout_s": self.timeout,
                "memory": self.memory.stats(), "disk": self.disk.stats() if self.disk else None}
