"""A card that cannot be drawn says why in the browser, not a blank frame: a chart whose data is a
URL (cards have no network) and a chart whose spec is not Vega-Lite each show their reason in place,
the task view lists both above the frame, the chart beside them is drawn, and nothing is fetched.
A Metaflow card of a custom type (its own HTML, served as it is) that asks the network for an image
and a script: the sandbox blocks both and the task view names each."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from card_watch import CARD_FLOWS, Network, api, card_frame
from flow_runs import run_flow
from mf_runs import metaflow_env, run_metaflow

from tests.browser_pages import checked_page

CHARTS_JS = """() => Array.from(document.querySelectorAll('.chart')).map(c => ({
  problem: c.querySelector('.card-problem')?.textContent ?? null,
  marks: c.querySelectorAll('svg .mark-rect path').length}))"""


def test_charts_that_cannot_be_drawn_say_why(page: Any, server: str, flowscope_env: dict[str, str],
                                               tmp_path: Path, shots: Path) -> None:
    net = Network(page, server)
    run = run_flow(flowscope_env, CARD_FLOWS / "broken_chart_flow.py", tmp_path)
    base = f"/api/flows/BrokenChartFlow/runs/{run}/steps/start/tasks"
    task = str(api(server, base)["data"][0]["task_id"])
    page.goto(f"/BrokenChartFlow/{run}/start/{task}?panel=cards")
    frame = card_frame(page)
    # Every chart settled: drawn (an SVG) or replaced by its reason.
    frame.wait_for_function("() => document.querySelectorAll('.chart').length === 3 && Array.from("
                            "document.querySelectorAll('.chart')).every(c => c.querySelector('svg, .card-problem'))",
                            timeout=30_000)
    page.wait_for_timeout(500)   # a chart whose data failed to load would still be an empty SVG now
    from_url, good, invalid = frame.evaluate(CHARTS_JS)
    # In place of each broken chart, its reason; the valid chart between them is drawn (3 bars).
    assert from_url["problem"] == ("chart not drawn: a card chart cannot load https://example.com/losses.csv: "
                                   "cards have no network access; put the data inline"), from_url
    assert good == {"problem": None, "marks": 3}, good
    assert invalid["problem"] and invalid["problem"].startswith("chart not drawn: ") and \
        "Invalid specification" in invalid["problem"], invalid
    # The task view lists the same reasons above the frame.
    problems = page.get_by_test_id("card-problems")
    problems.wait_for()
    page.wait_for_function("() => document.querySelectorAll('[data-testid=card-problems] > div').length === 2")
    listed = problems.locator("div").all_inner_texts()
    assert sorted(listed) == sorted([from_url["problem"], invalid["problem"]]), listed
    # The URL was refused by the chart's loader, not fetched (and not left to the CSP to block).
    assert net.leaving() == [] and net.csp == [], (net.leaving(), net.csp)
    assert not [u for u, _f in net.requests if "example.com" in u]
    page.get_by_test_id("card-frame").screenshot(path=str(shots / "card-problems.png"))


@pytest.fixture()
def stopped() -> list[str]:
    return []


@pytest.fixture()
def sandboxed_page(browser: Any, server: str, stopped: list[str]) -> Iterator[Any]:
    """A checked page on which the foreign card's requests to example.com being blocked is expected
    (those violations go to ``stopped``); any other violation still fails the test."""
    yield from checked_page(browser, server, attacks=(r"example\.com",), stopped=stopped)


@pytest.mark.compat
def test_a_foreign_card_page_names_what_the_sandbox_blocked(
        sandboxed_page: Any, stopped: list[str], server: str, ingest_url: str,
        tmp_path: Path, shots: Path) -> None:
    page = sandboxed_page
    env = metaflow_env(ingest_url, tmp_path, PYTHONPATH=str(CARD_FLOWS / "mf_ext"))
    run = run_metaflow(CARD_FLOWS / "mf_foreign_card_flow.py", env, tmp_path)
    base = f"/api/flows/ForeignCardFlow/runs/{run}/steps/start/tasks"
    task = str(api(server, base)["data"][0]["task_id"])
    (card,) = api(server, f"{base}/{task}/cards")["data"]
    assert card["type"] == "foreigncard", card
    net = Network(page, server)
    page.goto(f"/ForeignCardFlow/{run}/start/{task}?panel=cards")
    frame = card_frame(page)
    assert frame.locator("h1").inner_text() == "A card of its own kind"    # the card's own page
    page.wait_for_function("() => document.querySelectorAll('[data-testid=card-problems] > div').length === 2")
    listed = sorted(page.get_by_test_id("card-problems").locator("div").all_inner_texts())
    assert listed == ["blocked by the card sandbox: img-src https://example.com/pixel.png",
                      "blocked by the card sandbox: script-src-elem https://cdn.example.com/widget.js"], listed
    assert any("example.com/pixel.png" in v for v in stopped) and any("widget.js" in v for v in stopped), stopped
    # Blocked by the browser before anything was sent: each failed as blocked, none was answered.
    leaving = net.leaving()
    assert sorted(leaving) == ["https://cdn.example.com/widget.js", "https://example.com/pixel.png"], leaving
    assert all(net.failed.get(u) == "csp" for u in leaving), net.failed
    assert not set(leaving) & set(net.answered), net.answered
    # The task view: the reasons above the frame.
    page.get_by_test_id("card-frame").locator("..").screenshot(path=str(shots / "card-foreign-blocked.png"))
