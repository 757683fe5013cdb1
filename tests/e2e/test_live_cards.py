"""Live cards in Chromium: a running task's card (ProgressBar, VegaChart, Table of components,
matplotlib Image) updates in place as the task refreshes it, for core_runtime runs and for runs of
the real pip `metaflow`; the chart is drawn; nothing leaves the machine and the card's CSP blocks
nothing; the same in dark mode.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from card_watch import CARD_FLOWS, Network, api, card_frame, card_task, release, start_flow, watch
from mf_runs import metaflow_env, run_metaflow

CHART_JS = """() => { const svg = document.querySelector('.chart svg');
  return svg ? {lines: svg.querySelectorAll('.mark-line path').length, points: svg.querySelectorAll('.mark-symbol path').length,
                texts: Array.from(svg.querySelectorAll('text')).map(t => t.textContent),
                fill: getComputedStyle(svg.querySelector('.role-axis-label text') || svg).fill} : null }"""


def open_card(page: Any, flow: str, run: str, task: str, dark: bool) -> Any:
    if dark:
        page.add_init_script("if (window === window.top) localStorage.setItem('flowscope.theme', 'dark')")
    page.goto(f"/{flow}/{run}/start/{task}?panel=cards")
    page.get_by_test_id("card-frame").wait_for()
    frame = card_frame(page)
    frame.wait_for_function("() => document.querySelector('.progress') !== null", timeout=30_000)
    frame.evaluate("window.__cardMarker = 'first document'")
    return frame


def check_live_card(page: Any, proc: Any, id_file: Path, net: Network, shots: Path, name: str, dark: bool,
                    min_advances: int = 3) -> None:
    """The flow was started gated: it is released once the page shows the first render."""
    frame = card_frame(page)
    # The card is taller than its frame: scroll it, and the scroll must survive every update.
    scrolled = frame.evaluate("window.scrollTo(0, 120), window.scrollY")
    assert scrolled > 50
    first = frame.evaluate("Number(document.querySelector('.progress').dataset.percent)")
    assert first == 0, first          # the task waits for release() after its first render
    release(id_file)
    w = watch(page, proc)
    assert proc.wait(timeout=60) == 0
    percents = w.distinct_percents()
    running = [p for p in percents if p < 100]
    # Advances seen while the task ran, in order, then 100 % once it finished.
    assert len(running) >= min_advances - 1 and percents == sorted(percents), percents
    assert percents[-1] == 100 and len(percents) - 1 >= min_advances, percents
    final = [s for s in w.samples if s.final]
    assert final and all(s.percent == 100 for s in final[-3:])
    # Updated in place: the frame kept its document (the marker set at first load) and its scroll.
    before_final = [s for s in w.samples if not s.final]
    assert before_final and all(s.marker == "first document" for s in before_final), before_final[-3:]
    assert all(abs(s.scroll - scrolled) < 2 for s in before_final[3:]), [s.scroll for s in before_final]
    frame = card_frame(page)
    frame.wait_for_function("() => document.querySelectorAll('.chart svg .mark-symbol path').length > 0")
    chart = frame.evaluate(CHART_JS)
    assert chart and chart["lines"] == 1 and chart["points"] >= 8, chart   # one point per epoch
    assert "training loss" in chart["texts"]
    assert frame.evaluate("document.documentElement.dataset.theme") == ("dark" if dark else "light")
    light_text = chart["fill"] in ("rgb(227, 231, 238)", "rgb(154, 163, 178)")
    assert light_text == dark, chart["fill"]          # axis labels readable on the theme's background
    assert frame.locator(".card-image img").evaluate("img => img.complete && img.naturalWidth > 0")
    assert frame.locator("td .markdown strong").first.inner_text() == "optimizer"
    assert frame.locator("td .artifact-data").first.inner_text() == "{'name': 'adam', 'lr': 0.001}" or \
        "adam" in frame.locator("td .artifact-data").first.inner_text()
    assert net.csp == [] and page.get_by_test_id("card-problems").count() == 0
    assert net.leaving() == [], net.leaving()
    assert all(u.startswith(net.base + "/api/") for u in net.from_card_frames()), net.from_card_frames()
    frame.evaluate("window.scrollTo(0, 0)")
    page.get_by_test_id("card-frame").screenshot(path=str(shots / f"{name}.png"))


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_live_card_of_a_core_runtime_run(page: Any, server: str, flowscope_env: dict[str, str], tmp_path: Path,
                                         shots: Path, dark: bool) -> None:
    net = Network(page, server)
    proc, id_file = start_flow("live_card_flow.py", flowscope_env, tmp_path, steps=8, gated=True)
    try:
        run, task = card_task(server, "LiveCardFlow", id_file)
        open_card(page, "LiveCardFlow", run, task, dark)
        check_live_card(page, proc, id_file, net, shots, f"card-live-{'dark' if dark else 'light'}", dark)
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.compat
def test_live_card_of_a_metaflow_run(page: Any, server: str, ingest_url: str, tmp_path: Path, shots: Path) -> None:
    """Real metaflow writes its runtime card data to its datastore; the backend polls it and the
    card updates in place; Metaflow's chart card renders in our sandbox with nothing fetched. The
    flow runs from a directory below its datastore's sysroot, as docs/metaflow.md says to."""
    env = metaflow_env(ingest_url, tmp_path)
    project = tmp_path / "project"
    project.mkdir()
    net = Network(page, server)
    # Metaflow renders each refresh in a `card create` subprocess and skips a refresh while one
    # runs: on this machine that is one update every ~2 s, so the task runs longer.
    proc, id_file = start_flow("mf_live_card_flow.py", env, project, steps=14, extra=["--no-pylint"],
                                gated=True)
    try:
        run, task = card_task(server, "LiveCardFlow", id_file, timeout=120)
        open_card(page, "LiveCardFlow", run, task, dark=False)
        try:
            check_live_card(page, proc, id_file, net, shots, "card-live-metaflow", dark=False)
        except AssertionError:   # what the backend and the page said, for the failure report
            t = f"/api/flows/LiveCardFlow/runs/{run}/steps/start/tasks/{task}"
            print("task:", api(server, t)["data"], "\ncards:", api(server, t + "/cards")["data"],
                  "\ndata:", api(server, t + "/cards/live/data")["data"],
                  "\nrenders:", page.evaluate("window.__flowscopeCardRenders"))
            raise
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.fixture(scope="module")
def default_chart_run(ingest_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Run id of DefaultChartFlow (a default card with a VegaChart) recorded by real metaflow."""
    tmp = tmp_path_factory.mktemp("mf-default-chart")
    return run_metaflow(CARD_FLOWS / "mf_default_chart_flow.py", metaflow_env(ingest_url, tmp), tmp)


@pytest.mark.compat
@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_default_card_of_a_metaflow_run_with_a_chart(page: Any, server: str, default_chart_run: str,
                                                      shots: Path, dark: bool) -> None:
    """Metaflow's *default* card (its template's task info, artifacts and DAG, plus an appended
    VegaChart) drawn in our sandbox: the chart's SVG has its line and points, every component is
    drawn, no CSP violation, nothing leaves the machine; in both themes."""
    run = default_chart_run
    tasks = api(server, f"/api/flows/DefaultChartFlow/runs/{run}/steps/start/tasks")["data"]
    task = str(tasks[0]["task_id"])
    (card,) = api(server, f"/api/flows/DefaultChartFlow/runs/{run}/steps/start/tasks/{task}/cards")["data"]
    assert card["type"] == "default" and card["final"] is True
    net = Network(page, server)
    if dark:
        page.add_init_script("if (window === window.top) localStorage.setItem('flowscope.theme', 'dark')")
    page.goto(f"/DefaultChartFlow/{run}/start/{task}?panel=cards")
    frame = card_frame(page)
    frame.wait_for_function("() => document.querySelectorAll('.chart svg .mark-symbol path').length > 0",
                            timeout=30_000)
    chart = frame.evaluate(CHART_JS)
    assert chart and chart["lines"] == 1 and chart["points"] == 5, chart      # one point per epoch
    assert "validation loss" in chart["texts"] and "epoch" in chart["texts"], chart["texts"]
    assert frame.evaluate("document.documentElement.dataset.theme") == ("dark" if dark else "light")
    light_text = chart["fill"] in ("rgb(227, 231, 238)", "rgb(154, 163, 178)")
    assert light_text == dark, chart["fill"]
    # The rest of Metaflow's default card is drawn too: the appended heading, the task's artifacts.
    assert frame.locator(".markdown h2").first.inner_text() == "Validation"
    body = frame.locator("body").inner_text()
    assert "losses" in body and "DefaultChartFlow" in body, body[:500]
    assert frame.locator(".card-problem, .card-problems").count() == 0, body[:500]
    assert net.csp == [] and page.get_by_test_id("card-problems").count() == 0
    assert net.leaving() == [], net.leaving()
    assert all(u.startswith(net.base + "/api/") for u in net.from_card_frames()), net.from_card_frames()
    page.get_by_test_id("card-frame").screenshot(path=str(shots / f"card-metaflow-default-{'dark' if dark else 'light'}.png"))
