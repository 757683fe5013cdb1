"""Request parsing and response helpers of the metadata-service wire protocol."""

from __future__ import annotations

import json
import re
import time
from typing import Any

from aiohttp import web

SERVICE_VERSION = "2.5.1"
_NUMERIC = re.compile(r"^[0-9]+$")


class BadRequest(Exception):
    """A malformed request: answered 400 with the message."""


def now_ms() -> int:
    return int(time.time() * 1000)


def is_numeric(text: str) -> bool:
    return bool(_NUMERIC.match(text))


def id_out(text: str) -> int | str:
    """Ids go out as JSON ints when numeric (allocated), unchanged otherwise (orchestrator ids)."""
    return int(text) if is_numeric(text) else text


def ok(body: Any, status: int = 200) -> web.Response:
    return web.json_response(body, status=status)


def not_found() -> web.Response:
    return web.json_response({}, status=404)


def conflict(message: str) -> web.Response:
    # The official service sends a JSON string holding {"err_msg": ...}; clients ignore it.
    return web.json_response(json.dumps({"err_msg": message}), status=409)


async def json_body(request: web.Request) -> Any:
    raw = await request.read()
    if not raw:
        raise BadRequest("request body is empty; expected JSON")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"request body is not valid JSON: {exc}") from None


async def json_object(request: web.Request) -> dict[str, Any]:
    body = await json_body(request)
    if not isinstance(body, dict):
        raise BadRequest("request body must be a JSON object")
    return body


async def json_list(request: web.Request) -> list[dict[str, Any]]:
    body = await json_body(request)
    if not isinstance(body, list) or not all(isinstance(x, dict) for x in body):
        raise BadRequest("request body must be a JSON list of objects")
    return body


def str_list(body: dict[str, Any], key: str) -> list[str]:
    value = body.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise BadRequest(f"{key!r} must be a list of strings")
    return value


def opt_str(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{key!r} must be a string")
    return value


def given_id(body: dict[str, Any], key: str, what: str) -> str | None:
    """An orchestrator-given id from a create body; numeric ones are refused like the official service."""
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise BadRequest(f"{key!r} must be a string")
    text = str(value)
    if is_numeric(text):
        raise BadRequest(f"provided {what} may not be a numeric")
    if not text or "/" in text or len(text) > 255:
        raise BadRequest(f"provided {what} {text!r} is not a valid id")
    return text


def attempt_of_tags(tags: Any) -> int | None:
    """N from an ``attempt_id:N`` tag."""
    if not isinstance(tags, list):
        return None
    for tag in tags:
        if isinstance(tag, str) and tag.startswith("attempt_id:"):
            rest = tag[len("attempt_id:"):]
            if is_numeric(rest):
                return int(rest)
    return None


def value_text(value: Any) -> str:
    """Metadata values are stored verbatim; non-strings (foreach-stack lists) as JSON text."""
    text = value if isinstance(value, str) else json.dumps(value)
    return no_nul(text)


def no_nul(text: str) -> str:
    # Postgres text cannot hold NUL; refusing the row would fail the user's task.
    return text.replace("\x00", "\ufffd")
