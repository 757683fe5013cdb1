"""The backfill's bulk path: metadata and artifact rows copied set-wise, not replayed row by row.

Of a lean source's rows three in four are metadata and artifact rows. What Flowscope stores of
them needs only the mapping of the source's task id to Flowscope's task (``task_pk``, ``run_pk``)
and a few string rules; the statuses need only the metadata fields the translation folds
(``fold.FOLD_FIELDS``). So, per backfill batch:

* the replay (``replay.Replayer``) reads and folds the metadata rows of those fields, plus any row
  whose tags only Python converts exactly (``source_sql.CLEAN_TAGS``), which it also writes;
* every other metadata row — and the folded ones too — arrives from the source as one JSON text
  (``metadata_bulk``: built by the source, never decoded in Python) and is written by one
  ``INSERT … SELECT`` that joins it to the batch's tasks, in the order the replay would have
  written it (by call, then id);
* an attempt's artifact rows take the same way when the datastore can add nothing to them (every
  ``:root:`` names a root known unreadable, see ``Enricher.known_unreadable``), their shas are
  sound and their run did not just finish (see ``artifacts_bulk``); the other attempts are replayed.

The rows written are the rows the replay writes (tests/mirror/test_mirror_bulk.py compares both
ways table by table). Rows of a task the source's tasks table lacks are not written and are
reported as the replay reports them (logged with their key, counted as skipped). A batch
Flowscope refuses is read again the replay's way (``refill``) and applied run by run.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from backend.ingest.db.pool import Cursor, one
from backend.ingest.state.model import TaskState
from backend.mirror.replay import Applied, Batch, _describe

if TYPE_CHECKING:
    from backend.mirror.mirror import Mirror

log = logging.getLogger(__name__)

_TASKS = "k AS (SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[]) AS k(tid, task_pk, run_pk))"
_MD_COLS = "i bigint, t bigint, f text, v text, y text, g text[], s bigint, c bigint, k bigint"
# The source's clean rows (their attempt taken from the tags as ``wire.attempt_of_tags`` does)
# and the replay's own rows (converted in Python), written in the replay's order: by call, then id.
INSERT_METADATA = (
    "WITH x AS (SELECT b.*, (SELECT substr(tag, 12)::int FROM unnest(b.g) WITH ORDINALITY AS u(tag, n) "
    f"WHERE tag LIKE 'attempt\\_id:%%' ORDER BY n LIMIT 1) AS a FROM json_to_recordset(%s::json) AS b({_MD_COLS}) "
    f"UNION ALL SELECT * FROM json_to_recordset(%s::json) AS p({_MD_COLS}, a int)), " + _TASKS + ", "
    "ins AS (INSERT INTO metadata (task_pk, run_pk, attempt, field_name, value, type, tags, created_at) "
    "SELECT k.task_pk, k.run_pk, x.a, x.f, x.v, x.y, x.g, x.s "
    "FROM x JOIN k ON k.tid = x.t WHERE k.task_pk IS NOT NULL ORDER BY x.k, x.c, x.i RETURNING 1) "
    "SELECT (SELECT count(*) FROM ins) AS inserted, (SELECT count(*) FROM x JOIN k ON k.tid = x.t) AS matched, "
    "(SELECT array_agg(DISTINCT x.c) FROM x WHERE NOT EXISTS (SELECT 1 FROM k WHERE k.tid = x.t)) AS unmatched"
)
INSERT_ARTIFACTS = (
    "WITH x AS (SELECT * FROM json_to_recordset(%s::json) AS x(f text, u bigint, st text, t bigint, a int, "
    "n text, l text, h text, e text, s bigint, r text)), " + _TASKS + ", "
    "ins AS (INSERT INTO artifacts (task_pk, attempt, name, run_pk, sha, encoding, location, created_at) "
    "SELECT k.task_pk, x.a, x.n, k.run_pk, x.h, x.e, x.l, x.s FROM x JOIN k ON k.tid = x.t "
    "WHERE k.task_pk IS NOT NULL ON CONFLICT DO NOTHING RETURNING 1) "
    "SELECT (SELECT count(*) FROM ins) AS inserted, (SELECT count(*) FROM x JOIN k ON k.tid = x.t) AS matched, "
    "(SELECT json_agg(DISTINCT jsonb_build_array(x.f, x.u, x.st, x.t, x.a)) FROM x "
    "WHERE NOT EXISTS (SELECT 1 FROM k WHERE k.tid = x.t)) AS unmatched, "
    "(SELECT json_object_agg(q.r, q.n) FROM (SELECT x.r, count(DISTINCT (x.t, x.a)) AS n FROM x "
    "JOIN k ON k.tid = x.t WHERE x.r IS NOT NULL GROUP BY x.r) q) AS roots"
)


@dataclass
class Bulk:
    """A batch's rows that skip the replay: JSON texts as the source built them."""

    metadata: str | None = None
    own_metadata: list[dict[str, Any]] = field(default_factory=list)   # rows the replay converted
    artifacts: str | None = None
    fold_calls: set[int] = field(default_factory=set)     # calls the replay saw (it reports their skips)
    refill: Callable[[], Awaitable[Batch]] | None = None  # the same runs, read for the replay alone


async def write(m: Mirror, cur: Cursor, bulk: Bulk, tasks: dict[int, TaskState], applied: Applied) -> None:
    """Write the bulk rows of a batch whose tasks are flushed (``tasks``: source task id -> task)."""
    keys = (list(tasks), [t.task_pk for t in tasks.values()], [t.run.run_pk for t in tasks.values()])
    if bulk.metadata or bulk.own_metadata:
        row = await one(cur, INSERT_METADATA, (bulk.metadata or "[]", orjson.dumps(bulk.own_metadata).decode(),
                                               *keys))
        assert row is not None
        applied.rows += int(row["matched"])
        calls = sorted(c for c in (row["unmatched"] or []) if c not in bulk.fold_calls)
        if calls:
            for r in sorted(await m.source.all(m.source.sql.metadata_by_id, (calls,)), key=lambda r: int(r["id"])):
                _skipped(applied, _describe("metadata", [r]), f"its task {r['task_id']} is not in the source's "
                                                              "tasks table")
    if bulk.artifacts:
        row = await one(cur, INSERT_ARTIFACTS, (bulk.artifacts, *keys))
        assert row is not None
        applied.rows += int(row["matched"])
        for f, u, st, t, a in sorted(row["unmatched"] or []):
            _skipped(applied, f"artifacts of {f}/{u}/{st}/{t} attempt {a}",
                     f"its task {t} is not in the source's tasks table")
        for root, n in (row["roots"] or {}).items():
            # Attempts the replay would have sent to an unreadable datastore: counted the same.
            m.enricher.unreadable[root] = m.enricher.unreadable.get(root, 0) + int(n)


def _skipped(applied: Applied, what: str, why: str) -> None:
    log.warning("skipped source %s: %s", what, why)
    applied.skipped.append(f"{what}: {why}")

