"""A run written to an existing metaflow-service database, watched in Chromium through the mirror.

``flowscope serve`` runs the mirror (FLOWSCOPE_MIRROR_SOURCE) on a Flowscope database of its
own; a real ``metaflow`` SlowFlow run records into the source through the v3 service while the
browser shows the run list: the run appears running, without a reload, and turns completed; the
top bar shows the mirror's state.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Backend, checked_page

from tests.mirror.history import MIRROR_FLOWS
from tests.mirror.source_harness import SourceServer, V3Service, fresh_flowscope, make_source, metaflow_env

pytestmark = pytest.mark.compat


@pytest.fixture(scope="module")
def mirrored_backend(built_ui: Path, pg_server_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    tmp = tmp_path_factory.mktemp("e2e-mirror")
    server = SourceServer()
    source = make_source(server, triggers=True, label="e2e")
    service = V3Service(source, tmp / "service.log")
    writer, reader = fresh_flowscope(pg_server_dsn, "e2emirror")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWSCOPE_")}
    env.update(FLOWSCOPE_DSN=writer, FLOWSCOPE_READER_DSN=reader, FLOWSCOPE_HOME=str(tmp / "home"),
               FLOWSCOPE_CACHE_DIR=str(tmp / "cache"), FLOWSCOPE_MIRROR_SOURCE=source.reader_dsn,
               FLOWSCOPE_MIRROR_LIVENESS_INTERVAL="1", FLOWSCOPE_WS_BATCH_MS="50")
    backend = Backend(env, tmp / "server.log")
    backend.start()
    try:
        yield backend, service, tmp
    finally:
        backend.stop()
        service.stop()
        server.stop()


@pytest.fixture()
def mirror_page(browser: Any, mirrored_backend: Any) -> Iterator[Any]:
    yield from checked_page(browser, mirrored_backend[0].base, timeout_ms=30_000)


def test_mirrored_run_appears_running_and_advances_live(mirror_page: Any, mirrored_backend: Any,
                                                         shots: Path) -> None:
    page = mirror_page
    _backend, service, tmp = mirrored_backend
    page.goto("/SlowFlow")
    page.get_by_test_id("runs-empty").wait_for()
    page.locator('[data-mirror-state="live"]').wait_for(timeout=60_000)
    assert "mirror: live" in page.locator(".mirror").inner_text()
    page.evaluate("window.__noReload = 1")     # gone if anything reloads the page
    env = metaflow_env(service, tmp, {"SLOW_FLOW_SECONDS": "12"})
    proc = subprocess.Popen([sys.executable, str(MIRROR_FLOWS / "slow_flow.py"), "--no-pylint", "run"],
                            cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        row = page.locator('[data-pathspec^="SlowFlow/"]')
        row.wait_for(timeout=90_000)
        page.wait_for_selector('[data-pathspec^="SlowFlow/"][data-status="running"]', timeout=30_000)
        page.screenshot(path=str(shots / "mirror-run-list-running.png"))
        assert proc.wait(timeout=180) == 0
        page.wait_for_selector('[data-pathspec^="SlowFlow/"][data-status="completed"]', timeout=60_000)
        assert page.evaluate("window.__noReload") == 1
        # The details of the mirror, one click away, in both themes.
        page.locator(".mirror").click()
        page.get_by_role("dialog", name="Mirror details").wait_for()
        assert "20260706000003" in page.get_by_role("dialog", name="Mirror details").inner_text()
        page.screenshot(path=str(shots / "mirror-details-light.png"))
        page.emulate_media(color_scheme="dark")
        page.screenshot(path=str(shots / "mirror-details-dark.png"))
    finally:
        if proc.poll() is None:
            proc.kill()
