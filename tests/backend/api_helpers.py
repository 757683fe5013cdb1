"""Helpers shared by the backend API tests."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient


async def get_json(client: TestClient[Any, Any], path: str, expect: int = 200, /,
                   **params: Any) -> Any:
    resp = await client.get(path, params=params)
    body = await resp.json()
    assert resp.status == expect, f"{path} {params}: {resp.status} {body}"
    return body
