"""Running SQL on the reader pool: rows as dicts, every statement under a timeout.

Statements are prepared once per pooled connection (``PREPARE`` on first use, then ``EXECUTE``):
a run list's statement is ~3 kB of SQL whose parsing and analysis cost Postgres more than
planning it (docs/benchmarks.md, "Issue #19"). The reader connections use
``plan_cache_mode = force_custom_plan`` (backend/app.py) so that every execution is still planned
for its own values (a user or tag filter is skewed: a generic plan can be badly wrong for it).
A statement whose plan cannot depend on its values (a lookup by primary or unique key) is run with
``generic=True``: its execution switches the session to ``force_generic_plan`` in the same round
trip (and the next custom one resets it), so it is planned once per connection. Planning, not
executing, was most of what such a statement cost Postgres: a run's answer 0.28 → 0.08 ms, a run's
task page 0.27–0.58 → 0.07–0.10 ms (docs/benchmarks.md, "Issue #19").
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import weakref
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import aiopg
import psycopg2
from psycopg2.extras import Json

Row = dict[str, Any]
Params = Mapping[str, Any] | Sequence[Any] | None

# Session options for a reader pool: the server enforces the timeout too (so a cancelled client
# never leaves a query running), and prepared statements are planned for each execution's values.
READER_PLAN_OPTIONS = "-c plan_cache_mode=force_custom_plan"

# psycopg2's placeholders: %(name)s, %s, %% (a literal %); any other % is an error in psycopg2.
_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%s|%%|%")
_PREPARABLE = re.compile(r"\s*(SELECT|WITH|VALUES)\b", re.IGNORECASE)
_MAX_TEXTS = 2048          # converted statement texts kept (list filters combine into many texts)
_names = itertools.count(1)
log = logging.getLogger(__name__)


def _int_of(bits: int) -> Callable[[Any], bool]:
    """An int that fits the column type: a bigger one is sent as a plain literal, where Postgres
    compares it as numeric (``created_after=10**40`` matches nothing) instead of failing with
    "bigint out of range" as a typed parameter would."""
    low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1

    def test(v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool) and low <= v <= high
    return test


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float, Decimal)) and not isinstance(v, bool)


def _is_text(v: Any) -> bool:
    return isinstance(v, str)


def _is_bool(v: Any) -> bool:
    return isinstance(v, bool)


def _is_json(v: Any) -> bool:
    return isinstance(v, (str, Json))


_SCALARS: dict[str, Callable[[Any], bool]] = {
    "smallint": _int_of(16), "integer": _int_of(32), "bigint": _int_of(64),
    "numeric": _is_number, "double precision": _is_number, "real": _is_number,
    "text": _is_text, "character varying": _is_text, "name": _is_text,
    "boolean": _is_bool, "jsonb": _is_json, "json": _is_json,
}


def _checker(pg_type: str) -> Callable[[Any], bool] | None:
    """A test that a Python value, sent as a literal, means the same as when sent as a parameter of
    ``pg_type`` (the type Postgres inferred for it). None: a type this module does not vouch for."""
    if pg_type.endswith("[]"):
        element = _SCALARS.get(pg_type[:-2])
        if element is None:
            return None
        test = element
        return lambda v: v is None or (isinstance(v, (list, tuple))
                                       and all(e is None or test(e) for e in v))
    scalar = _SCALARS.get(pg_type)
    if scalar is None:
        return None
    return lambda v: v is None or scalar(v)


@dataclass(frozen=True)
class _Statement:
    text: str                  # the SQL with $1..$n
    names: tuple[str, ...]     # mapping keys in $n order (empty for positional params)
    count: int                 # number of parameters


def to_positional(sql: str, named: bool | None) -> _Statement | None:
    """``sql`` in psycopg2's placeholder style converted to Postgres' ``$n`` (None: leave it plain).

    ``named``: the params are a mapping (True), a sequence (False) or absent (None: psycopg2 then
    does not interpret ``%`` at all, so neither do we). Only one SELECT/WITH/VALUES statement is
    prepared; anything else, mixed placeholder styles or a stray ``%`` stays plain.
    """
    if _PREPARABLE.match(sql) is None or ";" in sql.rstrip().rstrip(";"):
        return None
    if named is None:
        return _Statement(sql, (), 0)
    names: list[str] = []
    count = 0
    bad = False

    def sub(m: re.Match[str]) -> str:
        nonlocal count, bad
        token = m.group(0)
        if token == "%%":
            return "%"
        if token == "%":
            bad = True
            return token
        if m.group(1) is not None:
            if not named:
                bad = True
                return token
            if m.group(1) not in names:
                names.append(m.group(1))
            return f"${names.index(m.group(1)) + 1}"
        if named:                       # %s with a mapping
            bad = True
            return token
        count += 1
        return f"${count}"

    text = _PLACEHOLDER.sub(sub, sql)
    if bad:
        return None
    return _Statement(text, tuple(names), len(names) if named else count)


class Db:
    """The reader pool plus the statement timeout (aiopg cancels the query when it expires).

    ``prepare``: run statements as per-connection prepared statements (see the module's doc);
    ``max_prepared`` bounds how many each connection keeps (least recently used is deallocated):
    a run list's prepared statement holds 64 KiB in its Postgres session (parse and query trees;
    custom plans are not kept), so at most 4 MiB a connection.
    """

    def __init__(self, pool: aiopg.Pool, timeout: float, prepare: bool = True, max_prepared: int = 64) -> None:
        self.pool = pool
        self.timeout = timeout
        self.prepare = prepare
        self.max_prepared = max_prepared
        # SQL text (+ params style) -> its $n form, or None when it runs plain (cannot be prepared)
        self._texts: dict[tuple[str, bool | None], _Statement | None] = {}
        # (SQL text, params style) -> a test per parameter of the type Postgres inferred for it
        self._checks: dict[tuple[str, bool | None], tuple[Callable[[Any], bool], ...]] = {}
        # per connection object: (SQL text, params style) -> (prepared statement name, the text that
        # executes it), least recently used first. Keyed on the connection, so a connection the pool replaces starts empty.
        self._prepared: weakref.WeakKeyDictionary[Any, OrderedDict[tuple[str, bool | None], tuple[str, str]]] = \
            weakref.WeakKeyDictionary()
        # connections whose session may be in force_generic_plan (set by a ``generic`` execution)
        self._generic: weakref.WeakSet[Any] = weakref.WeakSet()
        # First come, first served: aiopg's pool hands a released connection to whichever acquirer
        # runs first, so under load a waiter woken for it often finds it taken and waits again, at
        # the back (a run page's 4 requests at 32 clients: p50 18 ms, p95 110). asyncio's semaphore
        # lets no newcomer pass its waiters, so at most maxsize statements ask the pool at a time.
        self._gate = asyncio.Semaphore(pool.maxsize) if pool.maxsize else None

    def _turn(self) -> AbstractAsyncContextManager[Any]:
        return self._gate if self._gate is not None else nullcontext()

    async def all(self, sql: str, params: Params = None, *, generic: bool = False) -> list[Row]:
        """The rows of ``sql``. ``generic``: a statement whose best plan cannot depend on its values
        (a lookup by primary or unique key, rows by key): its prepared statement runs a generic plan,
        planned once per connection, instead of a custom plan per execution (see the module's doc)."""
        # Plain tuples zipped with the column names: psycopg2's RealDictCursor builds each row
        # with a Python-level __setitem__ per column (then we copied it into a dict again), which
        # was a quarter of the event loop's time serving run lists under load.
        names, rows = await self._rows(sql, params, generic, names=True)
        return [dict(zip(names, r)) for r in rows]

    async def tuples(self, sql: str, params: Params = None, *, generic: bool = False) -> list[tuple[Any, ...]]:
        """The rows of ``sql`` as psycopg2's plain tuples, in the statement's column order: for a
        caller that knows its columns and splits each row itself (``all`` builds a dict per row)."""
        return (await self._rows(sql, params, generic))[1]

    async def one(self, sql: str, params: Params = None, *, generic: bool = False) -> Row | None:
        rows = await self.all(sql, params, generic=generic)
        return rows[0] if rows else None

    async def scalar(self, sql: str, params: Params = None) -> Any:
        rows = (await self._rows(sql, params, False, one=True))[1]
        return rows[0][0] if rows else None

    async def _rows(self, sql: str, params: Params, generic: bool, one: bool = False,
                    names: bool = False) -> tuple[list[str], list[tuple[Any, ...]]]:
        """The column names (when asked for: psycopg2 builds ``description`` anew on each read) and
        the rows (``one``: at most the first) of ``sql`` on a pooled connection.

        A psycopg2 cursor straight on the pooled connection and the pool's own acquire and release,
        not aiopg's ``pool.acquire()``/``conn.cursor()`` context managers and its ``Cursor`` (and the
        ``Transaction`` each one makes) per statement: see ``_send``.
        """
        async with self._turn():
            pool = self.pool
            conn = await pool._acquire()
            try:
                conn._last_usage = conn._loop.time()    # as aiopg's conn.cursor() (for pool_recycle)
                cur = conn.raw.cursor()
                try:
                    await self._execute(conn, cur, sql, params, generic)
                    description = cur.description
                    if description is None:
                        return [], []
                    columns = [d[0] for d in description] if names else []
                    if one:
                        row = cur.fetchone()
                        return columns, [] if row is None else [row]
                    return columns, cur.fetchall()
                finally:
                    cur.close()
            finally:
                await pool.release(conn)

    async def _send(self, conn: aiopg.Connection, cur: Any, operation: str, parameters: Params = None) -> None:
        """Send one statement on ``cur`` (a psycopg2 cursor of ``conn``) and wait for its result:
        what aiopg's ``Cursor.execute`` and ``Connection._poll`` do, with the same outcomes (the
        client's timeout or a cancelled request closes the connection and raises TimeoutError /
        CancelledError; the server's statement_timeout becomes CancelledError, as in aiopg), without
        an aiopg ``Cursor`` around the psycopg2 one. aiopg's connection still reads the socket (its
        ``_ready`` reader callback) and resolves the future.
        """
        waiter = conn._create_waiter("cursor.execute")
        try:
            cur.execute(operation, parameters)
        except BaseException:
            conn._waiter = None
            raise
        try:
            conn._ready(conn._weakref)           # flush the statement (as aiopg's _poll)
            # asyncio.wait_for, as aiopg. Waiting on the future with one timer of our own instead (a
            # future, a done-callback and one pass of the event loop fewer per statement) cost the
            # Postgres-bound lists answers a second and widened their c32 p95 (docs/benchmarks.md,
            # "cpu19"): resuming a pass later, the loop has batched more of the other requests' work.
            await asyncio.wait_for(waiter, self.timeout)
        except (asyncio.CancelledError, TimeoutError):
            conn.close()
            cur.close()
            raise
        except psycopg2.extensions.QueryCanceledError as exc:
            conn._loop.call_exception_handler({"message": exc.pgerror, "exception": exc, "future": waiter})
            raise asyncio.CancelledError from None
        finally:
            conn._waiter = None

    def _statement(self, key: tuple[str, bool | None]) -> _Statement | None:
        try:
            return self._texts[key]
        except KeyError:
            pass
        stmt = to_positional(*key)
        if len(self._texts) >= _MAX_TEXTS:
            self._texts.clear()
            self._checks.clear()
        self._texts[key] = stmt
        return stmt

    async def _execute(self, conn: aiopg.Connection, cur: Any, sql: str, params: Params,
                       generic: bool = False) -> None:
        if not self.prepare:
            await self._send(conn, cur, sql, params)
            return
        named = None if params is None else (type(params) is dict or isinstance(params, Mapping))
        key = (sql, named)
        stmt = self._statement(key)
        if stmt is None:
            await self._send(conn, cur, sql, params)
            return
        if named:
            assert isinstance(params, Mapping)
            values: tuple[Any, ...] = tuple(params[n] for n in stmt.names)
        else:
            values = tuple(params or ())
            if len(values) != stmt.count:   # psycopg2 reports the mismatch, as before
                await self._send(conn, cur, sql, params)
                return
        for attempt in (1, 2):
            prepared = await self._prepared_name(conn, cur, key, stmt)
            checks = self._checks.get(key)
            # A value whose literal Postgres would type differently than the inferred parameter (a
            # float where it inferred bigint would be rounded; an int where it inferred text would
            # be accepted where plain SQL errs) runs plain, so preparing never changes an answer.
            if prepared is None or checks is None or not all(ok(v) for ok, v in zip(checks, values)):
                await self._send(conn, cur, sql, params)
                return
            execute = prepared[1]
            # The plan mode this execution needs, set in the same round trip when the session is in
            # the other one. Should the round trip fail, the SET or RESET was rolled back with it (or
            # not): the session's mode is then unknown, and the next custom execution resets it.
            prefix = ""
            if generic != (conn in self._generic):
                prefix = "SET plan_cache_mode = force_generic_plan; " if generic else "RESET plan_cache_mode; "
            try:
                await self._send(conn, cur, prefix + execute if prefix else execute, values)
            except BaseException as exc:
                if prefix:
                    self._generic.add(conn)
                if not isinstance(exc, psycopg2.Error):
                    raise
                # The statement is gone (the session was reset: DISCARD ALL, a pooler) or its plan no
                # longer matches the schema: forget it and prepare it once more.
                if exc.pgcode not in ("26000", "0A000"):
                    raise
                self._forget(conn, key)
                if attempt == 2 and exc.pgcode == "26000":
                    # gone right after being prepared: a transaction-mode pooler between us and
                    # Postgres hands each statement to another session; prepared statements cannot work
                    log.warning("prepared statements vanish between statements (a transaction-mode "
                                "pooler?): running every statement as plain SQL from now on")
                    self.prepare = False
                    await self._send(conn, cur, sql, params)
                    return
                if attempt == 2:
                    raise
            else:
                if generic:
                    self._generic.add(conn)
                else:
                    self._generic.discard(conn)
                return

    async def _prepared_name(self, conn: aiopg.Connection, cur: Any, key: tuple[str, bool | None],
                             stmt: _Statement) -> tuple[str, str] | None:
        """The name ``sql`` is prepared under on ``conn`` (prepared now if it was not) and the text
        that executes it (``EXECUTE name(%s, ...)``, made once); None when Postgres cannot prepare
        it (e.g. a parameter's type cannot be inferred): it then runs plain."""
        on_conn = self._prepared.get(conn)
        if on_conn is None:
            on_conn = self._prepared[conn] = OrderedDict()
        prepared = on_conn.get(key)
        if prepared is not None:
            on_conn.move_to_end(key)
            return prepared if key in self._checks else await self._typed(conn, cur, key, stmt, prepared)
        if len(on_conn) >= self.max_prepared:
            _, (oldest, _) = on_conn.popitem(last=False)
            try:
                await self._send(conn, cur, f"DEALLOCATE {oldest}")
            except psycopg2.Error as exc:
                if exc.pgcode != "26000":       # already gone (the session was reset): nothing to free
                    raise
        # A fresh name each time: a PREPARE that succeeded on the server while its coroutine was
        # cancelled leaves a name we never recorded, and must not collide with the next one.
        name = f"fs_{next(_names)}"
        try:
            await self._send(conn, cur, f"PREPARE {name} AS {stmt.text}")
        except psycopg2.Error as exc:
            # Class 42 (e.g. 42P18: a parameter's type cannot be inferred): the statement runs
            # plain from now on; if it is wrong in itself, running it plain reports that.
            if not (exc.pgcode or "").startswith("42"):
                raise
            self._texts[key] = None
            return None
        args = f"({', '.join(['%s'] * stmt.count)})" if stmt.count else ""
        prepared = on_conn[key] = (name, f"EXECUTE {name}{args}")
        return await self._typed(conn, cur, key, stmt, prepared)

    async def _typed(self, conn: aiopg.Connection, cur: Any, key: tuple[str, bool | None], stmt: _Statement,
                     prepared: tuple[str, str]) -> tuple[str, str] | None:
        """``prepared``, once the tests of its parameters' inferred types are known (None: run plain)."""
        if key in self._checks:
            return prepared
        checks: list[Callable[[Any], bool] | None] = []
        if stmt.count:
            await self._send(conn, cur, "SELECT parameter_types::text[] FROM pg_prepared_statements WHERE name = %s",
                             (prepared[0],))
            row = cur.fetchone()
            checks = [_checker(t) for t in (row[0] if row else [])]
        if len(checks) != stmt.count or None in checks:
            self._texts[key] = None      # a parameter type we do not vouch for: plain from now on
            return None
        self._checks[key] = tuple(c for c in checks if c is not None)
        return prepared

    def _forget(self, conn: aiopg.Connection, key: tuple[str, bool | None]) -> None:
        on_conn = self._prepared.get(conn)
        if on_conn is not None:
            on_conn.pop(key, None)
