"""bench.api's cases: the requests the UI makes, with arguments taken from the seeded data."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

import aiohttp
import psycopg2
from multidict import MultiDict

from backend.cache.versions import JsonVersions
from backend.db import runs as runs_db
from backend.db import steps as steps_db
from backend.db import tasks as tasks_db
from backend.db.liveness import live_params
from backend.params import DEFAULT_LIMIT, decode_cursor
from contract.pg.connect import resolve_dsns
from contract.settings import load_settings

if TYPE_CHECKING:
    from bench.api import Case


class DirectDb:
    """backend.db's interface run synchronously on one psycopg2 connection, timing the SQL only.

    "Raw SQL": the statement, its transfer and psycopg2's decoding of the rows into tuples (in C);
    the dicts the backend code reads are made after the clock stops.
    """

    def __init__(self, dsn: str) -> None:
        self.conn = psycopg2.connect(dsn)
        self.conn.autocommit = True
        self.elapsed = 0.0

    async def all(self, sql: str, params: Any = None, *, generic: bool = False) -> list[dict[str, Any]]:
        t = time.perf_counter()
        with self.conn.cursor() as cur:
            cur.execute(sql, params)
            rows = cur.fetchall()
            self.elapsed += time.perf_counter() - t
            names = [d[0] for d in cur.description or ()]
        return [dict(zip(names, r)) for r in rows]

    async def tuples(self, sql: str, params: Any = None, *, generic: bool = False) -> list[tuple[Any, ...]]:
        t = time.perf_counter()
        with self.conn.cursor() as cur:
            cur.execute(sql, params)
            rows: list[tuple[Any, ...]] = cur.fetchall() if cur.description is not None else []
            self.elapsed += time.perf_counter() - t
        return rows

    async def one(self, sql: str, params: Any = None, *, generic: bool = False) -> dict[str, Any] | None:
        rows = await self.all(sql, params)
        return rows[0] if rows else None

    async def scalar(self, sql: str, params: Any = None) -> Any:
        row = await self.one(sql, params)
        return None if row is None else next(iter(row.values()))


async def get_json(session: aiohttp.ClientSession, url: str, **params: Any) -> Any:
    async with session.get(url, params=params) as r:
        if r.status != 200:
            raise SystemExit(f"GET {r.url} -> {r.status}: {(await r.text())[:300]}")
        return await r.json()


# How the backend says it made each answer (its X-Flowscope-Cache header: miss, hit, run-hit,
# coalesced, bypass; "-" without the header), counted per measurement by bench.api.
SEEN: Counter[str] = Counter()
# Distinct answers (hashes of the bodies) per measurement: with a writer running, proof that the
# answers really changed while they were being cached.
BODIES: set[int] = set()
CACHE_HEADER = "X-Flowscope-Cache"


def getter(session_url: str, path: str, params: dict[str, Any] | None = None):  # type: ignore[no-untyped-def]
    async def request(session: aiohttp.ClientSession, i: int) -> None:
        async with session.get(session_url + path, params=params or {}) as r:
            BODIES.add(hash(await r.read()))
            SEEN[r.headers.get(CACHE_HEADER, "-")] += 1
            if r.status != 200:
                raise SystemExit(f"GET {path} -> {r.status}")
    return request


def huge_run(seed: dict[str, Any]) -> str:
    flow, run_id = seed["huge_run"].split("/")
    return f"/api/flows/{flow}/runs/{run_id}"


async def prime(session: aiohttp.ClientSession, url: str, args: argparse.Namespace) -> dict[str, Any]:
    """The huge run's full timeline once (it builds the run's index in a new process)."""
    t0 = time.perf_counter()
    full: dict[str, Any] = (await get_json(session, url + huge_run(args.seed) + "/timeline",
                                           width=1200, rows=200))["data"]
    print(f"huge run timeline, first request (builds the run's index if new): "
          f"{(time.perf_counter() - t0) * 1000:.0f} ms", flush=True)
    return full


async def stored_running(session: aiohttp.ClientSession, run_url: str) -> bool:
    """Whether the run is stored as running (live, or its heartbeat lost), as the tasks handler asks."""
    run = (await get_json(session, run_url))["data"]
    return bool(run["status"] == "running" or (run["status_reason"] or "").startswith("heartbeat lost"))


async def build(session: aiohttp.ClientSession, url: str, args: argparse.Namespace) -> list[Case]:
    from bench.api import Case
    seed = args.seed
    settings = load_settings()
    dsn = resolve_dsns(settings).writer or resolve_dsns(settings).reader
    direct = DirectDb(dsn)

    # The backend's run and task JSON caches (FLOWSCOPE_VERSION_CACHE), held here the same way, so the
    # SQL column runs the statements the handlers run: with the caches on, a page's keys and versions
    # (and the running rows' JSON), the rest built once and then held.
    run_versions = None if args.no_version_cache else JsonVersions("run_versions", 64 * 1024 * 1024)
    task_versions = None if args.no_version_cache else JsonVersions("task_versions", 64 * 1024 * 1024)

    def sql_of(fn: Any, *a: Any, **kw: Any) -> Any:
        async def sample() -> float:
            direct.elapsed = 0.0
            await fn(direct, live_params(settings), *a, **kw)
            return direct.elapsed
        return sample

    cases: list[Case] = []
    newest = (await get_json(session, f"{url}/api/runs", limit=200))["data"]
    flows = [r["flow_id"] for r in newest]
    popular = max(set(flows), key=flows.count)
    users = [r["user"] for r in newest if r["user"]]
    user = max(set(users), key=users.count)
    tags = [t for r in newest for t in r["tags"]]
    counts = sorted({t: tags.count(t) for t in tags}.items(), key=lambda kv: -kv[1])
    tag_common, tag_mid = counts[0][0], counts[len(counts) // 2][0]
    week_end = newest[-1]["created_at"] - 90 * 86_400_000
    F = runs_db.RunFilters
    created = runs_db.make_order("created", True)

    def runs_case(name: str, params: dict[str, Any], filters: runs_db.RunFilters, cursor: Any = None) -> None:
        cases.append(Case(name, "list", getter(url, "/api/runs", params),
                          sql_of(runs_db.list_runs, filters, created, cursor, DEFAULT_LIMIT,
                                 versions=run_versions)))

    runs_case("home: newest first", {}, F())
    runs_case("status = failed", {"status": "failed"}, F(statuses=["failed"]))
    runs_case("status = running", {"status": "running"}, F(statuses=["running"]))
    runs_case(f"flow = {popular}", {"flow": popular}, F(flows=[popular]))
    runs_case(f"user = {user}", {"user": user}, F(users=[user]))
    runs_case(f"tag = {tag_common} (common)", {"tag": tag_common}, F(tags=[tag_common]))
    runs_case(f"tag = {tag_mid} (mid)", {"tag": tag_mid}, F(tags=[tag_mid]))
    runs_case("time range (one week)", {"created_after": week_end - 7 * 86_400_000, "created_before": week_end},
              F(created_after=week_end - 7 * 86_400_000, created_before=week_end))
    for key in ("flow", "user"):
        cases.append(Case(f"group_by = {key}", "list", getter(url, "/api/runs", {"group_by": key}),
                          sql_of(runs_db.list_run_groups, F(), created, key, "", 20, 5,
                                 versions=run_versions)))

    # page 100: follow `next` 99 times once, then time the 100th page
    t0 = time.perf_counter()
    cursor = None
    for _ in range(99):
        body = await get_json(session, f"{url}/api/runs", **({"cursor": cursor} if cursor else {}))
        cursor = body["next"]
    follow_s = time.perf_counter() - t0
    print(f"following next 99 times: {follow_s * 1000:.0f} ms", flush=True)
    decoded = decode_cursor(MultiDict(cursor=cursor or ""), created.cursor_kind, 2)
    runs_case("home: page 100 (cursor)", {"cursor": cursor}, F(), decoded)

    normal = next(r for r in newest if r["status"] != "running")
    base = f"/api/flows/{normal['flow_id']}/runs/{normal['run_id']}"

    def bundle(base: str, subs: tuple[str, ...] = ("", "/dag", "/steps", "/tasks")):  # type: ignore[no-untyped-def]
        async def request(session: aiohttp.ClientSession, i: int) -> None:
            await asyncio.gather(*(getter(url, base + p)(session, i) for p in subs))
        return request

    def one_request(base: str, include: str):  # type: ignore[no-untyped-def]
        """The run with ``include`` (backend/api/runs.py): one request for what the bundle asks in four."""
        return getter(url, base, {"include": include})

    def one_request_sql(flow: str, run: str, include: str):  # type: ignore[no-untyped-def]
        async def statements(db: Any, live: dict[str, Any]) -> None:
            # What the handler runs with the response cache off: the run with its steps' rows, the
            # run's answer when its version is not held (run_detail_of), the task page when asked.
            found = await steps_db.run_and_steps(db, live, flow, run)
            assert found is not None
            ref = found[0]
            running = ref["status"] == "running" or bool(ref["stale"])
            if run_versions is not None:
                await runs_db.run_detail_of(db, live, ref["run_pk"], ref["change_seq"], running, run_versions)
            else:
                await runs_db.get_run_with_source(db, live, flow, run, False)
            if "tasks" in include:
                await tasks_db.list_task_page(db, live, ref["run_pk"], [], [], None, DEFAULT_LIMIT,
                                              versions=task_versions, run_live=running)
        return sql_of(statements)

    cases.append(Case("run page bundle, 4 requests (run, dag, steps, tasks)", "detail", bundle(base)))
    # The run page as the UI opens it (frontend/src/early.ts, api/runs.ts fetchRun): the run with its
    # DAG in one request; before, the run and /dag; all four parts in one request, for the bundle above.
    cases.append(Case("run page (one request: run?include=dag, as the UI opens it)", "detail",
                      one_request(base, "dag"), one_request_sql(normal["flow_id"], normal["run_id"], "dag")))
    cases.append(Case("run page, 2 requests (run, dag: as the UI opened it before)", "detail",
                      bundle(base, ("", "/dag"))))
    cases.append(Case("run page bundle, 1 request (run?include=dag,steps,tasks)", "detail",
                      one_request(base, "dag,steps,tasks"),
                      one_request_sql(normal["flow_id"], normal["run_id"], "dag,steps,tasks")))

    live_run = await stored_running(session, f"{url}{base}")   # the handler's guess, once it has seen the run

    async def steps_and_tasks(session: aiohttp.ClientSession, i: int) -> None:
        await asyncio.gather(*(getter(url, base + p)(session, i) for p in ("/steps", "/tasks")))

    async def steps_and_tasks_sql(db: Any, live: dict[str, Any]) -> None:
        # What the two handlers run with the response cache off, one after the other here: the run
        # with its steps' rows (one statement); the run with its task page (one statement, plus
        # the JSON of tasks not held; with the JSON caches off, the run's lookup and the page).
        await steps_db.run_and_steps(db, live, normal["flow_id"], normal["run_id"])
        if task_versions is not None:
            await tasks_db.run_and_task_page(db, live, normal["flow_id"], normal["run_id"], [], [], None,
                                             DEFAULT_LIMIT, task_versions, run_live=live_run)
            return
        run = await runs_db.get_run_ref(db, live, normal["flow_id"], normal["run_id"])
        assert run is not None
        await tasks_db.list_task_page(db, live, run["run_pk"], [], [], None, DEFAULT_LIMIT,
                                      run_live=run["status"] == "running" or run["stale"])
    cases.append(Case("run page: steps + tasks", "detail", steps_and_tasks, sql_of(steps_and_tasks_sql)))
    # A finished run: its answers are cached under its own change_seq, whatever else is written.
    done = next((r for r in newest if r["status"] == "completed"), None)
    if done is not None:
        done_base = f"/api/flows/{done['flow_id']}/runs/{done['run_id']}"
        cases.append(Case("run page bundle, 4 requests, completed run", "detail", bundle(done_base)))
        cases.append(Case("run page (one request), completed run", "detail", one_request(done_base, "dag"),
                          one_request_sql(done["flow_id"], done["run_id"], "dag")))
        cases.append(Case("run page bundle, 1 request, completed run", "detail",
                          one_request(done_base, "dag,steps,tasks"),
                          one_request_sql(done["flow_id"], done["run_id"], "dag,steps,tasks")))

    huge = huge_run(seed)
    cases.append(Case("huge run: run", "detail", getter(url, huge)))
    cases.append(Case("huge run: tasks page 1", "list", getter(url, huge + "/tasks"),
                      sql_of(tasks_db.list_task_page, seed["huge_run_pk"], [], [], None, DEFAULT_LIMIT,
                             versions=task_versions, run_live=await stored_running(session, url + huge))))
    full = await prime(session, url, args)
    w0, w1, total = full["start"], full["end"], full["total_rows"]
    mid, span = (w0 + w1) // 2, w1 - w0
    zooms = [("full", w0, w1, 0, total), ("1/10", mid - span // 20, mid + span // 20, 0, total),
             ("1/100, 2,000 rows", mid - span // 200, mid + span // 200, total // 2, 2000)]
    for label, a, b, r0, n in zooms:
        params = {"width": 1200, "rows": 200, "start": a, "end": b, "row_start": r0, "span": n}
        cases.append(Case(f"huge run: timeline {label} (same view)", "timeline",
                          getter(url, huge + "/timeline", params), target_ms=150))

        def panning(a: int = a, b: int = b, r0: int = r0, n: int = n):  # type: ignore[no-untyped-def]
            windows = itertools.count(1)   # across c1 and c32 too: i restarts at 0 for each

            async def request(session: aiohttp.ClientSession, i: int) -> None:
                shift = next(windows) * max(1, (b - a) // 1000)   # a new window every request: no cache
                await getter(url, huge + "/timeline", {"width": 1200, "rows": 200, "start": a + shift,
                                                       "end": b + shift, "row_start": r0, "span": n})(session, i)
            return request
        cases.append(Case(f"huge run: timeline {label} (panning)", "timeline", panning(), target_ms=150))

    log_flow, log_run, log_step, log_task = seed["log_task"].split("/")
    log = f"/api/flows/{log_flow}/runs/{log_run}/steps/{log_step}/tasks/{log_task}/logs/stdout"
    cases.append(Case("1M-line log: tail 1,000", "log", getter(url, log, {"tail": 1000})))
    cases.append(Case("1M-line log: line 900,000", "log", getter(url, log, {"from_line": 900_000, "limit": 1000})))

    async def search(session: aiohttp.ClientSession, i: int) -> None:
        async with session.get(url + huge + "/search", params={"q": f"id={(i * 7919) % 1000003} "}) as r:
            lines = (await r.text()).splitlines()
            done = [x for x in lines if '"done"' in x]
            if r.status != 200 or not done:
                raise SystemExit(f"search -> {r.status}: {lines[-1:]}")
    # The target is for one search at a time (each is ~0.35 s of CPU on a 2-core machine).
    cases.append(Case("huge run: log search (1M lines)", "search", search, target_ms=1000))
    return cases
