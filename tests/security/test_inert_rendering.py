"""Hostile text recorded by a run renders as text in Chromium: no script runs, no dialog opens."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.backend.conftest import run_flow
from tests.browser_pages import CHROMIUM, CHROMIUM_ARGS, checked_page
from tests.fault.procs import Backend

FLOW = Path(__file__).resolve().parent / "flows" / "xss_flow.py"
REPO = Path(__file__).resolve().parents[2]
TAG = "<script>window.__pwned=4</script>"


@pytest.fixture()
def xss_server(flowscope_env: dict[str, str], tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    assert (REPO / "backend" / "static" / "index.html").is_file(), "build the UI first (cd frontend && npm run build)"
    run_id = run_flow(flowscope_env, FLOW, tmp_path, tags=(TAG,))
    backend = Backend(flowscope_env, tmp_path / "backend.log")
    backend.start()
    try:
        tasks = backend.get(f"/api/flows/XssFlow/runs/{run_id}/tasks")["data"]
        task_id = next(t["task_id"] for t in tasks if t["step_name"] == "start")
        yield backend.url, run_id, task_id
    finally:
        backend.stop()


def test_hostile_text_is_inert(xss_server: tuple[str, str, str]) -> None:
    from playwright.sync_api import sync_playwright

    url, run_id, task_id = xss_server
    dialogs: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        # Fails on a CSP violation too: an injected inline script would be blocked by the CSP and
        # reported, so this sees an injection even where the policy stopped it.
        pages = checked_page(browser, url)
        page = next(pages)
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        try:
            for path, literal in ((f"/XssFlow/{run_id}", "window.__pwned=4"),
                                  (f"/XssFlow/{run_id}/start/{task_id}", "alert('script')")):
                page.goto(url + path)
                page.get_by_text(literal, exact=False).first.wait_for()
                page.wait_for_timeout(1000)   # give any injected handler (onerror) time to fire
                assert page.evaluate("window.__pwned") is None, path
                assert page.locator("script:not([src])").count() == 0 or all(
                    "__pwned" not in (s or "") for s in page.locator("script").all_inner_texts()), path
                assert page.locator("img[src='x']").count() == 0, path
            # The task page shows the log lines as text, escapes stripped or shown, never live.
            body = page.inner_text("body")
            assert "<script>window.__pwned=1;alert('script')</script>" in body
            assert "onerror" in body
            assert page.locator("a[href^='javascript:']").count() == 0
            assert "pwned-title" not in page.title()
            # Artifact preview of the same strings.
            page.goto(f"{url}/XssFlow/{run_id}/start/{task_id}?panel=artifacts")
            row = page.get_by_test_id("artifacts").locator("tr", has_text="html")
            row.wait_for()
            assert "<script>" in row.inner_text()          # the inline preview, as text
            row.click()
            value = page.get_by_test_id("artifact-value")
            value.wait_for()
            page.wait_for_timeout(1000)
            assert "<img src=x onerror=" in value.inner_text()
            assert page.locator("img[src='x']").count() == 0
            assert page.evaluate("window.__pwned") is None
        finally:
            try:
                next(pages, None)
            finally:
                browser.close()
    assert dialogs == [], json.dumps(dialogs)
