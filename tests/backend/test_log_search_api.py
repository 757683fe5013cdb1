"""Run-wide log search over HTTP on logs written to the real datastore and Postgres.

Every answer is compared with the per-line reference (tests/backend/log_search_helpers.py)
applied to the chunks in the documented order (task, attempt, stream, chunk), so the concurrent
reads, the raw-bytes rejection and the whole-chunk regexes must change nothing: not the lines, not
their order, not the limits' cut-off points, not scanned_bytes.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from backend.api.search import INLINE_BYTES, READ_AHEAD
from contract.datastore import log_chunk_key, open_datastore
from contract.settings import Settings
from core_runtime.store import RunRef, RunStore, TaskRef
from tests.backend.live_helpers import new_run, new_store
from tests.backend.log_search_helpers import CHUNK_A, CHUNK_B, records, reference

AiohttpClient = Callable[..., Any]


@dataclass
class Chunk:
    task: TaskRef
    attempt: int
    stream: str
    seq: int
    first_line: int
    data: bytes


@dataclass
class Log:
    run: RunRef
    chunks: list[Chunk]     # in the order the search reads them

    @property
    def url(self) -> str:
        return f"/api/flows/{self.run.flow_id}/runs/{self.run.run_id}/search"


def _write(store: RunStore, ds: Any, run: RunRef, task: TaskRef, attempt: int, stream: str,
           chunks: list[bytes]) -> list[Chunk]:
    out, line = [], 1
    for seq, data in enumerate(chunks):
        n = len(data.removesuffix(b"\n").split(b"\n")) if data else 0
        key = log_chunk_key(run.flow_id, run.run_id, task.step_name, task.task_id, attempt, stream, seq)
        ds.put(key, data)
        store.record_log_chunk(task, attempt, stream, seq, line, n, len(data), 1, 2, key)
        out.append(Chunk(task, attempt, stream, seq, line, data))
        line += n
    return out


def _edge_chunks(n: int) -> list[bytes]:
    """n chunks, each with a matching line first and last (the chunk edges) and one in between."""
    return [records(f"17000000{i:05d}\tedge first {i} ERROR", f"17000000{i:05d}\tmiddle {i}",
                    f"17000000{i:05d}\tedge last {i} error") for i in range(n)]


@pytest.fixture(scope="module")
def tricky_log(pg_dsn: str, app_settings: Settings) -> Log:
    store, ds = new_store(pg_dsn), open_datastore(app_settings)
    run = new_run(store, flow=f"LogSearchFlow{uuid.uuid4().hex[:6]}")
    first = store.create_task(run, "start")
    silent = store.create_task(run, "start")            # no log at all: skipped
    many = store.create_task(run, "start")
    last = store.create_task(run, "end")
    for t in (first, silent, many, last):
        store.start_attempt(t, 0)
    store.start_attempt(first, 1)
    big = records(*(f"1700000000{i:03d}\tbig chunk line {i} {'ERROR' if i % 97 == 0 else 'ok'} {'x' * 60}"
                    for i in range(400)))
    assert len(big) > INLINE_BYTES      # scanned in a thread
    chunks = (_write(store, ds, run, first, 0, "stderr", [records("1700000000000\tERROR on stderr")])
              + _write(store, ds, run, first, 0, "stdout", [CHUNK_A, CHUNK_B + b"\n", big])
              + _write(store, ds, run, first, 1, "stdout", [records("1700000000000\tattempt 1 ERROR")])
              + _write(store, ds, run, many, 0, "stdout", _edge_chunks(3 * READ_AHEAD + 1))
              + _write(store, ds, run, last, 0, "stdout", [CHUNK_B]))
    return Log(run, chunks)


@pytest.fixture()
async def client(aiohttp_client: AiohttpClient, make_app: Callable[..., web.Application]) -> TestClient[Any, Any]:
    return await aiohttp_client(make_app())


async def _search(client: TestClient[Any, Any], url: str, **params: Any) -> list[dict[str, Any]]:
    resp = await client.get(url, params=params)
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("application/x-ndjson")
    return [json.loads(line) for line in (await resp.text()).splitlines()]


def _expected(log: Log, q: str, regex: bool = False, ignore_case: bool = False,
              keep: Callable[[Chunk], bool] = lambda c: True, limit: int = 1000,
              max_bytes: int | None = None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    scanned, reason = 0, None
    for c in (c for c in log.chunks if keep(c)):
        if max_bytes is not None and scanned >= max_bytes:
            reason = f"read limit of {max_bytes} bytes reached"
            break
        scanned += len(c.data)
        for number, ts, text in reference(c.data, c.first_line, q, regex, ignore_case):
            out.append({"type": "match", "task": f"{log.run.flow_id}/{log.run.run_id}/{c.task.step_name}/"
                        f"{c.task.task_id}", "step_name": c.task.step_name, "task_id": c.task.task_id,
                        "attempt": c.attempt, "stream": c.stream, "line": number, "ts": ts, "text": text})
            if len(out) >= limit:
                reason = f"result limit of {limit} matches reached"
                break
        if reason:
            break
    return out + [{"type": "done", "matches": len(out), "scanned_bytes": scanned,
                   "truncated": reason is not None, "reason": reason}]


QUERIES = [("ERROR", False, False), ("error", False, True), ("1\tStart", False, False), ("abc", False, False),
           ("17000000000", False, False), ("\ufffd", False, False), ("straße", False, True),
           (r"^abc$", True, False), (r"error$", True, True), (r"\Aedge", True, False), (r"[^x]abc", True, False),
           (r"^\d+\t", True, False), ("^$", True, False), (r"ERROR\Z", True, False), ("zebra", False, False)]


@pytest.mark.parametrize(("q", "regex", "ignore_case"), QUERIES)
async def test_search_answers_equal_per_line_matching(client: TestClient[Any, Any], tricky_log: Log, q: str,
                                                      regex: bool, ignore_case: bool) -> None:
    params: dict[str, Any] = {"q": q}
    if regex:
        params["regex"] = "true"
    if ignore_case:
        params["ignore_case"] = "true"
    got = await _search(client, tricky_log.url, **params)
    assert got == _expected(tricky_log, q, regex, ignore_case)


async def test_order_and_filters(client: TestClient[Any, Any], tricky_log: Log) -> None:
    log = tricky_log
    got = await _search(client, log.url, q="ERROR")
    tasks = [c.task.task_pk for c in log.chunks]
    assert tasks == sorted(tasks)
    # Matches at both edges of every one of the many small chunks, in chunk order.
    edges = [m["text"] for m in got if m["type"] == "match" and m["text"].startswith("edge first")]
    assert edges == [f"edge first {i} ERROR" for i in range(3 * READ_AHEAD + 1)]
    assert await _search(client, log.url, q="ERROR", stream="stderr") == _expected(
        log, "ERROR", keep=lambda c: c.stream == "stderr")
    assert await _search(client, log.url, q="ERROR", step="end") == _expected(
        log, "ERROR", keep=lambda c: c.task.step_name == "end")
    first = log.chunks[0].task
    assert await _search(client, log.url, q="ERROR", task=first.task_id, attempt=1) == _expected(
        log, "ERROR", keep=lambda c: c.task == first and c.attempt == 1)


@pytest.mark.parametrize("limit", [1, 3, 20, 34])
async def test_result_limit_cuts_at_the_same_match(client: TestClient[Any, Any], tricky_log: Log, limit: int) -> None:
    got = await _search(client, tricky_log.url, q="e", ignore_case="true", limit=limit)
    assert got == _expected(tricky_log, "e", ignore_case=True, limit=limit)
    assert got[-1]["truncated"] is True and len(got) == limit + 1


@pytest.mark.parametrize("max_bytes", [1, 700, 5000, 40000])
async def test_read_limit_stops_at_the_same_chunk(aiohttp_client: AiohttpClient, tricky_log: Log,
                                                  make_app: Callable[..., web.Application], max_bytes: int) -> None:
    client = await aiohttp_client(make_app(search_max_bytes=max_bytes))
    got = await _search(client, tricky_log.url, q="ERROR")
    assert got == _expected(tricky_log, "ERROR", max_bytes=max_bytes)
    assert got[-1]["reason"] == f"read limit of {max_bytes} bytes reached"


async def test_time_limit(aiohttp_client: AiohttpClient, tricky_log: Log,
                          make_app: Callable[..., web.Application]) -> None:
    client = await aiohttp_client(make_app(search_timeout=0.000001))
    got = await _search(client, tricky_log.url, q="ERROR")
    assert got[-1] == {"type": "done", "matches": 0, "scanned_bytes": 0, "truncated": True,
                       "reason": "time limit of 1e-06 s reached"}


@pytest.fixture(scope="module")
def big_log(pg_dsn: str, app_settings: Settings) -> Log:
    """~6 MB in 64 KiB chunks: the kind of log that used to hold up every other request."""
    store, ds = new_store(pg_dsn), open_datastore(app_settings)
    run = new_run(store, flow=f"LogSearchBigFlow{uuid.uuid4().hex[:6]}")
    task = store.create_task(run, "start")
    store.start_attempt(task, 0)
    chunks, line = [], 0
    for _ in range(96):
        lines = []
        for _ in range(700):
            line += 1
            lines.append(f"1700000000000\tline {line}: fetch record id={line * 7919 % 1000003} {'.' * (line % 40)}")
        chunks.append(records(*lines))
    return Log(run, _write(store, ds, run, task, 0, "stdout", chunks))


@pytest.mark.parametrize(("q", "regex", "ignore_case"), [("id=7919 ", False, False), ("ID=7919 ", False, True),
                                                         (r"id=79\d9 \.*$", True, False), (r"id=(7919|15838) [^z]*$", True, False)])
async def test_other_requests_stay_fast_during_a_big_search(client: TestClient[Any, Any], big_log: Log, q: str,
                                                            regex: bool, ignore_case: bool) -> None:
    lags: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        while not done.is_set():
            t = time.perf_counter()
            await asyncio.sleep(0.001)
            lags.append(time.perf_counter() - t - 0.001)

    params = {"q": q, **({"regex": "true"} if regex else {}), **({"ignore_case": "true"} if ignore_case else {})}
    tick = asyncio.create_task(ticker())
    try:
        got = await _search(client, big_log.url, **params)
    finally:
        done.set()
        await tick
    assert got == _expected(big_log, q, regex, ignore_case)
    assert got[-1]["scanned_bytes"] == sum(len(c.data) for c in big_log.chunks) and not got[-1]["truncated"]
    assert got[-1]["matches"] > 0
    # The search lets the event loop run other work while ~6 MB are scanned: a handler that never
    # yielded would let the ticker run at most once or twice. (How long each stretch takes is a
    # benchmark, bench/logs.py; wall time here depends on how loaded the machine is.)
    assert len(lags) >= 5, f"the event loop ran other work only {len(lags)} times during the search"
