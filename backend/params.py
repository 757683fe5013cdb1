"""Query-parameter parsing: every bad value becomes a 400 naming the parameter."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any

from multidict import MultiMapping

from backend.errors import bad_request

Query = MultiMapping[str]

MAX_LIMIT = 1000
DEFAULT_LIMIT = 50


def get_int(query: Query, name: str, default: int | None = None, *, minimum: int | None = None,
            maximum: int | None = None) -> int | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(f"parameter {name!r} must be an integer, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise bad_request(f"parameter {name!r} must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise bad_request(f"parameter {name!r} must be at most {maximum}, got {value}")
    return value


def get_limit(query: Query, default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT) -> int:
    value = get_int(query, "limit", default, minimum=1, maximum=maximum)
    assert value is not None
    return value


def get_choice(query: Query, name: str, choices: Sequence[str], default: str | None = None) -> str | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    if raw not in choices:
        raise bad_request(f"parameter {name!r} must be one of {', '.join(choices)}; got {raw!r}")
    return raw


def get_list(query: Query, name: str, choices: Sequence[str] | None = None) -> list[str]:
    """Repeated (?tag=a&tag=b) and comma-separated (?status=running,failed) values."""
    out: list[str] = []
    for raw in query.getall(name, []):
        out.extend(v.strip() for v in raw.split(",") if v.strip())
    if choices is not None:
        for v in out:
            if v not in choices:
                raise bad_request(f"parameter {name!r}: {v!r} is not one of {', '.join(choices)}")
    return out


def get_bool(query: Query, name: str, default: bool = False) -> bool:
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    low = raw.lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise bad_request(f"parameter {name!r} must be true or false, got {raw!r}")


# json.dumps with separators builds a JSONEncoder per call (~5 µs, 2.5 % of a run list's samples):
# one encoder, the same output.
_CURSOR_JSON = json.JSONEncoder(separators=(",", ":"))


def encode_cursor(kind: str, key: Sequence[Any]) -> str:
    """Opaque keyset cursor: the sort key of the last row (and what it sorts by)."""
    raw = _CURSOR_JSON.encode([kind, *key]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(query: Query, kind: str, arity: int) -> list[Any] | None:
    raw = query.get("cursor")
    if raw is None or raw == "":
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise bad_request("parameter 'cursor' is not a cursor this API returned") from None
    if not isinstance(data, list) or len(data) != arity + 1 or data[0] != kind:
        raise bad_request(f"parameter 'cursor' belongs to a different listing or order (expected "
                          f"a {kind} cursor); start again without it")
    return data[1:]
