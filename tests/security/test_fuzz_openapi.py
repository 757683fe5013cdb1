"""Fuzz every route of /api/openapi.json (schemathesis) against a real server: zero 5xx, and every
answer (errors included) matches the schema and content type its operation declares."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import content_type_conformance, response_schema_conformance

from tests.server_procs import free_port, start_server, stop_server

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def live_server(flowscope_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("fuzz") / "server.log"
    env = dict(flowscope_env, FLOWSCOPE_PORT=str(port), FLOWSCOPE_CACHE_DIR="off")
    url = f"http://127.0.0.1:{port}"
    proc = start_server([sys.executable, "-m", "backend.cli", "serve", "--no-ingest"], env, log,
                        f"{url}/api/-/version", timeout=30)
    try:
        yield url
    finally:
        stop_server(proc)
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
                return
            # Raises schemathesis' FailureGroup with the schema, the value and a curl to reproduce.
            case.validate_response(response, checks=[response_schema_conformance, content_type_conformance])

        check()
    assert calls >= len(operations) * 5, calls
    assert not failures, "\n".join(failures[:20])
