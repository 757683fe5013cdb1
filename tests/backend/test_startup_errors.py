"""A bad FLOWSCOPE_CACHE_DIR stops the backend at start-up with a DatastoreError naming the
setting and the path (the CLI prints it as one `error: …` line). It used to surface as an
OSError that `flowscope serve` reported as "cannot listen: No such file or directory".

The app is started as `flowscope serve` starts it (an AppRunner, cleaned up even though its setup
failed), not through the aiohttp_client fixture, which leaves its client session and the reader
pool the failed start opened unclosed ("Unclosed connection", "Unclosed client session" at exit).
The same start through the real command, stderr and all: tests/backend/test_startup_noise.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from contract.datastore import DatastoreError


async def test_unusable_cache_dir_is_named(make_app: Any, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    where = str(blocker / "cache")
    runner = web.AppRunner(make_app(cache_dir=where))
    try:
        with pytest.raises(DatastoreError) as info:
            await runner.setup()
    finally:
        await runner.cleanup()
    assert str(info.value) == (f"cannot create the on-disk cache at {where} (FLOWSCOPE_CACHE_DIR={where}): "
                               "Not a directory; set FLOWSCOPE_CACHE_DIR to a writable directory, or to off")
