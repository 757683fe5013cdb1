"""Runs that Metaflow wrote (through the ingest service, or mirrored from a metaflow-service
database): rows in Flowscope's tables, contents in Metaflow's own datastore (docs/metaflow.md).

The datastore of a task is its ``ds-root`` metadata (local directory or s3://…). Logs are whole
MFLOG files per attempt (``runtime_`` and ``task_`` merged by time, numbered from 1), artifact
values are Metaflow's gzip'd pickles (rendered in the artifact worker like native ones), cards
are files in its card store (backend/sources/metaflow_cards.py). Every read goes through
app[METAFLOW_READER] (a bounded thread pool under ``datastore_timeout``, with its caches).

The DAG is ``runs.dag`` once the ingest has decoded the run's ``_graph_info``; a run whose
``_graph_info`` artifact row exists without it (the datastore could not be read when the
artifact was recorded, or a mirror copied the row without decoding it) gets it decoded here, on
first view, with the restricted unpickler.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncGenerator
from typing import Any, cast

from aiohttp import web

from backend.db import logs as logs_db
from backend.db import search as search_db
from backend.db import steps as steps_db
from backend.db import tasks as tasks_db
from backend.db.liveness import live_params
from backend.db.query import Row
from backend.errors import ApiError
from backend.keys import DAG_CACHE, DB, RENDERER, SETTINGS
from backend.metaflow_store.mflog import MflogLine
from backend.sandbox.safe_pickle import RestrictedValueError, restricted_loads, to_json_value
from backend.sources.base import (
    CardData,
    CardHtml,
    CardList,
    LineText,
    LogPage,
    LogPiece,
    LogWindow,
    PieceText,
    SearchScope,
)
from backend.sources.dags import cached_dag, known
from backend.sources.metaflow_cards import (
    card_data,
    card_html,
    finished,
    missing_notice,
    task_card_listing,
    task_cards,
)
from backend.sources.metaflow_reader import LogKey, reader_for
from contract.logs_format import STREAMS

log = logging.getLogger(__name__)

# Encodings Metaflow's datastore writes for pickled artifacts (data.json "encoding").
METAFLOW_PICKLES = ("pickle-v2", "pickle-v4", "gzip+pickle-v2", "gzip+pickle-v4")
DAG_RETRY_S = 60.0      # after a failed read of _graph_info, try again no sooner than this
MAX_DAG_FAILURES = 1024


def numbered(lines: list[MflogLine], start: int, end: int) -> list[dict[str, Any]]:
    return [{"line": n, "ts": ln.ts_ms, "text": ln.text}
            for n, ln in enumerate(lines[start - 1:end - 1], start)]


class MetaflowSource:
    name = "metaflow"

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self._dag_failed: dict[int, float] = {}   # run_pk -> when reading its _graph_info failed

    # -- logs ----------------------------------------------------------------------------------
    async def _ds_root(self, run: Row, task: Row) -> str:
        root = await logs_db.metaflow_ds_root(self.app[DB], run["run_pk"], task["task_pk"])
        if root is None:
            raise ApiError(404, f"task {run['flow_id']}/{run['run_id']}/{task['step_name']}/{task['task_id']} "
                                "has no ds-root metadata: the Metaflow datastore of its logs is unknown")
        return root

    async def _lines(self, run: Row, task: Row, attempt: int, stream: str, complete: bool) -> list[MflogLine]:
        """All lines of the stream; [] when the attempt has not written its log yet."""
        if not complete and await logs_db.metaflow_ds_root(self.app[DB], run["run_pk"], task["task_pk"]) is None:
            return []   # just started: Metaflow registers the task's ds-root a moment after the task
        key = (await self._ds_root(run, task), run["flow_id"], run["run_id"], task["step_name"],
               task["task_id"], attempt, stream)
        lines = await reader_for(self.app).log(key, complete)
        if complete and not lines:
            await reader_for(self.app).check_attempt(key)   # printed nothing, or an unreadable store
        return lines

    async def log_page(self, run: Row, task: Row, attempt: int, stream: str, complete: bool,
                       window: LogWindow) -> LogPage:
        lines = await self._lines(run, task, attempt, stream, complete)
        total = len(lines)
        start, end = window.lines(total)
        # A local run saves its logs just after the attempt is recorded as finished: an empty
        # log of a finished attempt may still fill up.
        return LogPage(numbered(lines, start, end), end, total, immutable=complete and total > 0)

    async def log_text(self, run: Row, task: Row, attempt: int, stream: str,
                       complete: bool) -> AsyncGenerator[bytes, None]:
        lines = await self._lines(run, task, attempt, stream, complete)
        yield "".join(ln.text + "\n" for ln in lines).encode()

    async def search_tasks(self, run: Row, after: int, scope: SearchScope, limit: int) -> list[Row]:
        return await search_db.metaflow_task_batch(self.app[DB], run["run_pk"], after, scope.steps, limit,
                                                   scope.tasks, scope.attempt)

    async def log_pieces(self, run: Row, tasks: list[Row], scope: SearchScope) -> list[LogPiece]:
        db = self.app[DB]
        pks = [t["task_pk"] for t in tasks]
        roots = await logs_db.metaflow_ds_roots(db, run["run_pk"], pks)
        attempts = await tasks_db.attempts_of(db, live_params(self.app[SETTINGS]), pks)
        streams = sorted(scope.streams or STREAMS)    # stderr first, like log_chunks rows
        pieces: list[LogPiece] = []
        for task in tasks:
            root = roots.get(task["task_pk"])
            if root is None:
                continue     # never started: nothing wrote a log
            for a in attempts[task["task_pk"]]:    # in attempt order
                if scope.attempt is not None and a["attempt"] != scope.attempt:
                    continue
                for stream in streams:
                    key = (root, run["flow_id"], run["run_id"], task["step_name"], task["task_id"],
                           a["attempt"], stream)
                    pieces.append(LogPiece(task["task_pk"], a["attempt"], stream, 1,
                                           (key, a["status"] != "running")))
        return pieces

    async def read_piece(self, run: Row, piece: LogPiece) -> PieceText:
        key, complete = cast(tuple[LogKey, bool], piece.key)
        lines = await reader_for(self.app).log(key, complete)
        return LineText([(ln.ts_ms, ln.text) for ln in lines], piece.first_line,
                        size=sum(len(ln.text) + 1 for ln in lines))

    # -- artifacts -----------------------------------------------------------------------------
    def renders(self, encoding: str | None) -> bool:
        return encoding in METAFLOW_PICKLES

    async def artifact_value(self, run: Row, row: Row) -> dict[str, Any]:
        """Unpickled in the renderer's worker process, like a native value.

        Whatever goes wrong (datastore unreadable, worker timeout or memory limit, a class the
        worker cannot import) becomes the error of this one artifact, never of the response.
        """
        try:
            blob = await reader_for(self.app).blob(row["location"])
            return await self.app[RENDERER].render(row["sha"], blob, f"artifact {row['name']!r}")
        except ApiError as exc:
            return {"error": exc.message}

    async def artifact_bytes(self, run: Row, row: Row) -> bytes:
        return await reader_for(self.app).blob(row["location"])   # gunzipped: the pickle itself

    # -- cards ---------------------------------------------------------------------------------
    async def cards(self, run: Row, task: Row, attempt: int | None) -> list[Row]:
        # Metaflow's @card files live in its own card store, not in the cards table.
        return [c.row() for c in await task_cards(self.app, run, task)
                if attempt is None or c.attempt == attempt]

    async def card_list(self, run: Row, task: Row, attempt: int | None) -> CardList:
        cards, missing, store = await task_card_listing(self.app, run, task)
        lost = [h for h, a in missing.items() if attempt is None or a == attempt]
        return CardList([c.row() for c in cards if attempt is None or c.attempt == attempt],
                        missing_notice(len(lost), *store) if lost and store else None)

    async def card_html(self, run: Row, task: Row, card_id: str, attempt: int | None) -> CardHtml | None:
        # The id is only matched against the listing: it never becomes part of a path.
        found = [c for c in await task_cards(self.app, run, task)
                 if c.card_id == card_id and (attempt is None or c.attempt == attempt)]
        if not found:
            return None
        # found[0] is the latest attempt's; a running task's cards may still be re-rendered in place.
        return CardHtml(await card_html(self.app, task, found[0]), immutable=finished(task))

    async def card_data(self, run: Row, task: Row, card_id: str, attempt: int | None) -> CardData | None:
        found = [c for c in await task_cards(self.app, run, task)
                 if c.card_id == card_id and (attempt is None or c.attempt == attempt)]
        if not found:
            return None
        # Metaflow overwrites its runtime data file on every refresh: never cached.
        return CardData(await card_data(self.app, found[0]), immutable=False)

    # -- the DAG -------------------------------------------------------------------------------
    async def dag(self, run: Row) -> dict[str, Any]:
        cache, db = self.app[DAG_CACHE], self.app[DB]
        dag = await cached_dag(cache, db, run["run_pk"])
        if known(dag):
            return dag
        decoded = await self._graph_info(run)
        if known(decoded):
            cache.put(run["run_pk"], decoded)
            return decoded
        return dag

    async def _graph_info(self, run: Row) -> dict[str, Any]:
        """The DAG decoded from the run's ``_graph_info`` artifact; {} if there is none (yet)."""
        run_pk = run["run_pk"]
        failed_at = self._dag_failed.get(run_pk)
        if failed_at is not None and time.monotonic() - failed_at < DAG_RETRY_S:
            return {}
        row = await steps_db.graph_info_artifact(self.app[DB], run_pk)
        if row is None or not row["location"]:
            return {}
        try:
            value = restricted_loads(await reader_for(self.app).blob(row["location"]))
        except (ApiError, RestrictedValueError) as exc:
            log.warning("the DAG of %s/%s: cannot decode _graph_info: %s", run["flow_id"], run["run_id"],
                        getattr(exc, "message", exc))
            if len(self._dag_failed) >= MAX_DAG_FAILURES:
                self._dag_failed.clear()
            self._dag_failed[run_pk] = time.monotonic()
            return {}
        decoded = to_json_value(value)
        return decoded if isinstance(decoded, dict) else {}
