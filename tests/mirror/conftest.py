"""Fixtures of the mirror tests: the source server, fresh Flowscope databases, a mirror in-process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from backend.app import create_app
from backend.mirror.mirror import Mirror
from contract.settings import Settings, load_settings
from tests.mirror.source_harness import SourceDb, SourceServer, fresh_flowscope


@pytest.fixture(scope="session")
def source_server() -> Iterator[SourceServer]:
    server = SourceServer()
    yield server
    server.stop()


def mirror_settings(pg_server_dsn: str, source: SourceDb, home: Path, **more: Any) -> Settings:
    """Settings of a mirror into a new Flowscope database (fast polls for tests)."""
    writer, reader = fresh_flowscope(pg_server_dsn)
    values: dict[str, Any] = {
        "home": str(home), "dsn": writer, "reader_dsn": reader, "datastore": str(home / "datastore"), "user": "tester",
        "mirror_source": source.reader_dsn, "mirror_schema": source.names.schema,
        "mirror_table_flows": source.names.flows, "mirror_table_runs": source.names.runs,
        "mirror_table_steps": source.names.steps, "mirror_table_tasks": source.names.tasks,
        "mirror_table_metadata": source.names.metadata, "mirror_table_artifact": source.names.artifact,
        "mirror_poll_interval": 0.2, "mirror_liveness_interval": 1.0, "mirror_batch_runs": 50}
    values.update(more)
    return load_settings({}, **values)


@pytest.fixture()
def make_settings(pg_server_dsn: str, tmp_path: Path) -> Callable[..., Settings]:
    def make(source: SourceDb, **more: Any) -> Settings:
        return mirror_settings(pg_server_dsn, source, tmp_path, **more)
    return make


async def backfill(settings: Settings) -> Mirror:
    mirror = Mirror(settings)
    assert await mirror.run(asyncio.Event(), backfill_only=True) == 0
    return mirror


@asynccontextmanager
async def live_mirror(settings: Settings) -> AsyncIterator[Mirror]:
    """The mirror running in this event loop until the block ends."""
    mirror = Mirror(settings)
    stop = asyncio.Event()
    task = asyncio.create_task(mirror.run(stop))
    try:
        yield mirror
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


@pytest.fixture()
def api_for(aiohttp_client: Any, tmp_path: Path) -> Callable[..., Any]:
    """The UI API app on a mirror's Flowscope database."""
    async def make(settings: Settings, **more: Any) -> TestClient[Any, Any]:
        s = settings.replace(cache_dir=str(tmp_path / "cache"), static_dir=str(tmp_path), **more)
        client: TestClient[Any, Any] = await aiohttp_client(create_app(s))
        return client
    return make


async def wait_for(check: Callable[[], Any], timeout: float, what: str, every: float = 0.2) -> Any:
    """Await ``check()`` (sync or async) until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        got = check()
        if asyncio.iscoroutine(got):
            got = await got
        if got:
            return got
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(every)
