"""A million-line log opens at its tail, pages in only what is on screen, and stays under the
browser's ~33M px element height limit; a permalink deep inside it lands on its line."""

from __future__ import annotations

import re
from typing import Any

import pytest
from conftest import OWN_FLOWS, api_get, run_flow

BROWSER_HEIGHT_LIMIT = 33_000_000


@pytest.fixture(scope="module")
def big_log_task(server: str, flowscope_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> str:
    run = run_flow(flowscope_env, OWN_FLOWS / "big_log_flow.py", tmp_path_factory.mktemp("big-log"))
    task = api_get(server, f"/api/flows/BigLogFlow/runs/{run}/steps/start/tasks")["data"][0]["task_id"]
    return f"/BigLogFlow/{run}/start/{task}"


def test_million_line_log_opens_at_its_tail(page: Any, big_log_task: str) -> None:
    log_requests: list[str] = []
    page.on("request", lambda r: log_requests.append(r.url) if "/logs/stdout" in r.url else None)
    page.goto(big_log_task)
    log = page.get_by_test_id("log-stdout")
    log.get_by_text("row 1000000 value=81", exact=True).wait_for()
    assert page.get_by_test_id("log-total").inner_text() == "1,000,000 lines"
    height = log.evaluate("el => el.scrollHeight")
    assert 0 < height < BROWSER_HEIGHT_LIMIT
    # One tail page, not the log: every request asked for a bounded slice.
    assert len(log_requests) <= 3, log_requests
    assert all(re.search(r"(tail|limit)=\d{1,4}(&|$)", u) for u in log_requests), log_requests


def test_permalink_deep_inside_a_million_lines(page: Any, big_log_task: str) -> None:
    page.goto(f"{big_log_task}#L250000")
    line = page.locator('[data-line="250000"].selected')
    line.wait_for()
    page.wait_for_function("() => document.querySelector('[data-line=\"250000\"]')?.innerText.includes('row 250000 ')")
    # Jumping within the page to a line outside the loaded window moves the window there.
    page.evaluate("location.hash = '#L900000'")
    page.locator('[data-line="900000"].selected').wait_for()
    page.wait_for_function("() => document.querySelector('[data-line=\"900000\"]')?.innerText.includes('row 900000 ')")


def test_search_in_a_million_lines_runs_on_the_server(page: Any, big_log_task: str) -> None:
    searches: list[str] = []
    page.on("request", lambda r: searches.append(r.url) if "/search?" in r.url else None)
    page.goto(big_log_task)
    page.get_by_test_id("log-stdout").get_by_text("row 1000000 value=81", exact=True).wait_for()
    page.get_by_label("Find in log").fill("row 123456 ")
    page.keyboard.press("Enter")
    page.get_by_test_id("match-count").get_by_text("1 / 1").wait_for(timeout=60_000)
    assert searches, "a log this size is searched by the server, not in the browser"
    current = page.locator("mark.current")
    current.wait_for()
    assert current.evaluate("e => e.closest('.log-line').dataset.line") == "123456"
