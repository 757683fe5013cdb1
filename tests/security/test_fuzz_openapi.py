"""Fuzz every route of /api/openapi.json (schemathesis) against a real server: zero 5xx."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def live_server(flowscope_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    log = tmp_path_factory.mktemp("fuzz") / "server.log"
    env = dict(flowscope_env, FLOWSCOPE_PORT=str(port), FLOWSCOPE_CACHE_DIR="off")
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "backend.cli", "serve", "--no-ingest"], env=env,
                                stdout=out, stderr=subprocess.STDOUT, cwd=str(REPO))
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/-/version", timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"server did not start:\n{log.read_text()}") from None
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)
    # Any traceback the server logged is a bug even if the response looked fine.
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]


def test_no_server_errors(live_server: str) -> None:
    """Each operation gets its own bounded hypothesis run (schemathesis' pytest plugin does not
    load under this pytest, so the loop is explicit)."""
    schema = schemathesis.openapi.from_url(f"{live_server}/api/openapi.json")
    examples = int(os.environ.get("FLOWSCOPE_FUZZ_EXAMPLES", "30"))
    failures: list[str] = []
    calls = 0
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20

    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck),
                  derandomize=True, database=None)
        def check(case: Any) -> None:
            nonlocal calls
            response = case.call(base_url=live_server, timeout=20)
            calls += 1
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} {case.query}: "
                                f"{response.status_code} {response.text[:300]}")

        check()
    assert calls >= len(operations) * 5, calls
    assert not failures, "\n".join(failures[:20])
