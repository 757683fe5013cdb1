"""Flows and runs: shapes, every filter, orders, grouping, keyset pagination to the end."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.backend.api_helpers import get_json


async def test_run_shape(api: Any, recorded: dict[str, str]) -> None:
    run_id = recorded["LinearFlow"]
    body = await get_json(api, f"/api/flows/LinearFlow/runs/{run_id}")
    run = body["data"]
    assert run["pathspec"] == f"LinearFlow/{run_id}"
    assert run["status"] == "completed" and run["user"] == "tester"
    assert set(run["tags"]) >= {"nightly", "team-a"}
    assert run["parameters"]["alpha"] == 0.25
    assert run["task_counts"] == {"total": 3, "pending": 0, "running": 0, "completed": 3, "failed": 0}
    assert run["duration_ms"] == run["finished_at"] - run["started_at"]
    assert isinstance(run["seq"], int) and run["file_name"] == "linear_flow.py"


async def test_failed_run_has_reason(api: Any, recorded: dict[str, str]) -> None:
    run = (await get_json(api, f"/api/flows/FailingFlow/runs/{recorded['FailingFlow']}"))["data"]
    assert run["status"] == "failed" and run["failed_step"] == "explode"
    assert "ValueError" in run["status_reason"] and "boom" in run["status_reason"]


async def test_unknown_run_404(api: Any) -> None:
    body = await get_json(api, "/api/flows/LinearFlow/runs/999999", 404)
    assert body == {"error": {"status": 404, "message": "run LinearFlow/999999 not found"}}


async def test_flows_list(api: Any, recorded: dict[str, str]) -> None:
    body = await get_json(api, "/api/flows")
    names = [f["flow_id"] for f in body["data"]]
    assert names == sorted(names) and set(recorded) <= set(names)
    linear = next(f for f in body["data"] if f["flow_id"] == "LinearFlow")
    assert linear["latest_run"]["flow_id"] == "LinearFlow"
    one = await get_json(api, "/api/flows/ForeachFlow")
    assert one["data"]["flow_id"] == "ForeachFlow"
    assert (await get_json(api, "/api/flows", q="each"))["data"][0]["flow_id"] == "ForeachFlow"
    await get_json(api, "/api/flows/NoSuchFlow", 404)


async def _all_pages(api: Any, path: str, **params: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    cursor = None
    for _ in range(100):
        page = await get_json(api, path, **params, **({"cursor": cursor} if cursor else {}))
        out.extend(page["data"])
        cursor = page["next"]
        if cursor is None:
            return out
    raise AssertionError("pagination did not end")


async def test_pagination_every_order(api: Any, recorded: dict[str, str]) -> None:
    everything = await _all_pages(api, "/api/runs", limit=1000)
    keys = {r["pathspec"] for r in everything}
    assert {f"{f}/{r}" for f, r in recorded.items()} <= keys
    for order in ("created", "created:asc", "finished", "-finished", "duration:asc", "duration:desc"):
        runs = await _all_pages(api, "/api/runs", limit=2, order=order)
        paths = [r["pathspec"] for r in runs]
        assert len(paths) == len(set(paths)) == len(everything), order  # no duplicates, no gaps
        field = {"created": "created_at", "finished": "finished_at", "duration": "duration_ms"}[
            order.strip("-").split(":")[0]]
        values = [r[field] for r in runs if r[field] is not None]
        descending = not order.endswith(":asc")
        assert values == sorted(values, reverse=descending), order


async def test_filters(api: Any, recorded: dict[str, str]) -> None:
    def ids(body: dict[str, Any]) -> set[str]:
        return {r["pathspec"] for r in body["data"]}

    linear = f"LinearFlow/{recorded['LinearFlow']}"
    failing = f"FailingFlow/{recorded['FailingFlow']}"
    report = f"ReportFlow/{recorded['ReportFlow']}"
    foreach = f"ForeachFlow/{recorded['ForeachFlow']}"
    assert failing in ids(await get_json(api, "/api/runs", status="failed"))
    assert failing not in ids(await get_json(api, "/api/runs", status="completed"))
    both = ids(await get_json(api, "/api/runs", status="failed,completed", limit=1000))
    assert {failing, linear} <= both
    assert ids(await get_json(api, "/api/runs", flow="LinearFlow")) == {
        r for r in ids(await get_json(api, "/api/runs", limit=1000)) if r.startswith("LinearFlow/")}
    assert linear in ids(await get_json(api, "/api/flows/LinearFlow/runs"))
    assert all(r.startswith("LinearFlow/") for r in ids(await get_json(api, "/api/flows/LinearFlow/runs")))
    assert linear in ids(await get_json(api, "/api/runs", user="tester"))
    assert not ids(await get_json(api, "/api/runs", user="nobody"))
    tagged = ids(await get_json(api, "/api/runs", tag=["nightly", "team-a"]))
    assert linear in tagged and report not in tagged and foreach not in tagged
    any_tag = ids(await get_json(api, "/api/runs", any_tag="nightly,team-a"))
    assert {linear, report, foreach} <= any_tag
    run = (await get_json(api, f"/api/flows/LinearFlow/runs/{recorded['LinearFlow']}"))["data"]
    after = ids(await get_json(api, "/api/runs", created_after=run["created_at"], flow="LinearFlow"))
    assert linear in after
    before = ids(await get_json(api, "/api/runs", created_before=run["created_at"], flow="LinearFlow"))
    assert linear not in before
    assert linear in ids(await get_json(api, "/api/runs", q="linear"))
    assert ids(await get_json(api, "/api/runs", q="zz_no_match_zz")) == set()
    system = ids(await get_json(api, "/api/runs", system_tag="user:tester", limit=1000))
    assert linear in system


async def test_group_by(api: Any, recorded: dict[str, str]) -> None:
    body = await get_json(api, "/api/runs", group_by="flow", group_limit=1, limit=2)
    groups = body["data"]
    assert len(groups) <= 2 and all(len(g["runs"]) == 1 for g in groups)
    seen = [g["group"] for g in groups]
    cursor = body["next"]
    while cursor:
        page = await get_json(api, "/api/runs", group_by="flow", group_limit=1, limit=2, cursor=cursor)
        seen += [g["group"] for g in page["data"]]
        cursor = page["next"]
    assert set(recorded) <= set(seen) and seen == sorted(seen) and len(seen) == len(set(seen))
    users = await get_json(api, "/api/runs", group_by="user", status="failed")
    tester = next(g for g in users["data"] if g["group"] == "tester")
    assert all(r["status"] == "failed" for r in tester["runs"])


async def test_bad_params(api: Any) -> None:
    cases = {
        "status=sleeping": "status",
        "limit=0": "limit",
        "limit=5000": "limit",
        "order=size": "order",
        "cursor=garbage!!": "cursor",
        "created_after=yesterday": "created_after",
        "group_by=color": "group_by",
    }
    for query, name in cases.items():
        resp = await api.get(f"/api/runs?{query}")
        body = await resp.json()
        assert resp.status == 400, query
        assert body["error"]["status"] == 400 and name in body["error"]["message"], body
    page = await get_json(api, "/api/runs", limit=1)
    if page["next"]:
        body = await get_json(api, "/api/runs", 400, limit=1, order="duration", cursor=page["next"])
        assert "different listing" in body["error"]["message"]


class _CapturingDb:
    """Records the statement backend.db would run, without running it."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    async def all(self, sql: str, params: dict[str, Any], *, generic: bool = False) -> list[dict[str, Any]]:
        self.calls.append((sql, params))
        return []

    async def tuples(self, sql: str, params: dict[str, Any], *, generic: bool = False) -> list[tuple[Any, ...]]:
        self.calls.append((sql, params))
        return []


@pytest.mark.parametrize("order", ["created", "finished", "duration"])
@pytest.mark.parametrize("descending", [True, False])
@pytest.mark.parametrize("generic", [False, True])
async def test_run_orders_read_an_index_without_sorting(db: Any, order: str, descending: bool, generic: bool) -> None:
    """Each order is served by its index: a NULLS LAST on the NOT NULL created_at once made
    Postgres sort all runs (0.7 s on 1M runs). ``generic``: the plan prepared once for any values,
    as an unfiltered page runs it (backend/db/query.py), after a cursor."""
    from backend.db import runs as runs_db
    from backend.db.liveness import live_params
    from backend.db.query import to_positional
    from contract.settings import load_settings
    capture = _CapturingDb()
    await runs_db.list_runs(capture, live_params(load_settings()), runs_db.RunFilters(),  # type: ignore[arg-type]
                            runs_db.make_order(order, descending), [1, 10**9] if generic else None, 50)
    sql, params = capture.calls[0]
    with db.cursor() as cur:
        cur.execute("SET enable_seqscan = off")
        if generic:
            stmt = to_positional(sql, True)
            assert stmt is not None
            cur.execute("SET plan_cache_mode = force_generic_plan")
            cur.execute(f"PREPARE generic_page AS {stmt.text}")
            cur.execute(f"EXPLAIN (FORMAT JSON) EXECUTE generic_page({', '.join(['%s'] * len(stmt.names))})",
                        tuple(params[n] for n in stmt.names))
            plan = json.dumps(cur.fetchone()[0])
            cur.execute("DEALLOCATE generic_page")
            cur.execute("RESET plan_cache_mode")
            assert re.search(r"\$\d", plan), plan        # a generic plan: the values stay parameters
        else:
            cur.execute("EXPLAIN (FORMAT JSON) " + sql, params)
            plan = json.dumps(cur.fetchone()[0])
        cur.execute("RESET enable_seqscan")
    assert '"Sort"' not in plan and '"Incremental Sort"' not in plan, plan
    assert f"runs_{order}" in plan
