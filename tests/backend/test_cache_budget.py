"""One memory budget for every cache: the split, /api/-/status, and byte estimates that are true.

Each cache is bounded by the bytes its entries are estimated to hold; the estimates are compared
here with what Python's allocator really holds for them (tracemalloc, after a garbage
collection), within a tolerance, on realistic values. docs/benchmarks.md has the same comparison
for the timeline index of the 100,000-task run (bench/cache_memory.py).
"""

from __future__ import annotations

import asyncio
import gc
import random
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import orjson
import psycopg2
import pytest

from backend.cache.artifact_worker import rendered_size
from backend.cache.budget import MIB, RESPONSES, SHARES, CacheBudget
from backend.cache.lru import LruCache
from backend.cache.status import OUTSIDE_BUDGET
from backend.cache.timeline_index import TimelineIndexCache
from backend.cache.versions import JsonVersions
from backend.db import timeline_index
from backend.keys import TIMELINE_INDEX
from backend.metaflow_store import roots
from backend.metaflow_store.cards import CardFile
from backend.metaflow_store.mflog import parse_mflog
from backend.metaflow_store.roots import MAX_S3_CLIENTS
from backend.resources.digest import signature_of
from backend.sources.dags import dag_size
from backend.sources.metaflow_reader import lines_size, listing_size
from backend.sources.native_logs import ParsedChunk
from contract.logs_format import chunk_records
from contract.settings import Settings
from tests.backend.api_helpers import get_json
from tests.backend.conftest import AiohttpClient
from tests.backend.live_helpers import new_run, new_store

T = TypeVar("T")
N_TASKS = 20_000
TOLERANCE = 0.15


def held(make: Callable[[], T]) -> tuple[T, int]:
    """The value ``make`` returns and the bytes still allocated for it once it is made."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        value = make()
        gc.collect()
        return value, tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


def assert_close(estimate: int, real: int, what: str) -> None:
    assert abs(estimate - real) <= TOLERANCE * real, f"{what}: estimated {estimate} bytes, holds {real}"


# -- the split -------------------------------------------------------------------------------------

def test_shares_split_the_whole_budget(settings: Settings) -> None:
    assert abs(sum(s.part for s in SHARES) - 1.0) < 1e-9
    assert len({s.name for s in SHARES}) == len(SHARES) and RESPONSES not in {s.name for s in SHARES}
    budget = CacheBudget(settings.replace(cache_memory_mb=512, response_cache_mb=64))
    assert budget.bounds[RESPONSES] == 64 * MIB
    assert sum(budget.bounds.values()) <= 512 * MIB and sum(budget.bounds.values()) > 512 * MIB - len(SHARES)
    # The response cache never takes more than half; turned off, the others share everything.
    assert CacheBudget(settings.replace(cache_memory_mb=100, response_cache_mb=400)).bounds[RESPONSES] == 50 * MIB
    off = CacheBudget(settings.replace(cache_memory_mb=100, response_cache_mb=0))
    assert off.bounds[RESPONSES] == 0 and sum(off.bounds.values()) > 100 * MIB - len(SHARES)


async def test_status_shows_every_cache_under_the_budget(aiohttp_client: AiohttpClient,
                                                         make_app: Callable[..., Any]) -> None:
    api = await aiohttp_client(make_app(cache_memory_mb=96, response_cache_mb=16))
    data = (await get_json(api, "/api/-/status"))["data"]
    caches, budget = data["caches"], data["cache_budget"]
    assert budget["memory_bytes"] == 96 * MIB
    assert set(budget["caches"]) == {RESPONSES, *(s.name for s in SHARES)}
    assert sum(c["max_bytes"] for c in budget["caches"].values()) <= 96 * MIB
    assert "failure_signatures" in caches
    # Outside the budget, bounded by a count: boto3 clients, one per S3 endpoint of the settings.
    assert caches["s3_clients"]["entries"] <= caches["s3_clients"]["max_entries"] == MAX_S3_CLIENTS
    flat = {**{k: v for k, v in caches.items() if k not in ("metaflow", *OUTSIDE_BUDGET)},
            **{f"metaflow_{k}": v for k, v in caches["metaflow"].items()}}
    assert set(flat) == set(budget["caches"])
    for name, stats in flat.items():
        assert stats["max_bytes"] == budget["caches"][name]["max_bytes"], name
        assert {"bytes", "hits", "misses", "hit_rate"} <= set(stats), name
        assert stats["bytes"] <= stats["max_bytes"], name
    assert budget["used_bytes"] == sum(c["bytes"] for c in budget["caches"].values())


# -- the estimates ---------------------------------------------------------------------------------

def _text(rng: random.Random, i: int) -> str:
    return f"epoch {i} loss={rng.random():.6f} " + "x" * rng.randint(0, 120)


def test_log_chunk_estimate() -> None:
    rng = random.Random(7)
    data = "".join(f"{1_700_000_000_000 + i}\t{_text(rng, i)}\n" for i in range(2000)).encode()

    def parsed() -> ParsedChunk:
        chunk = ParsedChunk(1, chunk_records(data))
        chunk.slice(1, 2001)   # every line parsed: what the estimate counts
        return chunk

    chunk, real = held(parsed)
    assert_close(chunk.size, real, "a parsed log chunk")


def test_metaflow_log_and_card_listing_estimates() -> None:
    rng = random.Random(8)
    mflog = "".join(f"[MFLOG|0|2026-01-01T00:00:{i % 60:02d}.{i % 1000:03d}Z|task|{i}]{_text(rng, i)}\n"
                    for i in range(2000)).encode()
    lines, real = held(lambda: parse_mflog(mflog))
    assert_close(lines_size(lines), real, "a Metaflow log's lines")

    def listing() -> tuple[str, list[CardFile]]:
        cards = []
        for i in range(300):
            name = f"default-{rng.getrandbits(128):032x}.html"
            card_type, _, card_hash = name.removesuffix(".html").partition("-")
            cards.append(CardFile(name, card_type, None, card_hash, 1000 + i, 1_700_000_000_000 + i))
        return "F/runs/1/steps/start/tasks/2/cards", cards

    value, real = held(listing)
    assert_close(listing_size(value), real, "a card listing")


def test_dag_and_rendered_value_estimates() -> None:
    steps = {f"step_{i}": {"type": "linear", "next": [f"step_{i + 1}"], "doc": f"Step {i} does things.",
                           "decorators": [{"name": "retry", "attributes": {"times": 3}}], "line": 10 * i,
                           "foreach_artifact": None, "matching_join": None} for i in range(30)}
    text = orjson.dumps({"start_step": "step_0", "end_step": "step_29", "steps": steps, "parameters": []})
    dag, real = held(lambda: orjson.loads(text))
    assert_close(dag_size(dag), real, "a DAG")
    value = orjson.dumps({"type": "dict", "text": "{" + "x" * 50_000 + "}", "truncated": False,
                          "json": {f"k{i}": [i, i * 0.5, f"v{i}"] for i in range(2000)}})
    rendered, real = held(lambda: orjson.loads(value))
    assert_close(rendered_size(rendered), real, "a rendered artifact value")


def _failures(n: int, seed: int) -> list[dict[str, Any]]:
    """Failure rows as a big run has them: a few tracebacks, messages that differ by ids."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        kind = i % 6
        tb = ('Traceback (most recent call last):\n  File "/usr/lib/python3.11/runpy.py", line 3, in run\n    x()\n'
              f'  File "/home/me/flow_{kind}.py", line {10 + kind}, in train_{kind}\n    fit(rows, part={kind})\n'
              '  File "/venv/lib/python3.11/site-packages/sk/fit.py", line 9, in fit\n    raise E\n'
              + "".join(f'  File "/venv/lib/python3.11/site-packages/sk/deep_{d}.py", line {d}, in f{d}\n    g()\n'
                        for d in range(rng.randint(0, 20)))
              + f"ValueError{kind}: row {i}")
        rows.append({"exception_type": f"ValueError{kind}",
                     "exception_message": f"row {rng.randint(0, 10**6)} of s3://bucket/key/part-{i}.csv "
                                          f"(id {rng.getrandbits(40):010x}) " + "x" * rng.randint(0, 200),
                     "traceback": tb})
    return rows


def test_failure_signature_memo_estimate() -> None:
    memo: LruCache[Any] = LruCache("failure_signatures", 512 * MIB)

    def fill() -> int:
        for row in _failures(3000, 9):
            signature_of(row, memo)
        return len(memo)

    entries, real = held(fill)
    assert entries > 3000      # a normalised message per row, a frame per traceback, the signatures
    assert_close(memo.bytes, real, "failure signature memo")


def test_failure_signature_memo_stays_in_its_bound() -> None:
    rows = _failures(2000, 10)
    memo: LruCache[Any] = LruCache("failure_signatures", 256 * 1024)
    for row in rows + rows:
        assert signature_of(row, memo) == signature_of(row)     # the same answers as unmemoized
        assert memo.bytes <= memo.max_bytes
    assert memo.evictions > 0 and memo.hits > 0


def test_s3_clients_are_capped() -> None:
    before = roots.s3_client_stats()
    made = [roots._s3_client(f"http://127.0.0.1:{9000 + i}") for i in range(MAX_S3_CLIENTS + 3)]
    assert len(set(map(id, made))) == MAX_S3_CLIENTS + 3
    stats = roots.s3_client_stats()
    assert stats["entries"] == MAX_S3_CLIENTS and stats["evictions"] >= before["evictions"] + 3
    # The most recent endpoint is reused, not built again.
    assert roots._s3_client(f"http://127.0.0.1:{9000 + MAX_S3_CLIENTS + 2}") is made[-1]
    assert roots.s3_client_stats()["hits"] == stats["hits"] + 1


@pytest.fixture(scope="module")
def big_run(pg_dsn: str) -> Iterator[dict[str, Any]]:
    """A finished run of 20,000 tasks, one in ten retried (bulk SQL, triggers off)."""
    store = new_store(pg_dsn)
    run = new_run(store, "BudgetFlow")
    conn = psycopg2.connect(pg_dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SET session_replication_role = replica")
        cur.execute("""
            INSERT INTO tasks (run_pk, step_name, task_id, status, attempt, created_at, started_at,
                               finished_at, foreach_index, foreach_value)
            SELECT %(run)s, CASE WHEN i %% 3 = 0 THEN 'start' ELSE 'end' END, 'b' || i, 'completed',
                   CASE WHEN i %% 10 = 0 THEN 1 ELSE 0 END, 1000000 + i * 7, 1000000 + i * 7,
                   1000000 + i * 7 + 3000, i, 'item-' || i
            FROM generate_series(0, %(n)s - 1) i""", {"run": run.run_pk, "n": N_TASKS})
        cur.execute("""
            INSERT INTO attempts (task_pk, attempt, run_pk, status, started_at, finished_at)
            SELECT task_pk, a, run_pk, CASE WHEN a < attempt THEN 'failed' ELSE 'completed' END,
                   started_at, finished_at FROM tasks, generate_series(0, attempt) a WHERE run_pk = %s""",
                    (run.run_pk,))
        cur.execute("SET session_replication_role = DEFAULT")
    store.finish_run(run, "completed", "done")
    conn.close()
    yield {"run_id": run.run_id, "run_pk": run.run_pk}


async def test_timeline_index_estimate(aiohttp_client: AiohttpClient, make_app: Callable[..., Any],
                                       big_run: dict[str, Any]) -> None:
    """The index, its row orders, levels and answers, as the timeline handler builds them."""
    api = await aiohttp_client(make_app(response_cache_mb=0, cache_memory_mb=2048))
    url = f"/api/flows/BudgetFlow/runs/{big_run['run_id']}/timeline"
    await get_json(api, f"/api/flows/BudgetFlow/runs/{big_run['run_id']}/dag")
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for params in ({}, {"sort": "end"}, {"group": "flat"}, {"status": "failed"},
                       {"start": 1_000_000, "end": 1_010_000}, {"row_start": 100, "span": 50}):
            await get_json(api, url, width=900, rows=150, **params)
        gc.collect()
        real = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    stats = (await get_json(api, "/api/-/status"))["data"]["caches"]["timeline_index"]
    assert stats["entries"] == 1 and stats["tasks"] == N_TASKS and stats["attempts"] == N_TASKS + N_TASKS // 10
    assert stats["views"] == 4 and stats["levels"] >= 2 and stats["responses"] == 6
    assert_close(stats["bytes"], real, "the timeline index with 4 row orders")


async def test_timeline_index_stays_in_its_bound(aiohttp_client: AiohttpClient, make_app: Callable[..., Any],
                                                 big_run: dict[str, Any]) -> None:
    """A bound smaller than one index with its row orders: trimmed, never over, same answers."""
    roomy = await aiohttp_client(make_app(response_cache_mb=0, cache_memory_mb=2048))
    index = roomy.server.app[TIMELINE_INDEX]
    url = f"/api/flows/BudgetFlow/runs/{big_run['run_id']}/timeline"
    await get_json(roomy, url)
    one_view = index.bytes
    # Room for the index and about one row order: each new order pushes the older ones out.
    tight = await aiohttp_client(make_app(response_cache_mb=0))
    cache = tight.server.app[TIMELINE_INDEX]
    cache.max_bytes = int(one_view * 1.3)
    for params in ({}, {"sort": "end"}, {"group": "flat"}, {"sort": "duration"}, {}):
        want = (await get_json(roomy, url, **params))["data"]
        got = (await get_json(tight, url, **params))["data"]
        assert got == want
        assert 0 < cache.bytes <= cache.max_bytes and len(cache.runs) == 1
    assert cache.hits >= 4
    # Smaller than the index alone: not kept at all, the SQL path answers.
    too_small = await aiohttp_client(make_app(response_cache_mb=0))
    small = too_small.server.app[TIMELINE_INDEX]
    small.max_bytes = one_view // 4
    for params in ({}, {"sort": "end"}):
        # The SQL path's buckets are not rounded to a zoom level: the same rows, lanes and groups.
        sql, index = (await get_json(too_small, url, **params))["data"], (await get_json(roomy, url, **params))["data"]
        assert (sql["total_rows"], sql["groups"], len(sql["lanes"])) == \
            (index["total_rows"], index["groups"], len(index["lanes"]))
    assert small.bytes == 0 and small.too_big == 1      # read once, then left to the SQL path


async def test_concurrent_requests_read_the_index_once(aiohttp_client: AiohttpClient,
                                                       make_app: Callable[..., Any],
                                                       big_run: dict[str, Any]) -> None:
    api = await aiohttp_client(make_app(response_cache_mb=0))
    url = f"/api/flows/BudgetFlow/runs/{big_run['run_id']}/timeline"
    answers = await asyncio.gather(*(get_json(api, url, width=700) for _ in range(6)))
    assert all(a == answers[0] for a in answers)
    stats = (await get_json(api, "/api/-/status"))["data"]["caches"]["timeline_index"]
    assert stats["misses"] == 1 and stats["shared_in_flight"] == 5 and stats["entries"] == 1


def _index(run_pk: int, n: int, step: str = "s") -> timeline_index.RunIndex:
    t = {"pk": list(range(run_pk * 10**6, run_pk * 10**6 + n)), "step": [step] * n,
         "status": ["completed"] * n, "s": list(range(n)), "e": list(range(1, n + 1))}
    a: dict[str, list[Any] | None] = {"pk": t["pk"], "attempt": [0] * n, "status": ["completed"] * n,
                                      "s": t["s"], "e": t["e"]}
    return timeline_index.build(t, a)


def test_index_cache_is_lru_by_bytes() -> None:
    a, b, c = _index(1, 3000), _index(2, 3000), _index(3, 3000)
    cache = TimelineIndexCache(a.nbytes + b.nbytes + 100)
    cache.put((1, 0), a)
    cache.put((2, 0), b)
    assert cache.get((1, 0)) is a            # 1 is now the most recently used
    cache.put((3, 0), c)
    assert set(cache.runs) == {(1, 0), (3, 0)} and cache.evictions == 1
    cache.put((1, 5), _index(1, 10))         # a newer change_seq replaces the run's older index
    assert (1, 0) not in cache.runs and (1, 5) in cache.runs
    assert cache.bytes <= cache.max_bytes
    # Growing past the bound (row orders added) trims the grown index's views, newest kept.
    v1 = timeline_index.view(c, ["s"], "start", "step", [], [])
    timeline_index.view(c, ["s"], "end", "step", [], [])
    assert cache.get((3, 0)) is c
    cache.max_bytes = c.nbytes - v1.nbytes // 2
    cache.fit()
    assert list(cache.runs) == [(3, 0)] and len(c.views) == 1 and cache.bytes <= cache.max_bytes


def test_an_index_counts_what_it_grows_by() -> None:
    idx = _index(4, 100)
    assert idx.base_bytes > 0 and idx.nbytes == idx.base_bytes
    timeline_index.view(idx, ["s"], "start", "step", [], [])
    assert idx.nbytes > idx.base_bytes


def test_timeline_cache_is_the_apps(make_app: Callable[..., Any]) -> None:
    """Two apps (two databases, two datastores) never share indexes: each has its own AppKey."""
    one, two = make_app(), make_app()
    assert one[TIMELINE_INDEX] is not two[TIMELINE_INDEX]


def test_run_version_estimate() -> None:
    """Run JSON texts as Postgres writes them (ASCII, ~700 bytes), one entry per run."""
    rng = random.Random(10)

    def fill() -> JsonVersions:
        versions = JsonVersions("run_versions", 512 * MIB)
        for pk in range(3000):
            tags = ", ".join(f'"tag-{rng.randint(0, 99)}"' for _ in range(rng.randint(0, 12)))
            text = (f'{{"flow_id" : "Flow{pk % 40}", "run_id" : "{pk}", "tags" : [{tags}], '
                    f'"parameters" : {{"alpha" : {rng.random():f}}}}}' + " " * rng.randint(300, 700))
            versions.put(10**9 + pk, 10**12 + pk, text)
        return versions

    versions, real = held(fill)
    assert len(versions.items) == 3000
    assert_close(versions.items.bytes, real, "run JSON by version")
