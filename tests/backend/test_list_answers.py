"""Every list shape the readers split from plain tuples (backend/db/runs.py list_runs,
list_run_groups, get_run_detail; backend/db/tasks.py run_and_task_page, list_task_page;
backend/db/versioned.py fill_json_tuples) answers byte for byte the same three ways: run and task
JSON held by version, first built (the page's statement, then the rows by key) and then held, and
with the version cache off (one statement whose columns sit at other positions), and through the
response cache's path (a run's lookup shared by its sub-resources, then list_task_page); and a
run list page joined from its runs' JSON texts is what the encoder makes of them."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp.test_utils import make_mocked_request

from backend.api import respond
from backend.cache.versions import RUN_VERSIONS, TASK_VERSIONS
from backend.db import runs as runs_db
from backend.db.liveness import live_params
from backend.keys import DB
from contract.settings import Settings
from tests.backend.conftest import AiohttpClient
from tests.backend.test_prepared_statements import _list_urls

ORDERS = ["created", "created:asc", "finished", "-finished", "duration:asc", "duration:desc"]


def _urls(recorded: dict[str, str]) -> list[str]:
    runs = {flow: f"/api/flows/{flow}/runs/{run}" for flow, run in recorded.items()}
    return [
        *_list_urls(recorded),
        # cursor pages are followed to the end for these (page size 1 or 2)
        *[f"/api/runs?limit=2&order={o}&status=completed" for o in ORDERS],
        "/api/runs?limit=1&tag=nightly", "/api/runs?limit=1&user=tester&order=duration:asc",
        "/api/runs?group_by=flow&limit=2&group_limit=1", "/api/runs?group_by=user&group_limit=2",
        "/api/runs?group_by=flow&order=finished&group_limit=1",
        *[f"{runs[flow]}/tasks?limit=1" for flow in ("ForeachFlow", "RetryCatchFlow", "FailingFlow")],
        f"{runs['ForeachFlow']}/tasks?step=start&limit=1", f"{runs['FailingFlow']}/tasks?status=failed&limit=1",
        f"{runs['ForeachFlow']}/steps/start/tasks", f"{runs['LinearFlow']}/tasks?status=completed",
        *runs.values(),
    ]


async def _pages(client: Any, url: str) -> list[bytes]:
    """The page at ``url`` and every page after it (following ``next``), as bytes."""
    out: list[bytes] = []
    first = url
    while True:
        resp = await client.get(url)
        assert resp.status == 200, (url, await resp.text())
        body = bytes(await resp.read())
        out.append(body)
        nxt = orjson.loads(body).get("next")
        if not nxt or len(out) > 60:
            return out
        url = f"{first}{'&' if '?' in first else '?'}cursor={nxt}"


async def test_every_list_shape_is_byte_equal_held_built_and_plain(aiohttp_client: AiohttpClient,
                                                                   app_settings: Settings,
                                                                   recorded: dict[str, str]) -> None:
    # Every running run is past this heartbeat timeout from the first read, so no answer changes
    # with the clock between the reads compared (see test_prepared_statements.py).
    base = app_settings.replace(heartbeat_timeout=0.001)
    from backend.app import create_app
    held = await aiohttp_client(create_app(base.replace(response_cache_mb=0)))
    plain = await aiohttp_client(create_app(base.replace(response_cache_mb=0, version_cache=False)))
    shared = await aiohttp_client(create_app(base))
    assert held.app[RUN_VERSIONS].enabled and not plain.app[RUN_VERSIONS].enabled
    urls = _urls(recorded)
    first = {url: await _pages(held, url) for url in urls}
    assert held.app[RUN_VERSIONS].misses > 0 and held.app[TASK_VERSIONS].misses > 0   # built, then held
    again = {url: await _pages(held, url) for url in urls}
    assert held.app[RUN_VERSIONS].hits > 0 and held.app[TASK_VERSIONS].hits > 0
    for url in urls:
        assert again[url] == first[url], url
        assert await _pages(plain, url) == first[url], url
        assert await _pages(shared, url) == first[url], url
    # the cases reach what they are meant to: several pages, groups, tasks with attempts, a failed run
    assert sum(len(p) > 2 for p in first.values()) >= 8
    bodies = b"".join(b for p in first.values() for b in p)
    for needle in (b'"group_by":"flow"', b'"group_by":"user"', b'"attempts"', b'"failed"', b'"file_name"'):
        assert needle in bodies, needle


async def test_a_run_gone_between_the_two_statements_is_left_out(aiohttp_client: AiohttpClient,
                                                                 app_settings: Settings,
                                                                 recorded: dict[str, str]) -> None:
    """fill_run_json on a page's rows whose second statement finds one run no longer there (a
    key no run has): that row has no JSON (the page leaves it out), the others have theirs."""
    from backend.app import create_app
    client = await aiohttp_client(create_app(app_settings.replace(response_cache_mb=0)))
    db = client.app[DB]
    real = await db.tuples("SELECT r.run_pk, r.created_at, r.finished_at, r.duration_ms, r.change_seq, "
                           "false, NULL::text FROM runs r WHERE r.flow_id = 'LinearFlow' ORDER BY r.run_pk")
    assert real
    gone = (-1, 0, None, None, 1, False, None)
    texts = await runs_db.fill_run_json(db, live_params(app_settings), [gone, *real], client.app[RUN_VERSIONS])
    assert texts[0] is None and all(t is not None for t in texts[1:])
    assert [orjson.loads(t)["run_id"] for t in texts[1:] if t] == [r["run_id"] for r in await db.all(
        "SELECT run_id FROM runs WHERE flow_id = 'LinearFlow' ORDER BY run_pk")]


def test_a_page_joined_from_its_json_texts_is_the_encoder_s_page() -> None:
    """Run lists and task pages answer with respond.json_page (the rows' JSON texts joined once):
    byte for byte what respond.page makes of the same texts as orjson Fragments, whatever the
    texts and cursor, with the same headers (an immutable page: the same ETag, and 304 for it)."""
    texts = ['{"flow_id" : "Ünïcode\\u00e9", "n" : 1}', '{"tags" : ["a,b", "]"]}', "{}", '"\\u2028 \u2028"']
    for items in ([], texts[:1], texts):
        for nxt in (None, "eyJ2IjoxfQ", 'a"b\\c\u00e9'):
            for immutable in (False, True):
                joined = respond.json_page(make_mocked_request("GET", "/api/runs"), items, nxt, immutable=immutable)
                encoded = respond.page(make_mocked_request("GET", "/api/runs"), [orjson.Fragment(t) for t in items],
                                       nxt, immutable=immutable)
                assert joined.body == encoded.body, (items, nxt)
                assert dict(joined.headers) == dict(encoded.headers)
                assert ("ETag" in joined.headers) is immutable
                if immutable:
                    again = make_mocked_request("GET", "/api/runs", headers={"If-None-Match": joined.headers["ETag"]})
                    assert respond.json_page(again, items, nxt, immutable=True).status == 304
