"""Security test fixtures: the app on the session database, made with extra settings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from backend.app import create_app
from contract.settings import Settings


@pytest.fixture()
def make_secure_app(settings: Settings, tmp_path: Path) -> Callable[..., web.Application]:
    static = tmp_path / "static"
    static.mkdir()
    (static / "index.html").write_text("<!doctype html><title>ui</title><div id=root></div>")
    (tmp_path / "secret.txt").write_text("do not serve me")

    def make(**overrides: Any) -> web.Application:
        base = settings.replace(cache_dir=str(tmp_path / "cache"), static_dir=str(static))
        return create_app(base.replace(**overrides))

    return make
