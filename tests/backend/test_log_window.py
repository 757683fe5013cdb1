"""Log pages (from_line/limit, cursor, tail) and the download, on chunks in the real datastore.

The pages come from a cache of split, lazily parsed chunks: every window, wherever it falls
against the chunk edges, must equal what parsing the whole log gives, the first time and again
from the cache, and the cache must never serve one datastore's chunk to an app on another.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from contract.datastore import LocalDatastore, log_chunk_key, open_datastore
from contract.logs_format import parse_chunk
from contract.settings import Settings
from core_runtime.store import RunRef, TaskRef
from tests.backend.api_helpers import get_json
from tests.backend.live_helpers import new_run, new_store
from tests.backend.log_search_helpers import CHUNK_A, CHUNK_B, records

AiohttpClient = Callable[..., Any]
CHUNKS = [CHUNK_A, records(*(f"17000000{i:05d}\tmiddle chunk line {i}" for i in range(50))), CHUNK_B + b"\n",
          records("1700000000099\tthe last chunk has one line")]


def _lines(chunks: list[bytes]) -> list[dict[str, Any]]:
    out, first = [], 1
    for data in chunks:
        parsed = parse_chunk(data, first)
        out += [{"line": n, "ts": ts, "text": text} for n, ts, text in parsed]
        first += len(parsed)
    return out


def _write_log(pg_dsn: str, ds: Any, chunks: list[bytes], flow: str | None = None) -> tuple[RunRef, TaskRef]:
    store = new_store(pg_dsn)
    run = new_run(store, flow=flow or f"LogWindowFlow{uuid.uuid4().hex[:6]}")
    task = store.create_task(run, "start")
    store.start_attempt(task, 0)
    line = 1
    for seq, data in enumerate(chunks):
        n = len(data.removesuffix(b"\n").split(b"\n"))
        key = log_chunk_key(run.flow_id, run.run_id, "start", task.task_id, 0, "stdout", seq)
        ds.put(key, data)
        store.record_log_chunk(task, 0, "stdout", seq, line, n, len(data), 1, 2, key)
        line += n
    store.finish_attempt(task, 0, status="completed", exit_code=0)
    return run, task


def _url(run: RunRef, task: TaskRef) -> str:
    return f"/api/flows/{run.flow_id}/runs/{run.run_id}/steps/start/tasks/{task.task_id}/logs/stdout"


@pytest.fixture(scope="module")
def window_log(pg_dsn: str, app_settings: Settings) -> str:
    return _url(*_write_log(pg_dsn, open_datastore(app_settings), CHUNKS))


@pytest.fixture()
async def client(aiohttp_client: AiohttpClient, make_app: Callable[..., web.Application]) -> TestClient[Any, Any]:
    # The response cache off: every request below must reach the handler (and the chunk cache).
    return await aiohttp_client(make_app(response_cache_mb=0))


async def test_every_window_equals_the_parsed_log(client: TestClient[Any, Any], window_log: str) -> None:
    everything = _lines(CHUNKS)
    total = len(everything)
    assert total == 20 + 50 + 7 + 1
    for start in [1, 2, 19, 20, 21, 22, 69, 70, 71, 72, 77, 78, 79, 100]:
        for limit in [1, 2, 5, 50, 57, 1000]:
            for _ in range(2):      # the second time from the chunk cache
                page = await get_json(client, window_log, from_line=start, limit=limit)
                assert page["data"] == everything[start - 1:start - 1 + limit], (start, limit)
                assert page["total_lines"] == total and page["complete"] is True
                assert (page["next"] is None) == (start + limit > total)


async def test_cursor_pages_and_tail(client: TestClient[Any, Any], window_log: str) -> None:
    everything = _lines(CHUNKS)
    got: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = await get_json(client, window_log, limit=7, **({"cursor": cursor} if cursor else {}))
        got += page["data"]
        cursor = page["next"]
        if not cursor:
            break
    assert got == everything
    for tail in [1, 2, 8, 9, 58, 78, 500]:
        page = await get_json(client, window_log, tail=tail)
        assert page["data"] == everything[-tail:] and page["total_lines"] == len(everything)
    assert (await get_json(client, window_log, 400, tail=3, from_line=2))["error"]
    download = await client.get(window_log + "/download")
    assert await download.text() == "".join(ln["text"] + "\n" for ln in everything)


async def test_an_empty_log(client: TestClient[Any, Any], pg_dsn: str, app_settings: Settings) -> None:
    url = _url(*_write_log(pg_dsn, open_datastore(app_settings), []))
    for params in [{}, {"from_line": 5}, {"tail": 10}]:
        page = await get_json(client, url, **params)
        assert page["data"] == [] and page["total_lines"] == 0 and page["next"] is None


async def test_the_chunk_cache_is_per_datastore(aiohttp_client: AiohttpClient, pg_dsn: str,
                                                make_app: Callable[..., web.Application], tmp_path: Path) -> None:
    """Two apps on two datastores holding different bytes under the same key (and rows in one
    database): each sees its own chunk, whichever asked first."""
    one, two = LocalDatastore(tmp_path / "one"), LocalDatastore(tmp_path / "two")
    run, task = _write_log(pg_dsn, one, [records("1\tfrom datastore one")])
    two.put(log_chunk_key(run.flow_id, run.run_id, "start", task.task_id, 0, "stdout", 0), records("1\tfrom datastore two"))
    apps = [await aiohttp_client(make_app(datastore=str(tmp_path / name), cache_dir="off", response_cache_mb=0))
            for name in ("one", "two")]
    for _ in range(2):
        texts = [(await get_json(c, _url(run, task)))["data"][0]["text"] for c in apps]
        assert texts == ["from datastore one", "from datastore two"]
