"""Which event loop ``flowscope serve`` runs on: uvloop (FLOWSCOPE_UVLOOP, the default) or asyncio's.

uvloop is asyncio's loop written on libuv in C: the same API (aiohttp and aiopg run on it
unchanged), less Python per callback, timer and socket readiness. Measured on the miss path in
docs/benchmarks.md ("Issue #19", the py19 subsection).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

log = logging.getLogger("flowscope.backend")

LoopFactory = Callable[[], asyncio.AbstractEventLoop]


def loop_factory(use_uvloop: bool) -> LoopFactory | None:
    """uvloop's loop factory when asked for and installed; None: asyncio's default loop."""
    if not use_uvloop:
        return None
    try:
        import uvloop
    except ImportError:   # a platform without a uvloop wheel (Windows): asyncio's loop still works
        log.warning("FLOWSCOPE_UVLOOP is on but uvloop is not installed: running on asyncio's event loop")
        return None
    factory: LoopFactory = uvloop.new_event_loop
    return factory


def loop_name(loop: asyncio.AbstractEventLoop) -> str:
    """"uvloop" or "asyncio": what /api/-/status reports as process.event_loop."""
    return "uvloop" if type(loop).__module__.split(".")[0] == "uvloop" else "asyncio"
