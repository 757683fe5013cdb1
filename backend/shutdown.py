"""Shutdown that cannot hang: every cleanup step has a deadline.

aiohttp runs each cleanup context's teardown in turn; one that waits forever (aiopg's
``wait_closed`` waits for every checked-out connection, including one a cancelled request
never gave back) would wedge the whole shutdown — and a test's teardown with it. Each
teardown here gets a deadline; past it, the step is logged and abandoned.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiopg
from aiohttp import web

log = logging.getLogger("flowscope.shutdown")

# How long a pool waits for checked-out connections before closing them, and how long any one
# cleanup step may take in all.
POOL_GRACE_S = 5.0
CLEANUP_DEADLINE_S = 15.0

CleanupCtx = Callable[[web.Application], AsyncIterator[None]]


def bounded_cleanup(ctx: Callable[[web.Application], Any], seconds: float) -> CleanupCtx:
    """The cleanup context ``ctx`` with its teardown limited to ``seconds``."""

    async def bounded(app: web.Application) -> AsyncIterator[None]:
        gen = ctx(app)
        await gen.__anext__()
        yield
        try:
            await asyncio.wait_for(gen.__anext__(), seconds)
        except StopAsyncIteration:
            pass
        except TimeoutError:
            log.error("shutdown: %s did not finish within %.0f s; abandoned",
                      getattr(ctx, "__name__", ctx), seconds)

    bounded.__name__ = f"bounded_{getattr(ctx, '__name__', 'cleanup')}"
    return bounded


async def stop_task(task: asyncio.Task[Any] | None, seconds: float, what: str) -> None:
    """Cancel a background task and wait for it, at most ``seconds``.

    Python 3.11's ``asyncio.wait_for`` (used inside aiopg) can swallow a cancellation that
    arrives as the awaited result completes; the task then carries on, and a plain
    ``await task`` after ``cancel()`` waits for ever. Loops stopped here also check a flag, and
    the wait is bounded: a task that still runs is cancelled again and abandoned.
    """
    if task is None or task.done():
        return
    for _ in range(3):   # a swallowed cancellation gets another
        task.cancel()
        done, _pending = await asyncio.wait([task], timeout=seconds / 3)
        if done:
            if not task.cancelled() and task.exception() is not None:
                log.warning("shutdown: %s ended with %r", what, task.exception())
            return
    log.error("shutdown: %s did not stop within %.0f s; abandoned", what, seconds)


async def close_pool(pool: aiopg.Pool, grace: float) -> None:
    """Close a pool; connections still checked out after ``grace`` seconds are closed too."""
    pool.close()
    try:
        await asyncio.wait_for(pool.wait_closed(), grace)
        return
    except TimeoutError:
        in_use: Any = pool.size - pool.freesize
        log.warning("shutdown: %s pool connection(s) still in use after %.0f s; closing them", in_use, grace)
    pool.terminate()
    try:
        await asyncio.wait_for(pool.wait_closed(), grace)
    except TimeoutError:
        log.error("shutdown: the pool did not close; abandoned")
