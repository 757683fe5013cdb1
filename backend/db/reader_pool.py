"""The reader pool: aiopg's pool without the per-statement bookkeeping when a connection is free.

aiopg's ``Pool`` is right but costly per statement: every acquire enters an ``async_timeout`` (a
timer), takes the pool's condition lock and walks every free connection (checking whether it
closed or should be recycled), and every release starts a Task (``_wakeup``) that takes the lock to
notify the condition, which the releasing request then awaits: one more Task and one more pass of
the event loop per statement, even when nobody waits. ``Db`` (backend/db/query.py) lets at most
``maxsize`` statements ask the pool at a time and the pool is opened whole, so a connection is
almost always free.

``ReaderPool`` keeps aiopg's pool and connections and adds a fast path on each side:

* acquire: a free, open connection is taken at once when no acquirer is waiting (so nobody is
  passed); otherwise aiopg's own acquire (which waits, opens connections up to ``maxsize``,
  drops closed ones) runs.
* release: a connection goes back to the free list without the wake-up Task when no acquirer waits
  in aiopg's acquire and the pool is not closing (``wait_closed`` waits on the condition too); a
  closed connection is dropped and a replacement is opened in the background, as aiopg's next
  acquire would have done.

Everything else (``size``, ``freesize``, ``close``, ``terminate``, ``wait_closed``) is aiopg's.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from typing import Any

import aiopg
import psycopg2.extensions
from aiopg.utils import create_completed_future

log = logging.getLogger("flowscope.backend")


class ReaderPool(aiopg.Pool):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._waiting = 0          # acquirers inside aiopg's own acquire (they wait on the condition)
        self._refill: asyncio.Task[None] | None = None

    async def _acquire(self) -> aiopg.Connection:
        free = self._free
        if free and not self._waiting and not self._closing:
            conn = free.popleft()
            if not conn.closed:
                self._used.add(conn)
                return conn
            free.appendleft(conn)  # aiopg's acquire drops it (and opens another if need be)
        self._waiting += 1
        try:
            waited: aiopg.Connection = await super()._acquire()
            return waited
        finally:
            self._waiting -= 1

    def release(self, conn: aiopg.Connection) -> asyncio.Future[None]:
        if self._waiting or self._closing or conn in self._terminated or conn not in self._used:
            return super().release(conn)     # aiopg's: it also wakes whoever waits
        self._used.remove(conn)
        done = create_completed_future(self._loop)
        if conn.closed:    # a cancelled or timed-out statement closes its connection (aiopg)
            self._replace()
            return done
        status = conn.raw.get_transaction_status()
        if status != psycopg2.extensions.TRANSACTION_STATUS_IDLE:
            warnings.warn(f"Invalid transaction status on released connection: {status}", ResourceWarning,
                          stacklevel=2)
            conn.close()
            self._replace()
            return done
        self._free.append(conn)
        return done

    def _replace(self) -> None:
        """Open connections up to ``minsize`` again, in the background (aiopg did it on the next
        acquire, which the fast path skips)."""
        if self._refill is None or self._refill.done():
            self._refill = self._loop.create_task(self._fill(), name="reader-pool-refill")

    async def _fill(self) -> None:
        if self._closing:
            return
        try:
            async with self._cond:
                await self._fill_free_pool(False)
                self._cond.notify()
        except Exception as exc:  # noqa: BLE001 - the database is down: the next acquire tries (and reports) again
            log.warning("reader pool: could not reopen a connection: %s", exc)


async def create_reader_pool(dsn: str, *, minsize: int, maxsize: int, timeout: float, **kwargs: Any) -> ReaderPool:
    """Like ``aiopg.create_pool`` (same arguments and defaults), opened with ``minsize`` connections."""
    kwargs.setdefault("enable_json", True)
    kwargs.setdefault("enable_hstore", True)
    kwargs.setdefault("enable_uuid", True)
    kwargs.setdefault("echo", False)
    kwargs.setdefault("on_connect", None)
    kwargs.setdefault("pool_recycle", -1.0)
    pool = await ReaderPool.from_pool_fill(dsn, minsize, maxsize, timeout, **kwargs)
    assert isinstance(pool, ReaderPool)
    return pool
