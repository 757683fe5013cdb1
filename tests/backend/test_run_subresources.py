"""A run, its DAG, steps and tasks answer the same with the response cache off as on.

Off, the DAG, steps and tasks each read their run together with their own rows in one statement
(backend/db/steps.py run_and_steps, backend/db/tasks.py run_and_task_page), and the run's own
answer (RunDetail) is held by the run's version (backend/db/runs.py get_run_detail); on, each
looks the run up through the shared lookup first (backend/cache/run_rows.py). Compared here byte
for byte, with the status, ETag and Cache-Control, on finished runs, on 404s, on a run without
tasks and on a running run before and after its heartbeat is lost.
"""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg2

from backend.cache.versions import RUN_VERSIONS
from tests.backend.api_helpers import get_json
from tests.backend.live_helpers import new_run, new_store, running_task

SUB_PATHS = ("", "?source=true", "/dag", "/steps", "/steps/start", "/steps/end", "/steps/no_such_step", "/tasks", "/tasks?limit=2",
             "/tasks?status=failed", "/tasks?status=completed&status=running", "/tasks?step=end",
             "/steps/start/tasks", "/steps/no_such_step/tasks")


async def answer(client: Any, path: str) -> tuple[int, bytes, str | None, str | None]:
    """Status, body, ETag, Cache-Control."""
    resp = await client.get(path)
    body = await resp.read()
    return resp.status, body, resp.headers.get("ETag"), resp.headers.get("Cache-Control")


async def same_answers(on: Any, off: Any, run_path: str) -> list[tuple[int, bytes, str | None, str | None]]:
    """Every sub-resource of the run (and the second page of its tasks) from both apps: equal."""
    paths = [run_path + p for p in SUB_PATHS]
    first = await get_json(off, run_path + "/tasks", limit=2)
    if first["next"]:
        paths.append(f"{run_path}/tasks?limit=2&cursor={first['next']}")
    answers = []
    for path in paths:
        got_off, got_on = await answer(off, path), await answer(on, path)
        assert got_off == got_on, f"{path}: cache off {got_off[:1]} {got_off[1][:300]!r} / on {got_on[1][:300]!r}"
        answers.append(got_off)
    return answers


async def test_finished_runs_and_404s_answer_the_same_with_the_response_cache_off(
        aiohttp_client: Any, make_app: Any, recorded: dict[str, str]) -> None:
    on = await aiohttp_client(make_app())
    off = await aiohttp_client(make_app(response_cache_mb=0))
    statuses = set()
    for flow, run_id in recorded.items():
        for status, body, _, _ in await same_answers(on, off, f"/api/flows/{flow}/runs/{run_id}"):
            statuses.add(status)
            assert status in (200, 404), body
    assert statuses == {200, 404}
    # No such run: the same 404 message from every sub-resource.
    for sub in ("", "/dag", "/steps", "/steps/start", "/tasks", "/steps/start/tasks"):
        status, body, _, _ = await answer(off, f"/api/flows/LinearFlow/runs/no-such-run{sub}")
        assert status == 404 and b"run LinearFlow/no-such-run not found" in body
        assert (status, body) == (await answer(on, f"/api/flows/LinearFlow/runs/no-such-run{sub}"))[:2]
    # A bad parameter: 400 on a run that exists, but a run that does not is a 404 first, as before.
    for run_path, expect in ((f"/api/flows/LinearFlow/runs/{recorded['LinearFlow']}", 400),
                             ("/api/flows/LinearFlow/runs/no-such-run", 404)):
        for query in ("?status=bogus", "?limit=0", "?cursor=garbage"):
            got_off, got_on = await answer(off, run_path + "/tasks" + query), await answer(on, run_path + "/tasks" + query)
            assert got_off[0] == expect and got_off[:2] == got_on[:2], (query, got_off, got_on)
    # A failed run's failed tasks are there (the status filter reached the one statement).
    failed = await get_json(off, f"/api/flows/FailingFlow/runs/{recorded['FailingFlow']}/tasks", status="failed")
    assert failed["data"] and all(t["status"] == "failed" for t in failed["data"])


async def test_a_running_run_its_lost_heartbeat_and_a_new_task(aiohttp_client: Any, make_app: Any,
                                                               pg_dsn: str) -> None:
    store = new_store(pg_dsn)
    empty = new_run(store, "SubresourceFlow")
    run, _ = running_task(store, "SubresourceFlow")
    on = await aiohttp_client(make_app(heartbeat_timeout=1.5))
    off = await aiohttp_client(make_app(heartbeat_timeout=1.5, response_cache_mb=0))
    # A run with no task yet: no task rows, steps from the DAG alone; the same either way.
    empty_path = f"/api/flows/SubresourceFlow/runs/{empty.run_id}"
    await same_answers(on, off, empty_path)
    assert (await get_json(off, empty_path + "/tasks"))["data"] == []
    # A task written shows on the next read.
    store.create_task(empty, "start")
    assert [t["step_name"] for t in (await get_json(off, empty_path + "/tasks"))["data"]] == ["start"]

    live_path = f"/api/flows/SubresourceFlow/runs/{run.run_id}"
    # Twice: the first page of a run not seen before builds its running task in a second statement,
    # the next one in the page's own statement (backend/api/tasks.py, _LIVE_RUNS).
    for _ in range(2):
        answers = await same_answers(on, off, live_path)
        tasks = (await get_json(off, live_path + "/tasks"))["data"]
        assert [t["status"] for t in tasks] == ["running"]
        assert all("immutable" not in (a[3] or "") for a in answers)    # nothing of a live run is final
    steps = (await get_json(off, live_path + "/steps"))["data"]
    assert steps[0]["status"] == "running"
    await asyncio.sleep(2.0)      # the heartbeat is lost: failed, computed at read time
    # the reason names the timeout that passed, not the growing silence: two reads are byte-equal
    answers = await same_answers(on, off, live_path)
    assert any(b"(no signal for over " in a[1] for a in answers)
    tasks = (await get_json(off, live_path + "/tasks"))["data"]
    assert [t["status"] for t in tasks] == ["failed"]
    assert tasks[0]["status_reason"].startswith("heartbeat lost at ")
    assert (await get_json(off, live_path + "/dag"))["data"]["steps"][0]["status"] == "failed"


async def test_the_run_held_by_version_a_write_shows_and_a_running_run_is_never_held(
        aiohttp_client: Any, make_app: Any, recorded: dict[str, str], pg_dsn: str) -> None:
    on = await aiohttp_client(make_app())
    off = await aiohttp_client(make_app(response_cache_mb=0))
    versions = off.app[RUN_VERSIONS]
    path = f"/api/flows/ReportFlow/runs/{recorded['ReportFlow']}"
    first = await answer(off, path)
    with psycopg2.connect(pg_dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT run_pk, change_seq FROM runs WHERE flow_id = 'ReportFlow' AND run_id = %s",
                    (recorded["ReportFlow"],))
        run_pk, seq = cur.fetchone()
    assert versions.get(("detail", run_pk), seq) is not None            # kept by the run's version
    hits = versions.hits
    assert await answer(off, path) == first and versions.hits == hits + 1   # and answered from there
    with psycopg2.connect(pg_dsn) as conn, conn.cursor() as cur:
        cur.execute("UPDATE runs SET tags = tags || '{held-by-version}'::text[] WHERE run_pk = %s", (run_pk,))
    try:
        tags = (await get_json(off, path))["data"]["tags"]
        assert "held-by-version" in tags                                     # a write shows at once
        assert (await answer(off, path))[:3] == (await answer(on, path))[:3]
    finally:
        with psycopg2.connect(pg_dsn) as conn, conn.cursor() as cur:
            cur.execute("UPDATE runs SET tags = array_remove(tags, 'held-by-version') WHERE run_pk = %s", (run_pk,))
    assert "held-by-version" not in (await get_json(off, path))["data"]["tags"]

    store = new_store(pg_dsn)
    live_run = new_run(store, "SubresourceFlow")
    live_path = f"/api/flows/SubresourceFlow/runs/{live_run.run_id}"
    for _ in range(2):   # not known to be running, then known
        assert (await get_json(off, live_path))["data"]["status"] == "running"
        assert not any(key == ("detail", live_run.run_pk) for key in versions.items._items)   # never held
    store.finish_run(live_run, "completed", None)
    done = (await get_json(off, live_path))["data"]
    assert done["status"] == "completed"                                     # it finished: shown at once
    assert (await answer(off, live_path))[:3] == (await answer(on, live_path))[:3]
    assert any(key == ("detail", live_run.run_pk) for key in versions.items._items)       # now held


async def test_a_settled_runs_dag_and_steps_held_by_version_never_stale(
        aiohttp_client: Any, make_app: Any, recorded: dict[str, str], pg_dsn: str) -> None:
    """With the response cache off a settled run's /dag and /steps bodies are held by version
    (backend/api/steps.py held_version): answered from there, and a write to a step or to the run
    shows on the next read, byte-equal to what an app that holds nothing answers."""
    plain = await aiohttp_client(make_app(response_cache_mb=0, version_cache=False))
    off = await aiohttp_client(make_app(response_cache_mb=0))
    versions = off.app[RUN_VERSIONS]
    flow, run_id = "ReportFlow", recorded["ReportFlow"]
    path = f"/api/flows/{flow}/runs/{run_id}"
    with psycopg2.connect(pg_dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT run_pk, status FROM runs WHERE flow_id = %s AND run_id = %s", (flow, run_id))
        run_pk, status = cur.fetchone()
        cur.execute("SELECT step_name FROM steps WHERE run_pk = %s ORDER BY step_name LIMIT 1", (run_pk,))
        step = cur.fetchone()[0]
    assert status == "completed"
    first = {sub: await answer(off, path + sub) for sub in ("/dag", "/steps")}
    assert first["/dag"][2] is not None and "immutable" in (first["/dag"][3] or "")   # ETag kept
    for kind in ("dag", "steps"):
        assert any(key == (kind, run_pk) for key in versions.items._items)           # held
    hits = versions.hits
    for sub, got in first.items():
        assert await answer(off, path + sub) == got == await answer(plain, path + sub)
    assert versions.hits == hits + 2                                                  # from there
    etag = first["/dag"][2]
    resp = await off.get(path + "/dag", headers={"If-None-Match": etag})
    assert resp.status == 304                                                         # 304 still
    seq_before = next(s for s in (await get_json(off, path + "/steps"))["data"] if s["step_name"] == step)["seq"]

    def write(sql: str) -> None:
        with psycopg2.connect(pg_dsn) as conn, conn.cursor() as cur:
            cur.execute(sql, {"run_pk": run_pk, "step": step})

    # A step's row written (its span widened): the next /dag and /steps show it.
    write("UPDATE steps SET finished_at = finished_at + 1000 WHERE run_pk = %(run_pk)s AND step_name = %(step)s")
    try:
        for sub in ("/dag", "/steps"):
            got = await answer(off, path + sub)
            assert got != first[sub] and got == await answer(plain, path + sub), sub
        row = next(s for s in (await get_json(off, path + "/steps"))["data"] if s["step_name"] == step)
        assert row["seq"] != seq_before
    finally:
        write("UPDATE steps SET finished_at = finished_at - 1000 WHERE run_pk = %(run_pk)s AND step_name = %(step)s")
    # A step's row gone (as before its first task): the completed run shows it "skipped"; then the
    # run's row written (it ended otherwise): the same step is "not_run", from held answers' versions.
    with psycopg2.connect(pg_dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT * FROM steps WHERE run_pk = %(run_pk)s AND step_name = %(step)s",
                    {"run_pk": run_pk, "step": step})
        saved = cur.fetchone()
        columns = [d[0] for d in cur.description]

    async def shown(sub: str) -> str:
        data = (await get_json(off, path + sub))["data"]
        steps = data["steps"] if sub == "/dag" else data
        return str(next(s for s in steps if s["step_name"] == step)["status"])

    write("DELETE FROM steps WHERE run_pk = %(run_pk)s AND step_name = %(step)s")
    try:
        for sub in ("/dag", "/steps"):
            assert await shown(sub) == "skipped", sub
            assert await answer(off, path + sub) == await answer(plain, path + sub), sub
        write("UPDATE runs SET status = 'failed' WHERE run_pk = %(run_pk)s")
        for sub in ("/dag", "/steps"):
            assert await shown(sub) == "not_run", sub
            assert await answer(off, path + sub) == await answer(plain, path + sub), sub
    finally:
        with psycopg2.connect(pg_dsn) as conn, conn.cursor() as cur:
            cur.execute("UPDATE runs SET status = 'completed' WHERE run_pk = %s", (run_pk,))
            cur.execute(f"INSERT INTO steps ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})",
                        saved)
    for sub in ("/dag", "/steps"):
        assert await shown(sub) == "completed", sub
        assert await answer(off, path + sub) == await answer(plain, path + sub), sub

    # A running run's answers are never held (they depend on the clock: a lost heartbeat).
    store = new_store(pg_dsn)
    live_run, _ = running_task(store, "SubresourceFlow")
    live_path = f"/api/flows/SubresourceFlow/runs/{live_run.run_id}"
    for _ in range(2):
        await answer(off, live_path + "/dag")
        await answer(off, live_path + "/steps")
    assert not any(key in (("dag", live_run.run_pk), ("steps", live_run.run_pk)) for key in versions.items._items)
