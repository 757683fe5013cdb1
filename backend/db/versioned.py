"""Completing a page whose rows' JSON is held by version (backend/cache/versions.py).

The page's statement selected each row's key, its version and whether its JSON depends on the
clock (``running``); it may also have built the JSON of the running rows (``column`` set: run
lists do, where running runs are common at the top and planning the JSON is cheap), or built no
JSON at all (task pages: planning a task's JSON expression cost more than executing a page).
Here every row not running takes its JSON from the cache when that exact version is held; the
rest are built by one statement by primary key, and kept unless that answer says the row is
running.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

from backend.db.query import Db, Row

if TYPE_CHECKING:
    from backend.cache.versions import JsonVersions


async def fill_json(db: Db, live: dict[str, Any], rows: list[Row], versions: JsonVersions, *, key: str,
                    column: str, version: Callable[[Row], Hashable], by_key_sql: str) -> list[Row]:
    """``rows`` with ``column`` filled; a row gone between the two statements is left out.

    ``by_key_sql`` selects ``key``, the version's columns, ``running`` and ``column`` for
    ``%(keys)s``. A row built there may be newer than the page's statement saw: the newest is what
    the page answers.
    """
    missing = []
    for row in rows:
        if row.get(column) is None:
            row[column] = None if row["running"] else versions.get(row[key], version(row))
        if row[column] is None:
            missing.append(row)
    if not missing:
        return rows
    built = {b[key]: b for b in await db.all(by_key_sql, {**live, "keys": [r[key] for r in missing]}, generic=True)}
    for row in missing:
        b = built.get(row[key])
        if b is None:
            continue
        row[column] = b[column]
        if not b["running"]:
            versions.put(b[key], version(b), b[column])
    return [r for r in rows if r[column] is not None]
