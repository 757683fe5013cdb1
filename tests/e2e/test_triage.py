"""Triage in the browser: the failure digest of a failed foreach run (a group → its log line),
the critical path on the timeline, the log diff against the last good run, watching a run
(a notification with the permission granted, the tab title's badge); both themes, keyboard.
Screenshots for docs/triage.md go through the ``shots`` fixture."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURE_FLOWS, checked_page, run_flow

FLOW = FIXTURE_FLOWS / "triage_flow.py"

# Records what the page shows with the Notification API (the real constructor still runs).
RECORD_NOTIFICATIONS = """
window.__notes = [];
const Real = window.Notification;
class Recorded extends Real {
  constructor(title, options) { super(title, options); window.__notes.push({ title, body: options && options.body }); }
}
Object.defineProperty(Recorded, "permission", { get: () => Real.permission });
Recorded.requestPermission = (...args) => Real.requestPermission(...args);
window.Notification = Recorded;
"""


@pytest.fixture(scope="module")
def triage_runs(flowscope_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory, server: str) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("triage-e2e")
    return {"good": run_flow({**flowscope_env, "TRIAGE_OK": "1"}, FLOW, tmp),
            "failed": run_flow(flowscope_env, FLOW, tmp, check=False)}


def _dark(page: Any) -> None:
    page.evaluate("localStorage.setItem('flowscope.theme', 'dark')")
    page.reload()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"


def test_digest_group_leads_to_the_log_line(page: Any, triage_runs: dict[str, str], shots: Path) -> None:
    run = triage_runs["failed"]
    page.goto(f"/TriageFlow/{run}?tab=triage")
    digest = page.get_by_test_id("digest")
    digest.wait_for()
    assert "1 failed task and 6 retried attempts in 3 signatures" in digest.inner_text()
    why = page.get_by_test_id("status-explanation").first
    assert why.get_attribute("data-rule") == "task_failed" and "step work failed for good" in why.inner_text()
    # Keyboard: focus the first group (failed tasks first) and open it with Enter.
    first = page.get_by_test_id("digest-group").first
    assert "ValueError" in first.inner_text() and "bad row <n> in <path>" in first.inner_text()
    first.focus()
    page.keyboard.press("Enter")
    detail = page.get_by_test_id("digest-detail")
    detail.wait_for()
    assert re.search(r"[?&]dg=[0-9a-f]{12}", page.url), page.url   # the open group is in the URL
    assert "parse_row" in detail.inner_text() and "foreach inputs" in detail.inner_text()
    page.screenshot(path=str(shots / "triage.png"))
    # A reload restores the open group (a shareable link).
    page.reload()
    page.get_by_test_id("digest-detail").wait_for()
    _dark(page)
    page.get_by_test_id("digest-detail").wait_for()
    page.screenshot(path=str(shots / "triage-dark.png"))
    page.get_by_test_id("digest-log-link").click()
    page.wait_for_url(re.compile(r"/TriageFlow/\d+/work/\d+\?attempt=1&stream=stderr#L\d+-\d+$"))
    selected = page.locator(".log-line.selected")
    selected.last.wait_for()
    assert selected.first.inner_text().strip().endswith("Traceback (most recent call last):")
    assert "ValueError: bad row 5007 in /data/part-0005.csv" in selected.last.inner_text()
    # The task's own status explanation, beside its badge.
    page.get_by_test_id("why-status").click()
    assert page.get_by_test_id("status-explanation").get_attribute("data-rule") == "exception"


def test_why_beside_a_status_in_the_run_list(page: Any, triage_runs: dict[str, str], shots: Path) -> None:
    page.goto("/TriageFlow")
    row = page.locator(f'[data-pathspec="TriageFlow/{triage_runs["failed"]}"]')
    row.get_by_test_id("why-status").click()
    why = page.get_by_test_id("status-explanation")
    why.wait_for()
    assert why.get_attribute("data-rule") == "task_failed"
    assert page.url.endswith("/TriageFlow")            # the row was not opened
    page.screenshot(path=str(shots / "triage-why.png"))
    page.keyboard.press("Escape")
    why.wait_for(state="detached")


def test_critical_path_toggle_on_the_timeline(page: Any, triage_runs: dict[str, str], shots: Path) -> None:
    page.goto(f"/TriageFlow/{triage_runs['good']}")
    timeline = page.get_by_test_id("timeline")
    page.wait_for_function("() => document.querySelector('[data-testid=timeline]')?.dataset.loaded === 'true'")
    assert timeline.get_attribute("data-critical") is None
    toggle = page.get_by_test_id("critical-path-toggle")
    toggle.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"[?&]cp=1"))
    page.wait_for_function("() => Number(document.querySelector('[data-testid=timeline]')?.dataset.critical) >= 4")
    note = page.get_by_test_id("critical-path-note")
    assert "Critical path: start → work → join → end" in note.inner_text()
    assert toggle.get_attribute("aria-pressed") == "true"
    page.screenshot(path=str(shots / "triage-critical-path.png"))
    # From the triage tab, "Show on the timeline" is the same link.
    page.goto(f"/TriageFlow/{triage_runs['good']}?tab=triage")
    durations = page.get_by_test_id("durations")
    durations.wait_for()
    assert durations.locator("tr[data-step='work'] svg.hist").count() == 1
    page.locator("section[aria-labelledby='t-time']").screenshot(path=str(shots / "triage-time.png"))
    page.get_by_test_id("show-critical-path").click()
    page.wait_for_url(re.compile(r"/TriageFlow/\d+\?cp=1$"))


def test_log_diff_with_the_last_good_run(page: Any, triage_runs: dict[str, str], shots: Path) -> None:
    good, failed = triage_runs["good"], triage_runs["failed"]
    page.goto(f"/TriageFlow/{failed}?tab=triage")
    page.get_by_test_id("compare-last-good").click()
    page.wait_for_url(re.compile(r"/-/compare\?a=TriageFlow%2F\d+&b=TriageFlow%2F\d+&logs=1$"))
    assert f"a=TriageFlow%2F{good}" in page.url
    diff = page.get_by_test_id("log-diff")
    diff.locator("tr[data-op='removed']").first.wait_for()
    assert "1 line differ" in page.get_by_test_id("log-diff-summary").inner_text()
    assert diff.locator("tr[data-op='removed']").first.inner_text().strip().endswith("done")
    equal = diff.locator("tr[data-op='equal']").first.inner_text()
    assert equal.count("processing item 5 at") == 2      # timestamps and run ids differ, still aligned
    page.screenshot(path=str(shots / "triage-log-diff.png"))
    diff.get_by_role("button", name="stderr").click()
    page.wait_for_url(re.compile(r"lstream=stderr"))
    added = diff.locator("tr[data-op='added']")
    added.last.wait_for()
    assert any("ValueError: bad row 5007" in t for t in added.all_inner_texts())


@pytest.fixture()
def notifying_page(browser: Any, server: str) -> Iterator[Any]:
    """The checked page (no script error, no CSP violation) with notifications granted and recorded."""
    yield from checked_page(browser, server, permissions=["notifications"], init_scripts=(RECORD_NOTIFICATIONS,))


def test_watched_run_notifies_and_badges_the_title(notifying_page: Any, flowscope_env: dict[str, str],
                                                   tmp_path: Path, server: str) -> None:
    page = notifying_page
    id_file = tmp_path / "watch.id"
    proc = subprocess.Popen([sys.executable, str(FLOW), "run", "--run-id-file", str(id_file)],
                            env={**flowscope_env, "TRIAGE_FINAL_DELAY": "6"}, cwd=str(FLOW.parent),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not (id_file.exists() and id_file.read_text().strip()) and time.monotonic() < deadline:
            time.sleep(0.2)
        run = id_file.read_text().strip()
        page.goto(f"/TriageFlow/{run}")
        watch = page.get_by_test_id("watch-run")
        watch.click()
        assert watch.get_attribute("aria-pressed") == "true"
        page.wait_for_function("() => window.__notes.length > 0", timeout=90_000)
        notes = page.evaluate("window.__notes")
        assert notes[0]["title"] == "Flowscope"
        assert notes[0]["body"].startswith(f"TriageFlow/{run} failed: step work failed")
        page.wait_for_function(f"() => document.title.startsWith('✖ TriageFlow/{run} failed')")
        # The watch survives a reload (kept in the browser).
        page.reload()
        assert page.get_by_test_id("watch-run").get_attribute("aria-pressed") == "true"
    finally:
        proc.wait(timeout=120)


def test_saved_views_keep_filters_as_links(page: Any, triage_runs: dict[str, str]) -> None:
    page.goto("/?status=failed&flow=TriageFlow")
    page.get_by_test_id("saved-views").click()
    page.get_by_label("Name of this view").fill("failed triage runs")
    page.keyboard.press("Enter")
    saved = page.locator('[data-view="failed triage runs"] a')
    assert saved.get_attribute("href") == "/?status=failed&flow=TriageFlow"
    page.goto("/")
    page.get_by_test_id("saved-views").click()
    page.locator('[data-view="failed triage runs"] a').click()
    page.wait_for_url(re.compile(r"/\?status=failed&flow=TriageFlow$"))
    # The list of "/" may still be on screen for a moment: wait for the filtered one.
    page.wait_for_function("() => { const r = [...document.querySelectorAll('[data-pathspec]')];"
                           " return r.length > 0 && r.every(e => e.dataset.pathspec.startsWith('TriageFlow/')); }")
    rows = page.locator("[data-pathspec]")
    shown = [rows.nth(i).get_attribute("data-pathspec") for i in range(rows.count())]
    assert f"TriageFlow/{triage_runs['failed']}" in shown and f"TriageFlow/{triage_runs['good']}" not in shown
    assert all(p.startswith("TriageFlow/") for p in shown)
