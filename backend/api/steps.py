"""/dag, /steps and /steps/{step} of a run: the static DAG joined with live per-step counts."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from backend.api import respond
from backend.api.lookup import live, run_not_found
from backend.cache.responses import cached_for_run
from backend.cache.run_rows import shared_run_row, sharing_run_rows
from backend.cache.versions import RUN_VERSIONS, versions_of
from backend.db import steps as steps_db
from backend.db.query import Db, Row
from backend.errors import not_found
from backend.keys import DB
from backend.resources.steps import dag_shape, graph_order, is_recursive, step_shape
from backend.routes import Route
from backend.sources import source_for
from backend.sources.dags import known


async def load_dag(request: web.Request, run: Row) -> dict[str, Any]:
    """The run's DAG from its source (cached there; {} while it is not known yet)."""
    return await source_for(request.app, run).dag(run)


async def run_and_steps(request: web.Request) -> tuple[Row, dict[str, Row] | None]:
    """The run of the path (404 if there is none) and its steps' rows.

    With the response cache on, the run comes from the shared lookup (the full row, shared by the
    run page's requests) and the rows are None (read by all_steps once the response cache has been
    checked); off, both come from one statement: one round trip instead of two.
    """
    if sharing_run_rows(request):
        return await shared_run_row(request), None
    found = await steps_db.run_and_steps(request.app[DB], live(request), request.match_info["flow"],
                                         request.match_info["run"])
    if found is None:
        raise run_not_found(request)
    return found


async def all_steps(db: Db, dag: dict[str, Any], run: Row, rows: dict[str, Row] | None = None) -> list[dict[str, Any]]:
    """Every step in graph order; ``rows``: the steps' rows when already read (else read here)."""
    if rows is None:
        rows = await steps_db.steps_of_run(db, run["run_pk"])
    infos = dag.get("steps") or {}
    names = graph_order(dag) + [n for n in rows if n not in infos]
    loops = [n for n in names if is_recursive(n, infos.get(n)) and n in rows]
    iterations = await steps_db.loop_iterations(db, run["run_pk"], loops) if loops else {}
    return [step_shape(n, infos.get(n), rows.get(n), bool(run["stale"]), run["status"], iterations.get(n))
            for n in names]


def held_version(run: Row, dag: dict[str, Any], rows: dict[str, Row]) -> tuple[Any, ...] | None:
    """The version a run's /dag or /steps answer is held under in run_versions; None: not held.

    Only a settled run's (not running, heartbeat not lost: nothing in it depends on the clock) with
    its DAG known (``runs.dag`` is written once; an empty one may still come). The answer is then
    made of the DAG, the run's status and its steps' rows (their task counts, spans and so the
    loop iterations: a task written, counted or changed updates its step's row). Every write of a
    runs or steps row gives it a new, larger ``change_seq``, so the run's and the largest step's
    with the number of steps (a step row deleted) change whenever the answer could.
    """
    if run["status"] == "running" or run["stale"] or not known(dag):
        return None
    newest = max((r["change_seq"] for r in rows.values()), default=None)
    return (run["change_seq"], run["status"], newest, len(rows))


async def steps_answer(request: web.Request, kind: str, run: Row,
                       rows: dict[str, Row] | None) -> tuple[bytes, str | None, bool]:
    """The body of ``run``'s /dag (``kind`` "dag") or /steps ("steps"), its ETag (an immutable DAG's,
    else None) and whether it is immutable; what answer_steps sends, and what a run's answer
    includes (backend/api/runs.py). With the response cache off (``rows`` read with the run) a
    settled run's encoded answer is held by version (held_version), so a request skips shaping and
    encoding it (docs/benchmarks.md, "bundle19")."""
    db = request.app[DB]
    dag = await load_dag(request, run)
    immutable = kind == "dag" and run["status"] != "running" and not run["stale"]
    versions = versions_of(request.app, RUN_VERSIONS) if rows is not None else None
    version = held_version(run, dag, rows) if versions is not None and rows is not None else None
    key = (kind, run["run_pk"])
    # A held DAG (immutable: held only for a settled run) is its ETag followed by the body, so its
    # SHA-1 is not taken again per request (2.5 % of a DAG answer's samples at 32 clients).
    if version is not None:
        assert versions is not None
        held = versions.get(key, version)
        if held is not None:
            if immutable:
                n = respond.ETAG_LENGTH
                return held[n:].encode(), held[:n], True
            return held.encode(), None, immutable
    steps = await all_steps(db, dag, run, rows)
    body = respond.encode({"data": dag_shape(dag, steps)} if kind == "dag" else {"data": steps, "next": None})
    etag = respond.etag_of(body) if immutable else None
    if version is not None:
        assert versions is not None
        versions.put(key, version, (etag or "") + body.decode())
    return body, etag, immutable


async def answer_steps(request: web.Request, kind: str, run: Row, rows: dict[str, Row] | None) -> web.Response:
    """/dag (``kind`` "dag") or /steps ("steps") of ``run`` (steps_answer)."""
    body, etag, immutable = await steps_answer(request, kind, run, rows)
    return respond.encoded(request, body, immutable=immutable, etag=etag)


async def get_dag(request: web.Request) -> web.Response:
    run, rows = await run_and_steps(request)
    if (hit := cached_for_run(request, run)) is not None:
        return hit
    return await answer_steps(request, "dag", run, rows)


async def list_steps(request: web.Request) -> web.Response:
    run, rows = await run_and_steps(request)
    if (hit := cached_for_run(request, run)) is not None:
        return hit
    return await answer_steps(request, "steps", run, rows)


async def get_step(request: web.Request) -> web.Response:
    run, rows = await run_and_steps(request)
    if (hit := cached_for_run(request, run)) is not None:
        return hit
    dag = await load_dag(request, run)
    name = request.match_info["step"]
    for step in await all_steps(request.app[DB], dag, run, rows):
        if step["step_name"] == name:
            return respond.one(request, step)
    raise not_found(f"step {run['flow_id']}/{run['run_id']}/{name} not found")


ROUTES = [
    Route("/api/flows/{flow}/runs/{run}/dag", get_dag,
          "The run's DAG: steps in graph order with type, next, doc, decorators, line and task counts.",
          (), "object", "steps", operation="getDag", item="Dag", feed="steps"),
    Route("/api/flows/{flow}/runs/{run}/steps", list_steps, "Steps of the run in graph order.", (),
          "list", "steps", operation="listSteps", item="Step", feed="steps"),
    Route("/api/flows/{flow}/runs/{run}/steps/{step}", get_step, "One step.", (), "object", "steps",
          operation="getStep", item="Step", feed="steps"),
]
