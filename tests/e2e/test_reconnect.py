"""The backend goes away and comes back: the indicator says so, and the view catches up on what
happened meanwhile (a run recorded while it was down) without a page reload."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURE_FLOWS, Backend, checked_page, run_flow


@pytest.fixture()
def own_backend(built_ui: Path, backend_env: dict[str, str], recorded: dict[str, str], tmp_path: Path) -> Iterator[Backend]:
    backend = Backend(backend_env, tmp_path / "server.log")
    backend.start()
    yield backend
    backend.stop()


def test_view_catches_up_after_a_backend_restart(browser: Any, own_backend: Backend, backend_env: dict[str, str],
                                                 tmp_path: Path) -> None:
    pages = checked_page(browser, own_backend.base, 30_000)
    page = next(pages)
    try:
        page.goto("/BranchFlow")
        page.locator("[data-pathspec]").first.wait_for()
        before = set(page.locator("[data-pathspec]").evaluate_all("els => els.map(e => e.dataset.pathspec)"))
        page.locator('[data-connection="live"]').wait_for()
        page.evaluate("window.__noReload = 1")

        own_backend.stop()
        page.locator('[data-connection="reconnecting"]').wait_for()
        run_id = run_flow(backend_env, FIXTURE_FLOWS / "branch_flow.py", tmp_path)
        assert f"BranchFlow/{run_id}" not in before
        own_backend.start()

        page.locator('[data-connection="live"]').wait_for()
        page.locator(f'[data-pathspec="BranchFlow/{run_id}"]').wait_for()
        assert page.evaluate("window.__noReload") == 1
    finally:
        next(pages, None)   # closes the page; fails on script errors or CSP violations
