"""A @conda step's environment and its notice on the task page, in both themes.

The run is recorded in a database of this module's own (the other browser tests count runs on the
home page), served by a backend of its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Backend, api_get, checked_page
from flow_runs import run_flow
from pg_harness import database_fixtures

globals().update(database_fixtures("e2e_env"))

FLOW = Path(__file__).resolve().parents[1] / "runtime" / "env_flows" / "playlist_table.py"


@pytest.fixture(scope="module")
def env_server(built_ui: Path, flowscope_env: dict[str, str],
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    tmp = tmp_path_factory.mktemp("e2e-env")
    run_id = run_flow(flowscope_env, FLOW, tmp)
    backend = Backend({**flowscope_env, "FLOWSCOPE_CACHE_DIR": str(tmp / "cache")}, tmp / "server.log")
    backend.start()
    yield backend.base, run_id
    backend.stop()


@pytest.mark.timeout(900)
def test_task_page_shows_the_environment_and_its_notice(browser: Any, env_server: tuple[str, str],
                                                        shots: Path) -> None:
    base, run_id = env_server
    tasks = {t["step_name"]: t["task_id"] for t in api_get(base, f"/api/flows/PlaylistTableFlow/runs/{run_id}/tasks")["data"]}
    for scheme in ("light", "dark"):
        pages = checked_page(browser, base, 20_000, color_scheme=scheme)
        page = next(pages)
        page.goto(f"/PlaylistTableFlow/{run_id}/table/{tasks['table']}")
        row = page.get_by_test_id("task-environment")
        row.wait_for()
        assert re.match(r"environment\s*conda: tabulate==0\.9\.0 · Python 3\.\d+\.\d+ · env [0-9a-f]{16}$",
                        row.inner_text().strip())
        page.click('[data-tab="metadata"]')
        table = page.get_by_test_id("metadata")
        table.get_by_text("no conda channel is reachable", exact=False).wait_for()
        assert "environment-notice" in table.inner_text()
        page.screenshot(path=str(shots / f"task-environment-{scheme}.png"))
        # end opts out (@conda(disabled=True)): it ran on the runtime's Python, no row.
        page.goto(f"/PlaylistTableFlow/{run_id}/end/{tasks['end']}")
        page.get_by_test_id("task-info").wait_for()
        page.wait_for_load_state("networkidle")
        assert page.get_by_test_id("task-environment").count() == 0
        next(pages, None)   # closes the page; fails on script errors or CSP violations
