"""The ingest service in a subprocess on a free port (session-wide); the UI API app on the same database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from mf_harness import AWS_DUMMY, BUCKET, PY, TOKEN, Ingest

from backend.app import create_app
from contract.settings import Settings
from tests.s3_server import moto_s3
from tests.server_procs import free_port, start_server, stop_server


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's S3 server (an S3 emulator) on a free port, with one bucket."""
    with moto_s3(BUCKET) as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def ingest(settings: Settings, flowscope_env: dict[str, str], moto_endpoint: str,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ingest]:
    port = free_port()
    log = tmp_path_factory.mktemp("ingest") / "server.log"
    env = dict(flowscope_env, FLOWSCOPE_INGEST_TOKEN=TOKEN, FLOWSCOPE_INGEST_HEARTBEAT_INTERVAL="2",
               FLOWSCOPE_S3_ENDPOINT_URL=moto_endpoint, **AWS_DUMMY)
    url = f"http://127.0.0.1:{port}"
    proc = start_server([PY, "-m", "backend.ingest", "--port", str(port)], env, log, url + "/ping",
                        headers={"x-api-key": TOKEN})
    try:
        yield Ingest(url, log)
    finally:
        stop_server(proc)


@pytest.fixture()
async def api(aiohttp_client: Any, settings: Settings, moto_endpoint: str,
              tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[TestClient[Any, Any]]:
    for key, value in AWS_DUMMY.items():
        monkeypatch.setenv(key, value)
    s = settings.replace(cache_dir=str(tmp_path / "cache"), static_dir=str(tmp_path),
                         s3_endpoint_url=moto_endpoint)
    yield await aiohttp_client(create_app(s))
