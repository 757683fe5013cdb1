"""Backend test fixtures: real runs recorded by core_runtime, and the app on the session database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from flow_runs import run_flow

from backend.app import create_app
from contract.settings import Settings

REPO = Path(__file__).resolve().parents[2]
FIXTURE_FLOWS = REPO / "tests" / "fixtures" / "flows"
OWN_FLOWS = Path(__file__).resolve().parent / "flows"


@pytest.fixture(scope="session")
def recorded(flowscope_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Run ids of real runs, by flow name (runs made once per session)."""
    tmp = tmp_path_factory.mktemp("runs")
    return {
        "LinearFlow": run_flow(flowscope_env, FIXTURE_FLOWS / "linear_flow.py", tmp, "--alpha", "0.25",
                               tags=("nightly", "team-a")),
        "ForeachFlow": run_flow(flowscope_env, FIXTURE_FLOWS / "foreach_flow.py", tmp, tags=("team-a",)),
        "FailingFlow": run_flow(flowscope_env, FIXTURE_FLOWS / "failing_flow.py", tmp, check=False),
        "RetryCatchFlow": run_flow(flowscope_env, FIXTURE_FLOWS / "retry_catch_flow.py", tmp),
        "ReportFlow": run_flow(flowscope_env, OWN_FLOWS / "report_flow.py", tmp, tags=("nightly",)),
    }


@pytest.fixture(scope="session")
def app_settings(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return settings.replace(cache_dir=str(tmp_path_factory.mktemp("cache")),
                            static_dir=str(tmp_path_factory.mktemp("static-empty")))


AiohttpClient = Callable[..., Awaitable[TestClient[Any, Any]]]


@pytest.fixture()
async def api(aiohttp_client: AiohttpClient, app_settings: Settings,
              recorded: dict[str, str]) -> AsyncIterator[TestClient[Any, Any]]:
    yield await aiohttp_client(create_app(app_settings))


@pytest.fixture()
def make_app(app_settings: Settings) -> Callable[..., web.Application]:
    def make(**overrides: Any) -> web.Application:
        return create_app(app_settings.replace(**overrides))

    return make
