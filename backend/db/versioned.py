"""Completing a page whose rows' JSON is held by version (backend/cache/versions.py).

The page's statement selected each row's key, its version and whether its JSON depends on the
clock (``running``), read as plain tuples; it may also have built the JSON of the running rows (run
lists do, where running runs are common at the top and planning the JSON is cheap), or built no
JSON at all (task pages: planning a task's JSON expression cost more than executing a page).
Here every row not running takes its JSON from the cache when that exact version is held; the
rest are built by one statement by primary key, and kept unless that answer says the row is
running.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import TYPE_CHECKING, Any

from backend.db.query import Db

if TYPE_CHECKING:
    from backend.cache.versions import JsonVersions


async def fill_json_tuples(db: Db, live: dict[str, Any], rows: Sequence[tuple[Any, ...]], versions: JsonVersions,
                           *, json_at: int | None, running_at: int, version: Callable[[tuple[Any, ...]], Hashable],
                           by_key_sql: str,
                           built_version: Callable[[tuple[Any, ...]], Hashable] | None = None) -> list[str | None]:
    """Each row's JSON, in the rows' order, for rows read as plain tuples (``Db.tuples``)
    (None: the row went between the two statements; the caller leaves it out).

    A row's key is its first column; ``running_at`` and ``json_at`` (None: the statement built no
    JSON) are positions in the page's rows, and ``version`` reads a version from a page's row.
    ``by_key_sql`` selects, for ``%(keys)s``, the key first, ``running`` second to last, the JSON
    last and the version's columns between, read by ``built_version`` (default: ``version``).
    A row built there may be newer than the page's statement saw: the newest is what the page answers.
    """
    built_version = built_version or version
    out: list[str | None] = [row[json_at] for row in rows] if json_at is not None else [None] * len(rows)
    # the rows to look up: no JSON from the statement and not running (those depend on the clock)
    wanted = [i for i, row in enumerate(rows) if out[i] is None and not row[running_at]]
    held = versions.get_many([rows[i][0] for i in wanted], [version(rows[i]) for i in wanted])
    for i, text in zip(wanted, held):
        out[i] = text
    missing = [i for i, text in enumerate(out) if text is None]
    if not missing:
        return out
    built = {b[0]: b for b in await db.tuples(by_key_sql, {**live, "keys": [rows[i][0] for i in missing]},
                                              generic=True)}
    for i in missing:
        b = built.get(rows[i][0])
        if b is None:
            continue
        out[i] = b[-1]
        if not b[-2]:
            versions.put(b[0], built_version(b), b[-1])
    return out
