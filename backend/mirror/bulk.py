"""The backfill's bulk path: metadata and artifact rows copied set-wise, not replayed row by row.

Of a lean source's rows three in four are metadata and artifact rows. What Flowscope stores of
them needs only the mapping of the source's task id to Flowscope's task (``task_pk``, ``run_pk``)
and a few string rules; the statuses need only the metadata fields the translation folds
(``fold.FOLD_FIELDS``). So, per backfill batch:

* the replay (``replay.Replayer``) reads and folds the metadata rows of those fields, plus any row
  whose tags only Python converts exactly (``source_sql.CLEAN_TAGS``), which it also writes;
* every other metadata row — and the folded ones too — arrives from the source as arrays, one
  per column in their text form (the last row of ``metadata_batch``, the statement that also
  returns the rows to fold, so each row is read once; never decoded in Python), and is written by
  one ``INSERT … SELECT`` that joins them to the batch's tasks, in the order the replay would
  have written them (by call, then id);
* an attempt's artifact rows take the same way when the datastore can add nothing to them (every
  ``:root:`` names a root known unreadable, see ``Enricher.known_unreadable``), their shas are
  sound and their run did not just finish (see ``artifacts_batch``); the other attempts are replayed.

The rows written are the rows the replay writes (tests/mirror/test_mirror_bulk.py compares both
ways table by table). Rows of a task the source's tasks table lacks are not written and are
reported as the replay reports them (logged with their key, counted as skipped). A batch
Flowscope refuses is read again the replay's way (``refill``) and applied run by run.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
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
    # Clean tags are strings only; the usual one tag (``attempt_id:N``) is read without a subquery.
    "WITH b AS (SELECT b.*, CASE WHEN jsonb_array_length(b.gj) = 1 THEN ARRAY[b.gj ->> 0] "
    "ELSE ARRAY(SELECT jsonb_array_elements_text(b.gj)) END AS g FROM unnest(%s::bigint[], "
    "%s::bigint[], %s::text[], %s::text[], %s::text[], %s::jsonb[], %s::bigint[], %s::bigint[], %s::bigint[]) "
    "AS b(i, t, f, v, y, gj, s, c, k)), "
    "x AS (SELECT b.i, b.t, b.f, b.v, b.y, b.g, b.s, b.c, b.k, CASE WHEN cardinality(b.g) = 1 "
    "THEN CASE WHEN b.g[1] LIKE 'attempt\\_id:%%' THEN substr(b.g[1], 12)::int END ELSE (SELECT substr(tag, 12)::int "
    "FROM unnest(b.g) WITH ORDINALITY AS u(tag, n) WHERE tag LIKE 'attempt\\_id:%%' ORDER BY n LIMIT 1) END AS a "
    f"FROM b UNION ALL SELECT * FROM json_to_recordset(%s::json) AS p({_MD_COLS}, a int)), " + _TASKS + ", "
    "ins AS (INSERT INTO metadata (task_pk, run_pk, attempt, field_name, value, type, tags, created_at) "
    "SELECT k.task_pk, k.run_pk, x.a, x.f, x.v, x.y, x.g, x.s "
    "FROM x JOIN k ON k.tid = x.t WHERE k.task_pk IS NOT NULL ORDER BY x.k, x.c, x.i RETURNING 1) "
    "SELECT (SELECT count(*) FROM ins) AS inserted, (SELECT count(*) FROM x JOIN k ON k.tid = x.t) AS matched, "
    "(SELECT array_agg(DISTINCT x.c) FROM x WHERE NOT EXISTS (SELECT 1 FROM k WHERE k.tid = x.t)) AS unmatched"
)
MD_ARRAYS = ("i", "t", "f", "v", "y", "g", "s", "c", "k")     # metadata_batch's arrays, in INSERT_METADATA's order
# No ON CONFLICT: the batch's tasks are new (inserted by this transaction), so no row of theirs
# exists; when two source tasks name one Flowscope task and register an artifact of the same name,
# the INSERT fails and the batch is applied again the replay's way (``refill``), which keeps the row
# it applies first (with ON CONFLICT DO NOTHING this statement kept another one). The speculative
# insertion ON CONFLICT makes per row cost 15-18 ms in a 6,904-row batch (docs/benchmarks.md).
INSERT_ARTIFACTS = (
    "WITH x AS (SELECT * FROM unnest(%s::bigint[], %s::int[], %s::text[], %s::text[], %s::text[], %s::text[], "
    "%s::bigint[], %s::text[]) AS x(t, a, n, l, h, e, s, r)), " + _TASKS + ", "
    "ins AS (INSERT INTO artifacts (task_pk, attempt, name, run_pk, sha, encoding, location, created_at) "
    "SELECT k.task_pk, x.a, x.n, k.run_pk, x.h, x.e, x.l, x.s FROM x JOIN k ON k.tid = x.t "
    "WHERE k.task_pk IS NOT NULL RETURNING 1) "
    "SELECT (SELECT count(*) FROM ins) AS inserted, (SELECT count(*) FROM x JOIN k ON k.tid = x.t) AS matched, "
    "(SELECT array_agg(DISTINCT ARRAY[x.t, x.a]) FROM x "
    "WHERE NOT EXISTS (SELECT 1 FROM k WHERE k.tid = x.t)) AS unmatched, "
    # attempts per datastore root; DISTINCT on plain columns (a row value compares field by field, slowly)
    "(SELECT json_object_agg(q.r, q.n) FROM (SELECT d.r, count(*) AS n FROM (SELECT DISTINCT x.r, x.t, x.a "
    "FROM x JOIN k ON k.tid = x.t WHERE x.r IS NOT NULL) d GROUP BY d.r) q) AS roots"
)
ART_ARRAYS = ("t", "a", "n", "l", "h", "e", "s", "r")     # artifacts_batch's arrays, in INSERT_ARTIFACTS' order


@dataclass
class Bulk:
    """A batch's rows that skip the replay: one array per column, in the text form the source gave."""

    runs: tuple[list[str], list[int]] = ([], [])
    metadata: dict[str, str | None] | None = None
    own_metadata: list[dict[str, Any]] = field(default_factory=list)   # rows the replay converted
    artifacts: dict[str, str | None] | None = None
    fold_calls: set[int] = field(default_factory=set)     # calls the replay saw (it reports their skips)
    refill: Callable[[], Awaitable[Batch]] | None = None  # the same runs, read for the replay alone


async def write(m: Mirror, cur: Cursor, bulk: Bulk, tasks: dict[int, TaskState], applied: Applied) -> None:
    """Write the bulk rows of a batch whose tasks are flushed (``tasks``: source task id -> task)."""
    # Array literals, built once for both INSERTs: psycopg2 adapts a list of ints element by
    # element (about 1.1 µs each: 6 ms for the three lists of a 1,750-task batch, per statement).
    keys = (int_array(tasks), int_array(t.task_pk for t in tasks.values()),
            int_array(t.run.run_pk for t in tasks.values()))
    md = bulk.metadata if bulk.metadata and bulk.metadata.get("i") is not None else None
    if md is not None or bulk.own_metadata:
        cols = [md[c] if md else None for c in MD_ARRAYS]
        row = await one(cur, INSERT_METADATA, (*cols, orjson.dumps(bulk.own_metadata).decode(), *keys))
        assert row is not None
        applied.rows += int(row["matched"])
        calls = sorted(c for c in (row["unmatched"] or []) if c not in bulk.fold_calls)
        if calls:
            for r in sorted(await m.source.all(m.source.sql.metadata_by_id, (calls,)), key=lambda r: int(r["id"])):
                _skipped(applied, _describe("metadata", [r]), f"its task {r['task_id']} is not in the source's "
                                                              "tasks table")
    art = bulk.artifacts if bulk.artifacts and bulk.artifacts.get("t") is not None else None
    if art is not None:
        row = await one(cur, INSERT_ARTIFACTS, (*(art[c] for c in ART_ARRAYS), *keys))
        assert row is not None
        applied.rows += int(row["matched"])
        lost = {(int(t), int(a)) for t, a in (row["unmatched"] or [])}
        if lost:
            # Their keys, for the log: rare (a task row missing from the source), so read again.
            named = {(int(r["task_id"]), int(r["attempt_id"])): r
                     for r in await m.source.all(m.source.sql.artifacts_of_runs, bulk.runs)}
            for t, a in sorted(lost):
                r = named.get((t, a), {"flow_id": "?", "run_number": "?", "step_name": "?"})
                _skipped(applied, f"artifacts of {r['flow_id']}/{r['run_number']}/{r['step_name']}/{t} attempt {a}",
                         f"its task {t} is not in the source's tasks table")
        for root, n in (row["roots"] or {}).items():
            # Attempts the replay would have sent to an unreadable datastore: counted the same.
            m.enricher.unreadable[root] = m.enricher.unreadable.get(root, 0) + int(n)


def int_array(values: Iterable[int | None]) -> str:
    """A Postgres array literal of integers (NULL for None), for a ``%s::bigint[]`` parameter."""
    return "{" + ",".join("NULL" if v is None else str(int(v)) for v in values) + "}"


def _skipped(applied: Applied, what: str, why: str) -> None:
    log.warning("skipped source %s: %s", what, why)
    applied.skipped.append(f"{what}: {why}")

