"""Plugins in Chromium: a test panel ("probe", tests/e2e/plugins/) in all four slots receives its
context and live updates and sizes itself, but cannot reach the host page; link plugins show the
filled, encoded URLs; a bad plugin is listed with its error; the step-durations example draws."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import OWN_FLOWS, api_get, checked_page, extra_backend

TEST_PLUGINS = Path(__file__).resolve().parent / "plugins"


@pytest.fixture(scope="module")
def plugin_server(built_ui: Path, backend_env: dict[str, str], recorded: dict[str, str],
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A backend of our own that also finds the test plugins."""
    with extra_backend(backend_env, tmp_path_factory, "plugin-server", FLOWSCOPE_PLUGIN_DIRS=str(TEST_PLUGINS)) as base:
        yield base


# The probe panel tries to fetch the API itself; its CSP (connect-src 'none') must stop that.
PROBE_FETCH = r"connect-src.*/-/plugins/probe/|Connecting to .*/api/runs.*connect-src 'none'|Fetch API cannot load .*/api/runs"


@pytest.fixture()
def stopped() -> list[str]:
    return []


@pytest.fixture()
def ppage(browser: Any, plugin_server: str, stopped: list[str]) -> Iterator[Any]:
    # A cookie of the host page that a panel must not be able to see.
    yield from checked_page(browser, plugin_server, 20_000,
                            [{"name": "host_secret", "value": "s3cr3t", "url": plugin_server}],
                            attacks=(PROBE_FETCH,), stopped=stopped)


def probe_state(page: Any, slot: str, test: str = "s => s.contexts >= 1", timeout: float = 20_000) -> dict[str, Any]:
    """Waits until the probe in `slot` reports a state satisfying `test` (a JS predicate); returns it."""
    selector = f'[data-slot="{slot}"] iframe[data-plugin="probe"]'
    page.locator(selector).wait_for()
    frame = page.frame_locator(selector)
    body = frame.locator("body[data-state]")
    body.wait_for(timeout=timeout)
    body.evaluate(f"(b, _) => new Promise((ok, fail) => {{ const t = Date.now(); const check = () => {{"
                  f" const s = JSON.parse(b.dataset.state); if (({test})(s)) ok(true);"
                  f" else if (Date.now() - t > {timeout}) fail(new Error('probe never got: ' + b.dataset.state));"
                  f" else setTimeout(check, 100); }}; check(); }})", None, timeout=timeout + 5_000)
    return json.loads(body.get_attribute("data-state"))


def frame_height(page: Any, slot: str) -> int:
    return int(page.locator(f'[data-slot="{slot}"] iframe[data-plugin="probe"]').evaluate("f => f.clientHeight"))


def test_panel_is_sandboxed_away_from_the_host(ppage: Any, stopped: list[str]) -> None:
    ppage.goto("/")
    state = probe_state(ppage, "home-header", "s => s.fetch && s.got")
    assert state["slot"] == "home-header" and state["pathspec"] is None and state["theme"] == "light"
    # No same-origin: the parent's DOM and cookies are out of reach, and so is its API over fetch.
    assert state["parentDom"] == "blocked:SecurityError"
    assert state["parentCookie"] == "blocked:SecurityError"
    assert state["cookie"].startswith("blocked:") and "s3cr3t" not in json.dumps(state)
    assert state["fetch"] == "blocked"
    # ... by the panel's own CSP, which reported it (the sandbox alone would let the request go out).
    assert any("CSP violation: connect-src" in v and "/-/plugins/probe/" in v for v in stopped), stopped
    # ...but the host reads the API for it.
    assert state["got"] == "list"
    frame = ppage.locator('[data-slot="home-header"] iframe[data-plugin="probe"]')
    assert frame.get_attribute("sandbox") == "allow-scripts"
    assert frame_height(ppage, "home-header") == 123
    # The host page itself still has its cookie: the probe's failure is the sandbox, not a missing cookie.
    assert "host_secret=s3cr3t" in ppage.evaluate("document.cookie")


def test_panels_in_every_slot_get_context_and_live_updates(ppage: Any, plugin_server: str, recorded: dict[str, str],
                                                           flowscope_env: dict[str, str], tmp_path: Path) -> None:
    ppage.goto("/LiveFlow")
    probe_state(ppage, "home-header")
    proc = subprocess.Popen([sys.executable, str(OWN_FLOWS / "live_flow.py"), "run", "--run-id-file",
                             str(tmp_path / "live.id")], env=flowscope_env, cwd=str(OWN_FLOWS),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        # home-header: the new run arrives as a live event through the host's websocket.
        home = probe_state(ppage, "home-header", "s => s.live >= 1 && s.lastEvent.pathspec", timeout=40_000)
        run_id = home["lastEvent"]["pathspec"].split("/")[1]
        assert home["lastEvent"]["pathspec"] == f"LiveFlow/{run_id}"

        ppage.goto(f"/LiveFlow/{run_id}")
        header = probe_state(ppage, "run-header", "s => s.runStatus === 'running'")
        assert header["pathspec"] == f"LiveFlow/{run_id}"
        assert header["resource"] == f"/api/flows/LiveFlow/runs/{run_id}"
        assert frame_height(ppage, "run-header") == 123
        # Live: the run's own updates reach the panel, and the context follows the run to completion.
        done = probe_state(ppage, "run-header", "s => s.live >= 1 && s.runStatus === 'completed'", timeout=60_000)
        assert done["contexts"] >= 2 and done["got"] == f"LiveFlow/{run_id}"
    finally:
        proc.wait(timeout=90)
    assert proc.returncode == 0

    # run-tab: a tab of its own, in the URL; the panel resizes itself and can raise a toast.
    ppage.get_by_role("tab", name="Probe").click()
    ppage.wait_for_url(re.compile(r"\?tab=plugin%3Aprobe$"))
    tab = probe_state(ppage, "run-tab")
    assert tab["runStatus"] == "completed" and tab["pathspec"] == f"LiveFlow/{run_id}"
    ppage.wait_for_function("() => document.querySelector('[data-slot=\"run-tab\"] iframe').clientHeight === 321")
    toasts = ppage.get_by_test_id("plugin-toast")
    toasts.filter(has_text="probe says hello").wait_for()
    # Navigation out of the app is refused (and said so); the page stays where it was.
    toasts.filter(has_text="refused to navigate to https://evil.example/").wait_for()
    assert ppage.url.endswith(f"/LiveFlow/{run_id}?tab=plugin%3Aprobe")
    assert ppage.locator('[data-testid="timeline"]').count() == 0
    assert ppage.get_by_role("tab", name="Probe").get_attribute("aria-selected") == "true"

    # task-details
    linear = recorded["LinearFlow"]
    task_id = api_get(plugin_server, f"/api/flows/LinearFlow/runs/{linear}/steps/start/tasks")["data"][0]["task_id"]
    ppage.goto(f"/LinearFlow/{linear}/start/{task_id}")
    task = probe_state(ppage, "task-details", "s => s.got")
    assert task["taskStatus"] == "completed" and task["pathspec"] == f"LinearFlow/{linear}/start/{task_id}"
    assert task["got"] == task["pathspec"]
    assert frame_height(ppage, "task-details") == 123


def test_link_plugin_shows_the_filled_urls(ppage: Any, plugin_server: str, recorded: dict[str, str]) -> None:
    linear = recorded["LinearFlow"]
    run = api_get(plugin_server, f"/api/flows/LinearFlow/runs/{linear}")["data"]
    ppage.goto(f"/LinearFlow/{linear}")
    link = ppage.locator('[data-slot="run-header"] a[data-plugin-link="Run dashboard"]')
    expected = (f"https://dash.example.com/run?ps=LinearFlow%2F{linear}&lr=0.25"
                f"&u={urllib.parse.quote(run['user'], safe='')}")
    assert link.get_attribute("href") == expected
    assert link.get_attribute("target") == "_blank" and "noopener" in link.get_attribute("rel")

    task_id = api_get(plugin_server, f"/api/flows/LinearFlow/runs/{linear}/steps/middle/tasks")["data"][0]["task_id"]
    ppage.goto(f"/LinearFlow/{linear}/middle/{task_id}")
    logs = ppage.locator('[data-slot="task-details"] a[data-plugin-link="Task logs"]')
    assert logs.get_attribute("href") == (f"https://logs.example.com/LinearFlow/{linear}/middle/{task_id}"
                                          f"?rt=flowscope&ps=LinearFlow%2F{linear}%2Fmiddle%2F{task_id}")
    # A template whose value this task does not have is a disabled button saying why, not a bad URL.
    missing = ppage.locator('[data-slot="task-details"] button[data-plugin-link="Container"]')
    assert missing.is_disabled()
    assert "task.metadata.container_id" in missing.get_attribute("title")


def test_plugins_page_lists_errors_and_the_durations_example_draws(ppage: Any, recorded: dict[str, str],
                                                                   shots: Path) -> None:
    ppage.goto("/-/plugins")
    # an app page, not a pathspec: the breadcrumb names the page, not a flow called "-"
    assert "".join(ppage.get_by_label("Breadcrumbs").inner_text().split()) == "Runs/Plugins"
    broken = ppage.locator('[data-testid="plugins"] tr[data-plugin="broken"]')
    assert broken.get_attribute("data-state") == "error"
    assert broken.get_by_test_id("plugin-error").inner_text().startswith("slots[0]: 'sidebar' is not one of")
    assert ppage.locator('tr[data-plugin="probe"]').get_attribute("data-state") == "enabled"
    assert ppage.locator('tr[data-plugin="skeleton"]').get_attribute("data-state") == "disabled"
    ppage.screenshot(path=str(shots / "plugins-page.png"))

    ppage.goto(f"/ForeachFlow/{recorded['ForeachFlow']}")
    ppage.get_by_role("tab", name="Durations").click()
    frame = ppage.frame_locator('[data-slot="run-tab"] iframe[data-plugin="step-durations"]')
    frame.locator("svg g[data-step]").first.wait_for()
    steps = frame.locator("svg g[data-step]").evaluate_all("gs => gs.map(g => g.dataset.step)")
    tasks = api_get(ppage.url.split("/ForeachFlow")[0], f"/api/flows/ForeachFlow/runs/{recorded['ForeachFlow']}/tasks")
    assert steps == [s["step_name"] for s in api_get(ppage.url.split("/ForeachFlow")[0],
                     f"/api/flows/ForeachFlow/runs/{recorded['ForeachFlow']}/steps")["data"]]
    assert frame.locator("body").get_attribute("data-tasks") == str(len(tasks["data"]))
    assert frame.locator("circle.dot").count() == len(tasks["data"])
    ppage.locator('[data-slot="run-tab"]').screenshot(path=str(shots / "plugin-step-durations.png"))
