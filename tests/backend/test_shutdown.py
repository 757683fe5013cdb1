"""Shutdown cannot hang: a checked-out connection or a stuck cleanup step has a deadline."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import aiopg
from aiohttp import web

from backend.keys import HUB
from backend.shutdown import bounded_cleanup, close_pool, stop_task


async def test_close_pool_closes_a_leaked_connection(pg_reader_dsn: str) -> None:
    pool = await aiopg.create_pool(pg_reader_dsn, minsize=1, maxsize=2)
    leaked = await pool.acquire()  # a request that never gave its connection back
    started = time.monotonic()
    await close_pool(pool, grace=0.5)
    assert time.monotonic() - started < 3
    assert pool.closed and leaked.closed


async def test_a_stuck_cleanup_step_is_abandoned_not_awaited_forever() -> None:
    steps: list[str] = []

    async def stuck(app: web.Application) -> AsyncIterator[None]:
        steps.append("up")
        yield
        steps.append("down")
        await asyncio.Event().wait()  # never set
        steps.append("unreachable")

    app = web.Application()
    app.cleanup_ctx.append(bounded_cleanup(stuck, 0.3))
    runner = web.AppRunner(app)
    await runner.setup()
    started = time.monotonic()
    await runner.cleanup()
    assert time.monotonic() - started < 3
    assert steps == ["up", "down"]


async def test_the_app_bounds_every_cleanup_context(settings: Any) -> None:
    from backend.app import create_app

    app = create_app(settings)
    names = [getattr(ctx, "__name__", "") for ctx in app.cleanup_ctx]
    assert names and all(name.startswith("bounded_") for name in names)


async def test_stop_task_survives_a_swallowed_cancellation() -> None:
    """A loop that eats one cancellation (as Python 3.11's wait_for can) still gets stopped."""
    forever = asyncio.Event()
    swallowed = []

    async def loop_that_swallows() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            swallowed.append(True)       # carry on as if nothing happened
        await forever.wait()             # no timer: a plain `await task` would wait for ever

    task = asyncio.create_task(loop_that_swallows())
    await asyncio.sleep(0)
    started = asyncio.get_running_loop().time()
    await stop_task(task, 3.0, "test loop")
    assert swallowed == [True] and task.cancelled()
    assert asyncio.get_running_loop().time() - started < 2.5


async def test_hub_stop_ends_its_flush_loop(api: Any) -> None:
    hub = api.app[HUB]
    flusher = hub._flusher
    assert flusher is not None and not flusher.done()
    await hub.stop()
    assert flusher.done()
