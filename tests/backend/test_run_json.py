"""The run's JSON built by Postgres (backend/db/run_json.py) on awkward rows, through every way a
run is answered: the list, the list grouped, one run, a flow's latest run and the live feeds.

The expected objects are computed here, in Python, the way the shape was built before Postgres
built it (the oracle), from the row's raw columns: nulls, unicode and control characters, big
integers, empty and non-object parameters, empty tags, a lost heartbeat.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import orjson
import psycopg2
import pytest
from multidict import MultiDict

from backend.api.respond import dumps
from backend.cache.versions import RUN_VERSIONS
from backend.db.liveness import live_params
from backend.keys import BLOBS, DB
from backend.live.events import FeedContext, Target
from backend.resources.runs import prepare_runs, run_feed, runs_feed
from contract.liveness import lost_reason
from contract.settings import Settings
from tests.backend.api_helpers import get_json

FLOW = "JsonShapeFlow"
BIG = 2 ** 62 + 12345


def rows(now: int) -> list[dict[str, Any]]:
    """The awkward rows, with times relative to ``now`` (when they are written)."""
    return [
        # a finished run with unicode, quotes, backslashes and control characters everywhere
        {"run_id": "ünï-\"q\"\\b", "run_number": None, "user_name": "zoë \u2603\n\t", "tags": ["ä", "a b", "\u0001x"],
         "system_tags": [], "source": "metaflow", "status": "completed", "status_reason": None, "failed_step": None,
         "parameters": {"α": [1, 2.5, None, True], "nested": {"k": "v\u2028"}, "big": BIG}, "origin_run_id": None,
         "created_at": now - 9000, "started_at": now - 8000, "finished_at": now - 1000, "heartbeat_at": now - 1000,
         "n_tasks": 3, "n_running": 0, "n_completed": 3, "n_failed": 0},
        # running, heartbeat lost long ago: failed, its running tasks counted as failed
        {"run_id": "7", "run_number": 7, "user_name": None, "tags": [], "system_tags": ["user:x", "runtime:dev"],
         "source": "native", "status": "running", "status_reason": None, "failed_step": None,
         "parameters": {}, "origin_run_id": "3", "created_at": now - 900_000, "started_at": now - 890_000,
         "finished_at": None, "heartbeat_at": now - 600_000, "n_tasks": 10, "n_running": 4, "n_completed": 3,
         "n_failed": 1},
        # running with a fresh heartbeat, pending tasks, a non-object parameters value, a huge run number
        {"run_id": "8", "run_number": BIG, "user_name": "u", "tags": ["t"], "system_tags": [], "source": "native",
         "status": "running", "status_reason": "still going", "failed_step": None, "parameters": [1, 2],
         "origin_run_id": None, "created_at": now - 5000, "started_at": None, "finished_at": None,
         "heartbeat_at": now, "n_tasks": 5, "n_running": 1, "n_completed": 1, "n_failed": 0},
        # failed with a reason; a JSON null as parameters
        {"run_id": "9", "run_number": 9, "user_name": "u", "tags": ["t", "u"], "system_tags": [], "source": "native",
         "status": "failed", "status_reason": "ValueError: boom", "failed_step": "explode", "parameters": None,
         "origin_run_id": None, "created_at": now - 4000, "started_at": now - 3900, "finished_at": now - 3000,
         "heartbeat_at": now - 3000, "n_tasks": 2, "n_running": 0, "n_completed": 1, "n_failed": 1},
    ]


ROWS: list[dict[str, Any]] = []   # filled by the fixture


def expected(row: dict[str, Any], seq: int, stale_before: int) -> dict[str, Any]:
    """The oracle: the Python shape the API answered before Postgres built it."""
    hb = row["heartbeat_at"] or row["started_at"] or row["created_at"]
    stale = row["status"] == "running" and hb < stale_before
    running, failed = row["n_running"], row["n_failed"]
    if stale:
        running, failed = 0, failed + running
    total = row["n_tasks"]
    finished, started = row["finished_at"], row["started_at"]
    params = row["parameters"]
    return {
        "flow_id": FLOW, "run_id": row["run_id"], "run_number": row["run_number"],
        "pathspec": f"{FLOW}/{row['run_id']}", "user": row["user_name"], "tags": row["tags"],
        "system_tags": row["system_tags"], "source": row["source"], "status": "failed" if stale else row["status"],
        "status_reason": row["status_reason"], "failed_step": row["failed_step"],
        "origin_run_id": row["origin_run_id"], "created_at": row["created_at"], "started_at": started,
        "finished_at": finished, "duration_ms": finished - started if finished and started else None,
        "heartbeat_at": row["heartbeat_at"], "parameters": params if isinstance(params, dict) else {},
        "task_counts": {"total": total, "pending": max(0, total - row["n_running"] - row["n_completed"]
                                                      - row["n_failed"]),
                        "running": running, "completed": row["n_completed"], "failed": failed},
        "seq": seq,
    }


@pytest.fixture(scope="module")
def seeded(pg_dsn: str) -> Iterator[dict[str, int]]:
    """Inserts the rows (once); yields run_id -> change_seq; removes them after this module, so
    other modules' tests on the same database never see them."""
    seqs: dict[str, int] = {}
    now = int(time.time() * 1000)
    ROWS[:] = rows(now)
    with psycopg2.connect(pg_dsn) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO flows (flow_id, created_at) VALUES (%s, %s) ON CONFLICT DO NOTHING", (FLOW, now))
        for row in ROWS:
            cols = [k for k in row if k != "parameters"]
            cur.execute(
                f"INSERT INTO runs (flow_id, parameters, {', '.join(cols)}) "
                f"VALUES (%s, %s::jsonb, {', '.join(['%s'] * len(cols))}) RETURNING change_seq",
                [FLOW, orjson.dumps(row["parameters"]).decode(), *(row[c] for c in cols)])
            seqs[row["run_id"]] = cur.fetchone()[0]
    yield seqs
    with psycopg2.connect(pg_dsn) as conn, conn.cursor() as cur:
        cur.execute("DELETE FROM runs WHERE flow_id = %s", (FLOW,))
        cur.execute("DELETE FROM flows WHERE flow_id = %s", (FLOW,))


def _check(run: dict[str, Any], seqs: dict[str, int], stale_before: int) -> None:
    row = next(r for r in ROWS if r["run_id"] == run["run_id"])
    want = expected(row, seqs[row["run_id"]], stale_before)
    if want["status"] != row["status"]:
        # heartbeat lost: the reason names the last sign of life (UTC) and the timeout; the same
        # words as the runtime's client writes
        hb = row["heartbeat_at"] or row["started_at"] or row["created_at"]
        at = lost_reason(hb, 1.0).split(" (")[0]        # "heartbeat lost at 2026-12-05 14:03:12 UTC"
        assert re.fullmatch(re.escape(at) + r" \(no signal for over \d+(\.\d+)? (s|min)\)", run["status_reason"]), \
            run["status_reason"]
        want["status_reason"] = run["status_reason"]
    assert run == want
    assert list(run) == list(want)   # the same keys in the same order as the schema lists them


async def test_run_json_in_every_answer(api: Any, seeded: dict[str, int], app_settings: Settings) -> None:
    stale_before = live_params(app_settings)["stale_before"]
    assert app_settings.heartbeat_timeout < 600   # the stale row's heartbeat is 10 min old
    listed = (await get_json(api, "/api/runs", flow=FLOW, limit=100))["data"]
    assert len(listed) == len(ROWS)
    for run in listed:
        _check(run, seeded, stale_before)
    # limit=1 pages run through the cursor built from the slim list row
    paged: list[dict[str, Any]] = []
    cursor = None
    for _ in range(10):
        page = await get_json(api, "/api/runs", flow=FLOW, limit=1, **({"cursor": cursor} if cursor else {}))
        paged.extend(page["data"])
        cursor = page["next"]
        if cursor is None:
            break
    assert paged == listed
    grouped = (await get_json(api, "/api/runs", group_by="flow", flow=FLOW, group_limit=100))["data"]
    assert [g["group"] for g in grouped] == [FLOW] and grouped[0]["runs"] == listed
    for row in ROWS:
        one = (await get_json(api, f"/api/flows/{FLOW}/runs/{row['run_id']}"))["data"]
        assert one.pop("file_name") is None
        _check(one, seeded, stale_before)
        with_source = (await get_json(api, f"/api/flows/{FLOW}/runs/{row['run_id']}", source="true"))["data"]
        assert with_source.pop("source_code") is None and with_source.pop("file_name") is None
        _check(with_source, seeded, stale_before)
    latest = (await get_json(api, f"/api/flows/{FLOW}"))["data"]["latest_run"]
    _check(latest, seeded, stale_before)


async def test_run_json_in_feeds(api: Any, seeded: dict[str, int], app_settings: Settings) -> None:
    """The runs feed (a list's subscription) and the run feed (one run's) send the same objects."""
    live = live_params(app_settings)
    ctx = FeedContext(api.app[DB], live, api.app[BLOBS], None)
    target = Target("runs", {}, MultiDict(flow=FLOW))
    prepare_runs(target)
    batch = await runs_feed(target, min(seeded.values()) - 1, ctx)
    assert len(batch.events) == len(ROWS)
    for event in batch.events:
        # what the hub sends: the event's data encoded by orjson (backend/live/hub.py)
        _check(orjson.loads(dumps(event.data)), seeded, live["stale_before"])
    for row in ROWS:
        run_pk = (await api.app[DB].one("SELECT run_pk FROM runs WHERE flow_id = %s AND run_id = %s",
                                        (FLOW, row["run_id"])))["run_pk"]
        one = await run_feed(Target("run", {"flow": FLOW, "run": row["run_id"]}, MultiDict(), run_pk), -1, ctx)
        assert len(one.events) == 1
        _check(orjson.loads(dumps(one.events[0].data)), seeded, live["stale_before"])


async def test_run_lists_with_run_json_held_by_version(aiohttp_client: Any, make_app: Any, seeded: dict[str, int],
                                                       app_settings: Settings, pg_dsn: str) -> None:
    """Run lists take finished runs' JSON from the run_versions cache (backend/cache/run_versions.py):
    the answers are those of the cache turned off, a write shows at once (a new row version), and
    a run stored as running is never held (its JSON depends on the clock)."""
    held = await aiohttp_client(make_app(response_cache_mb=0))
    plain = await aiohttp_client(make_app(response_cache_mb=0, version_cache=False))
    versions = held.app[RUN_VERSIONS]
    assert versions.enabled and not plain.app[RUN_VERSIONS].enabled
    stale_before = live_params(app_settings)["stale_before"]

    async def both(**q: Any) -> list[dict[str, Any]]:
        a, b = (await get_json(held, "/api/runs", **q))["data"], (await get_json(plain, "/api/runs", **q))["data"]
        assert a == b, q
        return a

    first = await both(flow=FLOW, limit=100)
    finished = [r for r in ROWS if r["status"] != "running"]
    assert versions.misses == len(finished) and versions.hits == 0   # built once, in one statement
    again = await both(flow=FLOW, limit=100)
    assert again == first and versions.hits == len(finished)
    for run in again:
        _check(run, seeded, stale_before)
    pks = {r["run_pk"]: r["run_id"] for r in await held.app[DB].all(
        "SELECT run_pk, run_id FROM runs WHERE flow_id = %s", (FLOW,))}
    kept = {pks[pk] for pk in pks if versions.items.get(pk) is not None}
    assert kept == {r["run_id"] for r in finished}   # the running ones (one stale) never
    grouped = (await get_json(held, "/api/runs", group_by="flow", flow=FLOW, group_limit=100))["data"]
    assert grouped[0]["runs"] == first
    # A write (a tag added) gives the row a new version: the next page shows it, not the held one.
    run_id = finished[-1]["run_id"]
    with psycopg2.connect(pg_dsn) as conn, conn.cursor() as cur:
        cur.execute("UPDATE runs SET tags = tags || '{fresh}' WHERE flow_id = %s AND run_id = %s "
                    "RETURNING change_seq", (FLOW, run_id))
        new_seq = cur.fetchone()[0]
    try:
        after = {r["run_id"]: r for r in await both(flow=FLOW, limit=100)}
        assert "fresh" in after[run_id]["tags"] and after[run_id]["seq"] == new_seq > seeded[run_id]
    finally:
        with psycopg2.connect(pg_dsn) as conn, conn.cursor() as cur:
            cur.execute("UPDATE runs SET tags = array_remove(tags, 'fresh') WHERE flow_id = %s AND run_id = %s "
                        "RETURNING change_seq", (FLOW, run_id))
            seeded[run_id] = cur.fetchone()[0]
