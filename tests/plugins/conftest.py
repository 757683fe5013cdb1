"""Plugin test fixtures: an app that also finds plugins in a temp dir."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from backend.app import create_app
from contract.settings import Settings


@pytest.fixture()
def make_plugin_app(settings: Settings, tmp_path: Path) -> Callable[..., web.Application]:
    def make(**overrides: Any) -> web.Application:
        base = settings.replace(cache_dir=str(tmp_path / "cache"),
                                static_dir=str(tmp_path / "static-empty"))
        return create_app(base.replace(**overrides))

    return make
