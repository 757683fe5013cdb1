"""/api/flows/{flow}/runs/{run}/failures: the run's failure digest (backend/resources/digest.py).

Rows come from SQL (the run's failed tasks and retried attempts, a sample of the flow's recent
failed runs); grouping is pure Python; the example of each group has its error located in its
stderr log through the run's source, so it works for native and Metaflow-written runs alike.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, cast

from aiohttp import web

from backend.api import respond
from backend.cache.responses import settled_run
from backend.cache.run_rows import shared_run_row
from backend.db import digest as digest_db
from backend.db.liveness import live_params
from backend.db.query import Row
from backend.keys import DB, FAILURE_SIGNATURES, SETTINGS, TRIAGE
from backend.resources.digest import MAX_GROUPS, Group, error_lines, group_failures, group_shape, signature_of
from backend.routes import Route
from backend.sources import source_for
from backend.sources.base import LogWindow

log = logging.getLogger(__name__)

RECENT_RUNS = 20          # other runs of the flow looked at for "first seen in run N"
SAMPLE_PER_RUN = 100      # failed tasks read from each of them
LOG_TAIL = 2000           # lines of the example's stderr searched for the error
LOG_BUDGET_S = 3.0        # locating errors in logs never holds the digest up longer than this
LOG_CONCURRENCY = 8


async def _error_line(app: web.Application, run: Row, group: Group, row: Row) -> dict[str, Any] | None:
    task = {"task_pk": row["task_pk"], "step_name": row["step_name"], "task_id": row["task_id"]}
    page = await source_for(app, run).log_page(run, task, row["attempt"], "stderr", bool(row["ended"]),
                                               LogWindow(1, LOG_TAIL, LOG_TAIL))
    found = error_lines(page.lines, group.exception_type, str(row.get("exception_message") or ""))
    if found is None:
        return None
    start, end = found
    text = next(item["text"] for item in page.lines if item["line"] == end)
    return {"stream": "stderr", "line": start, "last_line": end, "text": text}


async def _error_lines(app: web.Application, run: Row,
                       groups: list[Group]) -> tuple[list[dict[str, Any] | None], bool]:
    """The error's lines in each group's example log (None where the log has no such line or
    cannot be read in time), and whether every log was read (the answer is then final)."""
    gate = asyncio.Semaphore(LOG_CONCURRENCY)

    async def one(group: Group) -> tuple[dict[str, Any] | None, bool]:
        row = group.example()
        async with gate:
            try:
                return await _error_line(app, run, group, row), True
            except Exception as exc:  # noqa: BLE001 - a missing or unreadable log leaves the line unknown
                log.debug("digest: no log line for %s: %s", group.signature, exc)
                return None, False

    tasks = [asyncio.ensure_future(one(g)) for g in groups]
    if tasks:
        await asyncio.wait(tasks, timeout=LOG_BUDGET_S)
    out: list[dict[str, Any] | None] = []
    complete = True
    for t in tasks:
        if t.done() and not t.cancelled():
            line, read = t.result()
            out.append(line)
            complete = complete and read
        else:
            t.cancel()
            out.append(None)
            complete = False
    return out, complete


async def _other_runs(app: web.Application, run: Row) -> tuple[list[Row], dict[str, list[Row]]]:
    """The flow's recent other failed runs, and by signature the runs (of those) it occurred in."""
    db = app[DB]
    runs = await digest_db.recent_failed_runs(db, run["flow_id"], run["run_pk"], RECENT_RUNS)
    by_pk = {r["run_pk"]: r for r in runs}
    seen: dict[str, dict[int, Row]] = {}
    for row in await digest_db.failure_sample(db, list(by_pk), SAMPLE_PER_RUN):
        sig = signature_of(row, app[FAILURE_SIGNATURES])[0]
        seen.setdefault(sig, {})[row["run_pk"]] = by_pk[row["run_pk"]]
    return runs, {sig: sorted(rs.values(), key=lambda r: (-r["created_at"], -r["run_pk"]))
                  for sig, rs in seen.items()}


async def _run_part(app: web.Application, run: Row) -> dict[str, Any]:
    """The digest of the run itself (groups, their log lines), kept for a settled run under its
    change_seq: only a write to the run can change it."""
    key = ("failures", run["run_pk"], run["change_seq"]) if settled_run(run) else None
    cache = app[TRIAGE]
    if key is not None and (hit := cache.get(key)) is not None:
        return cast(dict[str, Any], hit)
    db, params = app[DB], live_params(app[SETTINGS])
    final, retried = await asyncio.gather(digest_db.failed_tasks(db, params, run["run_pk"]),
                                          digest_db.retried_attempts(db, params, run["run_pk"]))
    groups = group_failures(final, retried, app[FAILURE_SIGNATURES])
    shown = groups[:MAX_GROUPS]
    logs, complete = await _error_lines(app, run, shown)
    part = {"failed_tasks": len(final), "retried_attempts": len(retried),
            "groups": [group_shape(run, g, line, [], None) for g, line in zip(shown, logs, strict=True)],
            "other_tasks": sum(len(g.final) for g in groups[MAX_GROUPS:])}
    if key is not None and complete:
        cache.put(key, part)     # a log that could not be read (in time) is read again next time
    return part


async def build_digest(app: web.Application, run: Row) -> dict[str, Any]:
    part, (others, seen) = await asyncio.gather(_run_part(app, run), _other_runs(app, run))
    groups = []
    for shaped in part["groups"]:
        runs = seen.get(shaped["signature"], [])
        earlier = [r for r in runs if r["created_at"] < run["created_at"]]
        first = min(earlier, key=lambda r: (r["created_at"], r["run_pk"]))["run_id"] if earlier else run["run_id"]
        groups.append({**shaped, "first_seen_run": first, "other_runs": [r["run_id"] for r in runs]})
    return {
        "run": f"{run['flow_id']}/{run['run_id']}", "status": run["status"],
        "failed_tasks": part["failed_tasks"], "retried_attempts": part["retried_attempts"], "groups": groups,
        "other_tasks": part["other_tasks"], "runs_compared": [r["run_id"] for r in others],
    }


async def get_digest(request: web.Request) -> web.Response:
    run = await shared_run_row(request)
    return respond.one(request, await build_digest(request.app, run))


ROUTES = [
    Route("/api/flows/{flow}/runs/{run}/failures", get_digest,
          "The failure digest: failed tasks grouped by error signature (type, normalised message, "
          "innermost user frame), each with its steps, foreach values, first and last occurrence, the "
          "log line of one example, and the flow's recent runs it also occurred in.",
          (), "object", "triage", operation="getFailureDigest", item="FailureDigest"),
]
