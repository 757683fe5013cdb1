"""Browser end-to-end fixtures: real runs recorded by core_runtime, the real backend serving the
built UI, and Debian's Chromium driven by Playwright (never a downloaded browser).

Builds nothing: the Makefile builds the frontend before the tests run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flow_runs import run_flow
from pg_harness import database_fixtures

from tests.browser_pages import CHROMIUM, CHROMIUM_ARGS, checked_page
from tests.server_procs import free_port, start_server, stop_server

# The browser tests assert on whole views ("no runs yet", "exactly these tagged runs"): they get a
# database of their own, so runs recorded by the other test directories never show up in them.
globals().update(database_fixtures("e2e"))

REPO = Path(__file__).resolve().parents[2]
FIXTURE_FLOWS = REPO / "tests" / "fixtures" / "flows"
OWN_FLOWS = Path(__file__).resolve().parent / "flows"
INDEX = REPO / "backend" / "static" / "index.html"


@pytest.fixture(scope="session")
def built_ui() -> Path:
    if not INDEX.is_file():
        pytest.fail(f"{INDEX} does not exist: the UI is not built; run make frontend")
    return INDEX


@pytest.fixture(scope="session")
def recorded(flowscope_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Run ids by flow name, recorded once per session."""
    tmp = tmp_path_factory.mktemp("e2e-runs")
    return {
        "LinearFlow": run_flow(flowscope_env, FIXTURE_FLOWS / "linear_flow.py", tmp, "--alpha", "0.25",
                               tags=("nightly", "team-a")),
        "ForeachFlow": run_flow(flowscope_env, FIXTURE_FLOWS / "foreach_flow.py", tmp, tags=("team-a",)),
        "BranchFlow": run_flow(flowscope_env, FIXTURE_FLOWS / "branch_flow.py", tmp),
        "FailingFlow": run_flow(flowscope_env, FIXTURE_FLOWS / "failing_flow.py", tmp, check=False),
        "RetryCatchFlow": run_flow(flowscope_env, FIXTURE_FLOWS / "retry_catch_flow.py", tmp, tags=("nightly",)),
        "LogsFlow": run_flow(flowscope_env, OWN_FLOWS / "logs_flow.py", tmp, tags=("demo",)),
    }


def api_get(base: str, path: str) -> Any:
    with urllib.request.urlopen(f"{base}{path}", timeout=10) as resp:
        return json.loads(resp.read())


class Backend:
    """``python -m backend.cli serve`` on a port, as a process the tests can stop and start again."""

    def __init__(self, env: dict[str, str], log: Path, port: int | None = None) -> None:
        self.log, self.port = log, port or free_port()
        # `serve` also runs the Metaflow ingest service on its own port: give every instance its own.
        self.env = {**env, "FLOWSCOPE_INGEST_PORT": str(free_port())}
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = start_server([sys.executable, "-m", "backend.cli", "serve", "--port", str(self.port)],
                                 self.env, self.log, f"{self.base}/api/-/version", timeout=30)

    def stop(self) -> None:
        stop_server(self.proc)
        self.proc = None


@contextmanager
def extra_backend(backend_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory, name: str,
                  **env: str) -> Iterator[str]:
    """A second backend on the session's database with these settings changed; yields its base URL."""
    backend = Backend({**backend_env, **env}, tmp_path_factory.mktemp(name) / "server.log")
    backend.start()
    try:
        yield backend.base
    finally:
        backend.stop()


def finish_flow(proc: subprocess.Popen[bytes]) -> None:
    """Wait for a flow a test started (up to 60 s, killed after that) and check it succeeded."""
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
    assert proc.returncode == 0, proc.stdout.read().decode() if proc.stdout else ""


@pytest.fixture(scope="session")
def backend_env(flowscope_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return {**flowscope_env, "FLOWSCOPE_CACHE_DIR": str(tmp_path_factory.mktemp("e2e-cache"))}


@pytest.fixture(scope="session")
def server(built_ui: Path, backend_env: dict[str, str], recorded: dict[str, str],
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The backend on a free port for the whole session; yields its base URL."""
    backend = Backend(backend_env, tmp_path_factory.mktemp("e2e-server") / "server.log")
    backend.start()
    yield backend.base
    backend.stop()


@pytest.fixture(scope="session")
def ingest_url(backend_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``python -m backend.ingest`` on a free port, writing to the e2e session's database: what the
    pip `metaflow` runs of the browser tests record into (tests/e2e/mf_runs.py)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start_server([sys.executable, "-m", "backend.ingest", "--port", str(port)], backend_env,
                        tmp_path_factory.mktemp("e2e-ingest") / "ingest.log", url + "/ping")
    try:
        yield url
    finally:
        stop_server(proc)


# Per module, not per session: sync Playwright keeps an asyncio loop running in the main thread
# while it is open, and the async tests of the directories after tests/e2e cannot start theirs.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture()
def page(browser: Any, server: str) -> Iterator[Any]:
    yield from checked_page(browser, server)


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where tests save screenshots: a temporary directory, so `make test` rewrites nothing tracked;
    `make screenshots` points FLOWSCOPE_SCREENSHOTS_DIR at docs/screenshots to refresh the docs."""
    given = os.environ.get("FLOWSCOPE_SCREENSHOTS_DIR")
    if not given:
        return tmp_path_factory.mktemp("screenshots")
    Path(given).mkdir(parents=True, exist_ok=True)
    return Path(given)
