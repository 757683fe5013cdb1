"""Runs: lookups, the filtered/ordered keyset listing and per-group listings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from operator import itemgetter
from typing import TYPE_CHECKING, Any, cast

from backend.db.liveness import reason_expr, stale_expr, status_expr, status_filter
from backend.db.query import Db, Row
from backend.db.run_json import RUN_JSON, run_json
from backend.db.tag_stats import driving_tag, tag_frequencies
from backend.db.versioned import fill_json_tuples

if TYPE_CHECKING:
    from backend.cache.versions import JsonVersions

RUN_FIELDS = f"""
    r.run_pk, r.flow_id, r.run_id, r.run_number, r.user_name, r.tags, r.system_tags, r.source,
    {status_expr('r')} AS status, {reason_expr('r')} AS status_reason, {stale_expr('r')} AS stale,
    r.failed_step, r.origin_run_id, r.created_at, r.started_at, r.finished_at, r.duration_ms,
    r.heartbeat_at, r.parameters, r.n_tasks, r.n_running, r.n_completed, r.n_failed, r.change_seq
"""
# The columns plus the run's answer (run_shape in backend/resources/runs.py wraps it).
RUN_COLUMNS = f"{RUN_FIELDS}, {RUN_JSON} AS run_json"
# A page of a run list needs only the answer's JSON and the cursor's sort keys.
RUN_LIST_COLUMNS = f"r.run_pk, r.created_at, r.finished_at, r.duration_ms, {RUN_JSON} AS run_json"
# The same page when run JSON is held by version (backend/cache/versions.py): each row's key, its
# version, whether its JSON depends on the clock and, for those running, the JSON (running runs are
# common at the top of a list: one statement, not two); fill_run_json() adds the others'.
RUN_KEY_COLUMNS = ("r.run_pk, r.created_at, r.finished_at, r.duration_ms, r.change_seq, "
                   f"r.status = 'running' AS running, CASE WHEN r.status = 'running' THEN {RUN_JSON} END AS run_json")
RUN_JSON_BY_PK = (f"SELECT r.run_pk, r.change_seq, r.status = 'running' AS running, {RUN_JSON} AS run_json "
                  "FROM runs r WHERE r.run_pk = ANY(%(keys)s)")


# A run list page's rows are read as plain tuples (Db.tuples) and split by position: the key and
# the cursor's sort columns first (PAGE_SORT_AT), in both column lists; the JSON last.
PAGE_SORT_AT = {"created": 1, "finished": 2, "duration": 3}


async def fill_run_json(db: Db, live: dict[str, Any], rows: list[tuple[Any, ...]],
                        versions: JsonVersions) -> list[str | None]:
    """The JSON of each row of a RUN_KEY_COLUMNS page (None: gone); a run's version: its change_seq."""
    return await fill_json_tuples(db, live, rows, versions, json_at=6, running_at=5, version=_page_version,
                                  by_key_sql=RUN_JSON_BY_PK, built_version=_built_version)


_page_version = itemgetter(4)    # a RUN_KEY_COLUMNS row's change_seq
_built_version = itemgetter(1)   # a RUN_JSON_BY_PK row's


# What a run's sub-resources (its DAG, steps and tasks) read of the run: its key, the source that
# reads its contents, its effective status (``stale``: a lost heartbeat) and what the response cache's
# settled-run check reads (backend/cache/responses.py). Not the tags, parameters, reason or times
# of the full row (RUN_FIELDS): decoding those was a quarter of a steps page's Python.
RUN_REF = (("run_pk", "r.run_pk"), ("flow_id", "r.flow_id"), ("run_id", "r.run_id"), ("source", "r.source"),
           ("status", status_expr("r")), ("stale", stale_expr("r")), ("n_running", "r.n_running"),
           ("finished_at", "r.finished_at"), ("change_seq", "r.change_seq"))
RUN_REF_NAMES = tuple(name for name, _ in RUN_REF)


def run_ref_columns(prefix: str = "") -> str:
    """RUN_REF's columns, each named ``prefix`` + its name (a prefix keeps them apart from a joined
    row's own ``change_seq``, ``status``...)."""
    return ", ".join(f"{expr} AS {prefix}{name}" for name, expr in RUN_REF)


RUN_REF_BY_ID = f"SELECT {run_ref_columns()} FROM runs r WHERE r.flow_id = %(flow)s AND r.run_id = %(run)s"

# A run lookup (a run page's steps, tasks, DAG...) needs no JSON: building it cost Postgres ~0.12 ms
# a request (bench.throughput, "run: steps"); the answers that show the run select it.
RUN_BY_ID = f"SELECT {RUN_FIELDS} FROM runs r WHERE r.flow_id = %(flow)s AND r.run_id = %(run)s"
RUN_BY_ID_JSON = f"SELECT {RUN_COLUMNS} FROM runs r WHERE r.flow_id = %(flow)s AND r.run_id = %(run)s"
# The run's columns (for the response cache's settled-run check) and its RunDetail JSON.
_RUN_WITH_SOURCE = """
SELECT {columns}, {detail}::text AS detail_json
FROM runs r LEFT JOIN run_sources s ON s.run_pk = r.run_pk
WHERE r.flow_id = %(flow)s AND r.run_id = %(run)s
"""
RUN_WITH_FILE_NAME = _RUN_WITH_SOURCE.format(columns=RUN_FIELDS, detail=run_json("r", "'file_name', s.file_name"))
RUN_WITH_SOURCE = _RUN_WITH_SOURCE.format(
    columns=RUN_FIELDS, detail=run_json("r", "'file_name', s.file_name, 'source_code', s.source"))
# One run's RunDetail (without the source text) held by version in run_versions under
# ("detail", run_pk): a run that is not stored as running does not change with the clock, and
# run_sources is written once, in the transaction that creates the run (core_runtime/store), so the
# runs row's change_seq versions the whole answer. The head says which version to look for; the
# answer is built by primary key only when that version is not held (or the run is running).
RUN_DETAIL_HEAD = ("SELECT r.run_pk, r.change_seq, r.status = 'running' AS running FROM runs r "
                   "WHERE r.flow_id = %(flow)s AND r.run_id = %(run)s")
_DETAIL = run_json("r", "'file_name', s.file_name")
RUN_DETAIL_BY_PK = (f"SELECT r.change_seq, r.status = 'running' AS running, {_DETAIL}::text AS detail_json "
                    "FROM runs r LEFT JOIN run_sources s ON s.run_pk = r.run_pk WHERE r.run_pk = %(run_pk)s")
RUNS_CHANGED = f"SELECT {RUN_COLUMNS} FROM runs r WHERE r.change_seq > %(since)s"


@dataclass(frozen=True)
class Order:
    """A sort of the run list: which column, which way; nullable columns sort nulls last (desc)."""

    name: str          # created | finished | duration
    column: str
    nullable: bool
    descending: bool

    @property
    def cursor_kind(self) -> str:
        return f"runs:{self.name}:{'desc' if self.descending else 'asc'}"


ORDER_COLUMNS = {"created": ("r.created_at", False), "finished": ("r.finished_at", True),
                 "duration": ("r.duration_ms", True)}
RUN_STATUSES = ("running", "completed", "failed")


def make_order(name: str, descending: bool) -> Order:
    column, nullable = ORDER_COLUMNS[name]
    return Order(name, column, nullable, descending)


@dataclass
class RunFilters:
    statuses: list[str] = field(default_factory=list)
    flows: list[str] = field(default_factory=list)
    users: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    any_tags: list[str] = field(default_factory=list)
    system_tags: list[str] = field(default_factory=list)
    created_after: int | None = None
    created_before: int | None = None
    q: str | None = None

    def where(self, params: dict[str, Any]) -> list[str]:
        """WHERE fragments (AND-ed) and their params; every value goes through a placeholder."""
        out: list[str] = []
        if self.statuses:
            out.append(status_filter("r", self.statuses))
        if self.flows:
            out.append("r.flow_id = ANY(%(f_flows)s)")
            params["f_flows"] = self.flows
        if self.users:
            out.append("r.user_name = ANY(%(f_users)s)")
            params["f_users"] = self.users
        if self.tags:
            out.append("r.tags @> %(f_tags)s::text[]")
            params["f_tags"] = self.tags
        if self.any_tags:
            out.append("r.tags && %(f_any_tags)s::text[]")
            params["f_any_tags"] = self.any_tags
        if self.system_tags:
            out.append("r.system_tags @> %(f_system_tags)s::text[]")
            params["f_system_tags"] = self.system_tags
        if self.created_after is not None:
            out.append("r.created_at >= %(f_after)s")
            params["f_after"] = self.created_after
        if self.created_before is not None:
            out.append("r.created_at < %(f_before)s")
            params["f_before"] = self.created_before
        if self.q:
            params["f_q"] = "%" + self.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            out.append("(r.flow_id ILIKE %(f_q)s OR r.run_id ILIKE %(f_q)s OR r.user_name ILIKE %(f_q)s "
                       "OR array_to_string(r.tags, ' ') ILIKE %(f_q)s)")
        return out


NO_FILTERS = RunFilters()   # compared with, not changed


def keyset(order: Order, cursor: Sequence[Any] | None, params: dict[str, Any],
           pk: str = "r.run_pk") -> tuple[str, str]:
    """(WHERE fragment after the cursor, ORDER BY) for a keyset page on (column, run_pk).

    Descending sorts put NULLs last and ascending ones first, so each order is one of the
    runs_* indexes scanned forwards or backwards.
    """
    c = order.column
    # NULLS LAST/FIRST only on nullable columns: Postgres does not use NOT NULL to match an
    # index's null ordering, so "created_at DESC NULLS LAST" would sort all 1M runs (~0.7 s)
    # instead of reading runs_created (created_at DESC = NULLS FIRST) from its start.
    if order.descending:
        order_by = f"{c} DESC{' NULLS LAST' if order.nullable else ''}, {pk} DESC"
    else:
        order_by = f"{c} ASC{' NULLS FIRST' if order.nullable else ''}, {pk} ASC"
    if cursor is None:
        return "TRUE", order_by
    value, after_pk = cursor
    params["c_value"], params["c_pk"] = value, after_pk
    if order.descending:
        if value is None:
            where = f"({c} IS NULL AND {pk} < %(c_pk)s)"
        elif order.nullable:
            where = f"(({c}, {pk}) < (%(c_value)s, %(c_pk)s) OR {c} IS NULL)"
        else:
            where = f"(({c}, {pk}) < (%(c_value)s, %(c_pk)s))"
    else:
        if value is None:
            where = f"(({c} IS NULL AND {pk} > %(c_pk)s) OR {c} IS NOT NULL)"
        else:
            where = f"(({c}, {pk}) > (%(c_value)s, %(c_pk)s))"
    return where, order_by


def sort_key(order: Order, row: Sequence[Any]) -> list[Any]:
    """The cursor after ``row``, a page's row as read (its key, then RUN_LIST_COLUMNS' sort columns)."""
    return [row[PAGE_SORT_AT[order.name]], row[0]]


def list_runs_sql(filters: RunFilters, order: Order, cursor: Sequence[Any] | None, limit: int,
                  params: dict[str, Any], columns: str = RUN_LIST_COLUMNS,
                  tag_freqs: dict[str, float] | None = None) -> str:
    """The statement of one page (and its params, added to ``params``).

    With a tag that is not common (``tag_freqs``: backend/db/tag_stats.py) and the default order,
    the page is read from run_tags (migration 0008): the rarest tag's rows newest first, each
    joined to its run by primary key, instead of every run with the tag found through the GIN
    index and sorted (12-50 ms for a tag on 0.3 % of 1M runs). Both ways give the same rows in
    the same order, so a cursor from one continues on the other.
    """
    source, pk = "runs r", "r.run_pk"
    tag = driving_tag(filters.tags, tag_freqs or {}) if order.name == "created" else None
    if tag is not None:
        # The join is the driving tag's filter: repeating it as tags @> would make the planner
        # count its selectivity twice, expect a handful of rows and sort the GIN matches again.
        source, pk = "run_tags rt JOIN runs r ON r.run_pk = rt.run_pk", "rt.run_pk"
        params["f_tag0"] = tag
        filters = replace(filters, tags=[t for t in filters.tags if t != tag])
        order = replace(order, column="rt.created_at")
    where = filters.where(params)
    if tag is not None:
        where.append("rt.tag = %(f_tag0)s")
    after, order_by = keyset(order, cursor, params, pk)
    params["limit"] = limit + 1
    return (f"SELECT {columns} FROM {source} WHERE {' AND '.join([*where, after])} "
            f"ORDER BY {order_by} LIMIT %(limit)s")


async def list_runs(db: Db, live: dict[str, Any], filters: RunFilters, order: Order,
                    cursor: Sequence[Any] | None, limit: int,
                    versions: JsonVersions | None = None) -> tuple[list[tuple[Any, ...]], list[str], bool]:
    """One page of runs: its rows as read (for sort_key), each run's JSON in the same order, and
    whether more follow (fetches limit + 1 rows; never counts).

    ``versions``: run JSON held by row version; the statement then selects keys (RUN_KEY_COLUMNS).
    The rows are plain tuples split by position, not a dict per row (``Db.all``'s dict per row was
    7.5 % of the home page's samples at 32 clients; docs/benchmarks.md, "Issue #19").
    """
    params: dict[str, Any] = dict(live)
    freqs = await tag_frequencies(db) if filters.tags and order.name == "created" else None
    columns = RUN_LIST_COLUMNS if versions is None else RUN_KEY_COLUMNS
    sql = list_runs_sql(filters, order, cursor, limit, params, columns, freqs)
    # Without a filter the plan is one index read in the order's direction whatever the values (the
    # cursor, the limit): planned once (generic). A filter's values can change the plan (a user or
    # tag on 3 runs or on 400,000): planned for its own.
    rows = await db.tuples(sql, params, generic=filters == NO_FILTERS)
    more = len(rows) > limit
    rows = rows[:limit]
    if versions is None:
        return rows, [r[4] for r in rows], more
    texts = await fill_run_json(db, live, rows, versions)
    if None in texts:
        kept = [(r, t) for r, t in zip(rows, texts) if t is not None]
        return [r for r, _ in kept], [t for _, t in kept], more
    return rows, cast("list[str]", texts), more   # no None in it


# Groups: distinct flows come from the flows table; distinct users by a loose index scan of
# runs_user_created (one index probe per user instead of reading a million rows).
GROUP_KEYS = {
    "flow": """SELECT flow_id AS key FROM flows WHERE flow_id > %(g_after)s
               ORDER BY flow_id LIMIT %(g_limit)s""",
    "user": """WITH RECURSIVE u(key) AS (
                 (SELECT user_name FROM runs WHERE user_name > %(g_after)s ORDER BY user_name LIMIT 1)
                 UNION ALL
                 SELECT (SELECT user_name FROM runs WHERE user_name > u.key ORDER BY user_name LIMIT 1)
                 FROM u WHERE u.key IS NOT NULL)
               SELECT key FROM u WHERE key IS NOT NULL LIMIT %(g_limit)s""",
}
GROUP_COLUMN = {"flow": "r.flow_id", "user": "r.user_name"}


async def list_run_groups(db: Db, live: dict[str, Any], filters: RunFilters, order: Order,
                          group_by: str, group_after: str, limit: int, group_limit: int,
                          versions: JsonVersions | None = None
                          ) -> tuple[list[tuple[str, list[tuple[Any, ...]], list[str], bool]], str | None]:
    """Up to ``limit`` groups after ``group_after`` (by name), each with its first runs.

    Returns [(key, the runs' rows as read (for sort_key), their JSON, more_in_group)], and the last
    group key examined when more groups may follow (groups without matching runs are skipped but
    still advance the cursor).
    """
    params: dict[str, Any] = dict(live)
    where = filters.where(params)
    _, order_by = keyset(order, None, params)
    params.update(g_after=group_after, g_limit=limit, per_group=group_limit + 1)
    # One statement: every examined group key comes back, a group without matching runs as one
    # row of NULLs (LEFT JOIN), so the keys need no query of their own.
    outer_order = order_by.replace("r.", "x.")
    sql = f"""
    SELECT g.key AS group_key, x.* FROM ({GROUP_KEYS[group_by]}) g
    LEFT JOIN LATERAL (
        SELECT {RUN_LIST_COLUMNS if versions is None else RUN_KEY_COLUMNS} FROM runs r
        WHERE {GROUP_COLUMN[group_by]} = g.key AND {' AND '.join(where) if where else 'TRUE'}
        ORDER BY {order_by} LIMIT %(per_group)s) x ON TRUE
    ORDER BY g.key, {outer_order}
    """
    keys: list[str] = []
    by_key: dict[str, list[tuple[Any, ...]]] = {}
    # Unfiltered, each group is an index read of its key's newest runs whatever the values: planned
    # once (generic; planning was half the statement's Postgres time). Filters: planned each time.
    # Each row is the group's key, then a page's row (RUN_LIST_COLUMNS or RUN_KEY_COLUMNS), split by position.
    for row in await db.tuples(sql, params, generic=not where):
        key = row[0]
        if not keys or keys[-1] != key:
            keys.append(key)
        if row[1] is not None:
            by_key.setdefault(key, []).append(row[1:])
    picked = [(k, by_key[k][:group_limit], len(by_key[k]) > group_limit) for k in keys if k in by_key]
    shown = [r for _, rows, _ in picked for r in rows]
    texts = [r[4] for r in shown] if versions is None else await fill_run_json(db, live, shown, versions)
    groups: list[tuple[str, list[tuple[Any, ...]], list[str], bool]] = []
    i = 0
    for k, rows, more in picked:
        kept_rows, kept_texts = [], []
        for r in rows:
            t = texts[i]
            i += 1
            if t is not None:
                kept_rows.append(r)
                kept_texts.append(t)
        groups.append((k, kept_rows, kept_texts, more))
    last = keys[-1] if len(keys) == limit else None
    return groups, last


async def get_run(db: Db, live: dict[str, Any], flow: str, run: str, with_json: bool = False) -> Row | None:
    """The run's columns; with_json: also its answer as ``run_json`` (backend/db/run_json.py)."""
    return await db.one(RUN_BY_ID_JSON if with_json else RUN_BY_ID, {**live, "flow": flow, "run": run}, generic=True)


async def get_run_ref(db: Db, live: dict[str, Any], flow: str, run: str) -> Row | None:
    """The run's RUN_REF columns (what its DAG, steps and tasks need of it)."""
    return await db.one(RUN_REF_BY_ID, {**live, "flow": flow, "run": run}, generic=True)


async def get_run_with_source(db: Db, live: dict[str, Any], flow: str, run: str,
                              with_source: bool) -> Row | None:
    """The run, its flow file's name and (with_source) the file's text, in one query; the answer's
    JSON (RunDetail) is ``detail_json``."""
    return await db.one(RUN_WITH_SOURCE if with_source else RUN_WITH_FILE_NAME, {**live, "flow": flow, "run": run},
                        generic=True)


async def get_run_detail(db: Db, live: dict[str, Any], flow: str, run: str,
                         versions: JsonVersions) -> tuple[str, bool] | None:
    """The run's RunDetail JSON (with the file name, not the source text) and whether the run is
    stored as running: from ``versions`` when the run's current version is held (one small
    statement), else built by Postgres and kept unless running. None: no such run."""
    # Plain tuples, split by position: RUN_DETAIL_HEAD (run_pk, change_seq, running), RUN_DETAIL_BY_PK
    # (change_seq, running, detail_json).
    head = await db.tuples(RUN_DETAIL_HEAD, {"flow": flow, "run": run}, generic=True)
    if not head:
        return None
    run_pk, seq, running = head[0]
    return await run_detail_of(db, live, run_pk, seq, running, versions)


async def run_detail_of(db: Db, live: dict[str, Any], run_pk: int, seq: int, running: bool,
                        versions: JsonVersions) -> tuple[str, bool] | None:
    """get_run_detail's answer once the run's key, version (``seq``) and whether it is stored as
    running are known (read by another statement: RUN_DETAIL_HEAD, or a run page's run-and-steps
    statement): held when that version is, else built by primary key. None: the run is gone."""
    key = ("detail", run_pk)
    if not running:
        held = versions.get(key, seq)
        if held is not None:
            return held, False
    rows = await db.tuples(RUN_DETAIL_BY_PK, {**live, "run_pk": run_pk}, generic=True)
    if not rows:
        return None
    seq, running, detail = rows[0]
    if not running:
        versions.put(key, seq, detail)
    return detail, bool(running)


async def runs_changed(db: Db, live: dict[str, Any], since: int, limit: int,
                       filters: RunFilters | None = None, run_pk: int | None = None) -> list[Row]:
    params: dict[str, Any] = {**live, "since": since, "limit": limit}
    extra = ""
    if filters is not None:
        extra += "".join(" AND " + w for w in filters.where(params))
    if run_pk is not None:
        extra += " AND r.run_pk = %(run_pk)s"
        params["run_pk"] = run_pk
    return await db.all(f"{RUNS_CHANGED}{extra} ORDER BY r.change_seq LIMIT %(limit)s", params)
