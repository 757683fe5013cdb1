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
from conftest import FIXTURE_FLOWS, api_get, checked_page, run_flow

FLOW = FIXTURE_FLOWS / "triage_flow.py"
ROW_H, AXIS_H, LABEL_W = 20, 22, 220  # the timeline canvas geometry (frontend/src/timeline/drawTimeline.ts)

# Records what the page shows with the Notification API (the real constructor still runs), and
# every permission request. The context grants the permission, but until the page asks for it the
# page sees "default", as for a user who has not been asked yet: a request on load would show.
RECORD_NOTIFICATIONS = """
window.__notes = [];
window.__asks = [];
const Real = window.Notification;
class Recorded extends Real {
  constructor(title, options) { super(title, options); window.__notes.push({ title, body: options && options.body }); }
}
Object.defineProperty(Recorded, "permission", { get: () => (window.__asks.length ? Real.permission : "default") });
Recorded.requestPermission = (...args) => { window.__asks.push(performance.now()); return Real.requestPermission(...args); };
window.Notification = Recorded;
"""


@pytest.fixture(scope="module")
def triage_runs(flowscope_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory, server: str) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("triage-e2e")
    return {"good": run_flow({**flowscope_env, "TRIAGE_OK": "1"}, FLOW, tmp),
            "failed": run_flow(flowscope_env, FLOW, tmp, check=False)}


THEMES = pytest.mark.parametrize("theme", ["light", "dark"])

# The luminance (WCAG) of an element's text and of the first opaque background behind it.
COLOURS = """el => {
  const rgba = (c) => { const v = (c.match(/[\\d.]+/g) || []).map(Number); return v.length === 3 ? [...v, 1] : v; };
  const lum = ([r, g, b]) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  let bg = el;
  while (bg && rgba(getComputedStyle(bg).backgroundColor)[3] === 0) bg = bg.parentElement;
  return { theme: document.documentElement.dataset.theme, text: lum(rgba(getComputedStyle(el).color)),
           back: lum(rgba(bg ? getComputedStyle(bg).backgroundColor : "rgb(255, 255, 255)")) };
}"""


def assert_themed(locator: Any, theme: str) -> None:
    """The page is in theme and locator is drawn in its colours: a dark background with light text
    (or the reverse), readable (WCAG contrast at least 4.5)."""
    c = locator.evaluate(COLOURS)
    assert c["theme"] == theme, c
    assert (c["back"] < 0.1 and c["text"] > 0.3) if theme == "dark" else (c["back"] > 0.6 and c["text"] < 0.2), c
    contrast = (max(c["text"], c["back"]) + 0.05) / (min(c["text"], c["back"]) + 0.05)
    assert contrast >= 4.5, (c, contrast)


def tab_to(page: Any, target: Any, limit: int = 250) -> None:
    """Presses Tab until target has the focus: it is reachable by keyboard, in the page's order."""
    el = target.element_handle()
    for _ in range(limit):
        page.keyboard.press("Tab")
        if el.evaluate("e => e === document.activeElement"):
            return
    raise AssertionError(f"not reachable with Tab: {target}")


def focused(locator: Any) -> bool:
    return bool(locator.evaluate("e => e === document.activeElement"))


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
    # Keyboard: Tab to the first group (failed tasks first) and open it with Enter.
    first = page.get_by_test_id("digest-group").first
    assert "ValueError" in first.inner_text() and "bad row <n> in <path>" in first.inner_text()
    tab_to(page, first)
    page.keyboard.press("Enter")
    detail = page.get_by_test_id("digest-detail")
    detail.wait_for()
    assert re.search(r"[?&]dg=[0-9a-f]{12}", page.url), page.url   # the open group is in the URL
    assert "parse_row" in detail.inner_text() and "foreach inputs" in detail.inner_text()
    page.screenshot(path=str(shots / "triage.png"))
    # A reload restores the open group (a shareable link).
    page.reload()
    page.get_by_test_id("digest-detail").wait_for()
    assert_themed(page.get_by_test_id("digest-detail"), "light")
    _dark(page)
    page.get_by_test_id("digest-detail").wait_for()
    assert_themed(page.get_by_test_id("digest-detail"), "dark")
    page.screenshot(path=str(shots / "triage-dark.png"))
    # Keyboard: Tab reaches the example's log link, Enter follows it.
    tab_to(page, page.get_by_test_id("digest-log-link"))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/TriageFlow/\d+/work/\d+\?attempt=1&stream=stderr#L\d+-\d+$"))
    selected = page.locator(".log-line.selected")
    selected.last.wait_for()
    assert selected.first.inner_text().strip().endswith("Traceback (most recent call last):")
    assert "ValueError: bad row 5007 in /data/part-0005.csv" in selected.last.inner_text()
    # The task's own status explanation, beside its badge.
    page.get_by_test_id("task-info").get_by_test_id("why-status").click()
    assert page.get_by_test_id("status-explanation").get_attribute("data-rule") == "exception"


@THEMES
def test_why_beside_a_status_in_the_run_list(page: Any, triage_runs: dict[str, str], shots: Path, tmp_path: Path,
                                             theme: str) -> None:
    page.emulate_media(color_scheme=theme)
    page.goto("/TriageFlow")
    row = page.locator(f'[data-pathspec="TriageFlow/{triage_runs["failed"]}"]')
    button = row.get_by_test_id("why-status")
    # Keyboard only: Tab to the row's why?, Enter opens it, Escape closes it and gives the focus back.
    tab_to(page, button)
    page.keyboard.press("Enter")
    why = page.get_by_test_id("status-explanation")
    why.wait_for()
    assert why.get_attribute("data-rule") == "task_failed"
    assert button.get_attribute("aria-expanded") == "true"
    assert page.url.endswith("/TriageFlow")            # the row was not opened
    assert_themed(page.get_by_role("dialog", name="Why this status"), theme)
    page.screenshot(path=str(shots / "triage-why.png" if theme == "light" else tmp_path / "triage-why-dark.png"))
    page.keyboard.press("Escape")
    why.wait_for(state="detached")
    assert focused(button)
    # Space opens it too (a button).
    page.keyboard.press(" ")
    why.wait_for()
    page.keyboard.press("Escape")
    why.wait_for(state="detached")


def _duration(ms: int) -> str:
    """frontend/src/ui/format.ts formatDuration, below a minute (toFixed rounds half up)."""
    if ms < 1000:
        return f"{ms}ms"
    return f"{(ms + 50) // 100 / 10:.1f}s" if ms < 10_000 else f"{ms // 1000}s"


def timing_words(pathspec: str, tasks: list[dict[str, Any]]) -> str:
    """What the UI says of a finished task with parents: queued from its last parent's finish to its
    start, running from its start to its finish."""
    task = next(t for t in tasks if t["pathspec"] == pathspec)
    finished = {f"{t['step_name']}/{t['task_id']}": t["finished_at"] for t in tasks}
    ready = max(finished[p] for p in task["parent_task_ids"])
    return (f"queued {_duration(max(0, task['started_at'] - ready))} · "
            f"running {_duration(task['finished_at'] - task['started_at'])}")


def _why(page: Any, scope: Any, keyboard: bool = False) -> str:
    """Opens the why? inside scope (a click, or focus and Enter), answers its rule, closes it again
    with Escape (focus back on the button)."""
    button = scope.get_by_test_id("why-status")
    if keyboard:
        button.focus()
        page.keyboard.press("Enter")
    else:
        button.click()
    why = page.get_by_test_id("status-explanation")
    why.wait_for()
    rule = why.get_attribute("data-rule")
    page.keyboard.press("Escape")
    why.wait_for(state="detached")
    assert button.evaluate("b => b === document.activeElement")
    return str(rule)


def test_why_beside_every_status(page: Any, triage_runs: dict[str, str], server: str) -> None:
    good, failed = triage_runs["good"], triage_runs["failed"]
    # The comparison's two run cards, and the run header's "Compare with…" picker.
    page.goto(f"/-/compare?a=TriageFlow%2F{good}&b=TriageFlow%2F{failed}")
    assert _why(page, page.get_by_test_id("compare-run-a")) == "end_step_ok"
    assert _why(page, page.get_by_test_id("compare-run-b")) == "task_failed"
    page.goto(f"/TriageFlow/{failed}")
    page.get_by_test_id("compare-with").click()
    picker = page.get_by_role("dialog", name="Pick a run to compare with")
    assert _why(page, picker.locator(f'[data-pathspec="TriageFlow/{good}"]')) == "end_step_ok"
    assert "/-/compare" not in page.url and picker.is_visible()     # asking why did not pick the run
    # That Escape closed only the why?; the next one closes the picker, the focus back on its button.
    page.keyboard.press("Escape")
    picker.wait_for(state="detached")
    assert focused(page.get_by_test_id("compare-with"))
    # The task list beside a task page: one why? per row, and it does not open the row.
    start = api_get(server, f"/api/flows/TriageFlow/runs/{failed}/steps/start/tasks")["data"][0]["task_id"]
    page.goto(f"/TriageFlow/{failed}/start/{start}")
    tasks = page.get_by_role("complementary", name="Tasks")
    tasks.get_by_role("button", name="all steps").click()
    rows = tasks.locator("[data-task]")
    rows.nth(6).wait_for()
    url = page.url
    failed_row = tasks.locator("[data-task]").filter(has=page.locator(".status-failed"))
    assert failed_row.count() == 1
    assert _why(page, failed_row) == "exception"
    # Enter on the focused why? opens it; the list's Enter (open the selected row) leaves it alone.
    assert _why(page, failed_row, keyboard=True) == "exception"
    assert page.url == url


def test_timeline_tooltip_says_why_without_a_request_per_row(page: Any, triage_runs: dict[str, str],
                                                             server: str) -> None:
    run = triage_runs["failed"]
    work = api_get(server, f"/api/flows/TriageFlow/runs/{run}/steps/work/tasks")["data"]
    failed_task = next(t["pathspec"] for t in work if t["status"] == "failed")
    page.goto(f"/TriageFlow/{run}")
    page.wait_for_function("() => document.querySelector('[data-testid=timeline]')?.dataset.loaded === 'true'")
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if re.search(r"/tasks/[^/]+/status$", r.url) else None)
    tip = page.get_by_role("tooltip")
    # Rows by step: start's header and lane, work's header and its six lanes. Each lane's bar is
    # found in the canvas's own pixels (where the lane's middle differs from the gap above its bar,
    # which holds only background and grid lines), so the sweep does not depend on where the run's
    # timing put the bars. Pointer moves stay in the page: no round trip per move. Between lanes the
    # pointer rests on the labels until the tooltip has gone, so a title read is never the last lane's.
    lanes = [1, 3, 4, 5, 6, 7, 8]
    seen = page.evaluate("""async ({ lanes, axis, row, labelW }) => {
      const canvas = document.querySelector("canvas[aria-label='Task timeline']");
      const r = canvas.getBoundingClientRect();
      const scale = canvas.width / r.width;
      const g = canvas.getContext("2d");
      const titles = {};
      const move = (x, y) => canvas.dispatchEvent(new PointerEvent("pointermove", { clientX: x, clientY: y, bubbles: true }));
      const frames = async (n, until) => {
        for (let f = 0; f < n; f++) {
          const v = until();
          if (v) return v;
          await new Promise((ok) => requestAnimationFrame(ok));
        }
        return until();
      };
      const title = () => document.querySelector("[role=tooltip] .tt-title");
      const barX = (v) => {
        const mid = g.getImageData(0, Math.round((axis + v * row + row / 2) * scale), canvas.width, 1).data;
        const gap = g.getImageData(0, Math.round((axis + v * row + 1) * scale), canvas.width, 1).data;
        let from = -1, to = -1;
        for (let px = Math.ceil((labelW + 1) * scale); px < canvas.width; px++) {
          const i = px * 4;
          const differs = mid[i] !== gap[i] || mid[i + 1] !== gap[i + 1] || mid[i + 2] !== gap[i + 2];
          if (differs) {
            if (from < 0) from = px;
            else if (px - to > 4 * scale) break;   // the next bar on this lane
            to = px;
          }
        }
        return from < 0 ? null : (from + to) / 2 / scale;
      };
      for (const v of lanes) {
        const y = r.top + axis + v * row + row / 2;
        const x = barX(v);
        if (x === null) { titles["no bar drawn on lane " + v] = null; continue; }
        move(r.left + 5, y);
        await frames(60, () => !title());
        move(r.left + x, y);
        const t = await frames(60, title);
        titles[t ? t.textContent : "no tooltip on lane " + v] = [r.left + x, y];
      }
      move(r.left + 5, r.top + axis + row / 2);   // off the bars (the labels): the tooltip goes
      return titles;
    }""", {"lanes": lanes, "axis": AXIS_H, "row": ROW_H, "labelW": LABEL_W})
    page.wait_for_timeout(600)
    assert tip.count() == 0
    assert len([t for t in seen if t.startswith("TriageFlow/")]) == len(lanes), seen
    assert asked == [], asked
    # Resting on the failed task's bar asks once and shows the reason in one line.
    x, y = seen[failed_task]
    page.mouse.move(x, y)
    assert tip.locator(".tt-title").inner_text() == failed_task
    why = tip.get_by_test_id("tooltip-why")
    page.wait_for_function("() => document.querySelector('[data-testid=tooltip-why]')?.dataset.rule")
    assert why.get_attribute("data-rule") == "exception"
    assert "ValueError" in why.inner_text()
    assert len(asked) == 1, asked
    # Queued vs running time, from the same answer: checked against the task list (brute force:
    # queued = its start minus its last parent's finish).
    expected = timing_words(failed_task, api_get(server, f"/api/flows/TriageFlow/runs/{run}/tasks?limit=100")["data"])
    assert tip.get_by_test_id("tooltip-timing").inner_text() == expected
    # Clicking the bar opens the task at the attempt under the pointer (the URL names it when the
    # task was retried): the words there are that attempt's own (attempt 0 queued from its last
    # parent's finish, a retry from the previous attempt's finish), beside its duration.
    page.mouse.down()
    page.mouse.up()
    page.wait_for_url(re.compile(r"/TriageFlow/\d+/work/\d+"))
    tasks = api_get(server, f"/api/flows/TriageFlow/runs/{run}/tasks?limit=100")["data"]
    task = next(t for t in tasks if t["pathspec"] == failed_task)
    attempts = sorted(task["attempts"], key=lambda a: a["attempt"])
    if len(attempts) > 1:
        named = re.search(r"[?&]attempt=(\d+)", page.url)
        i = int(named.group(1)) if named else len(attempts) - 1
        shown = attempts[i]
        finished = {f"{t['step_name']}/{t['task_id']}": t["finished_at"] for t in tasks}
        ready = attempts[i - 1]["finished_at"] if i else max(finished[p] for p in task["parent_task_ids"])
        expected = (f"queued {_duration(max(0, shown['started_at'] - ready))} · "
                    f"running {_duration(shown['finished_at'] - shown['started_at'])}")
    assert page.get_by_test_id("task-timing").locator("dd").inner_text() == expected, (page.url, attempts)
    assert len(asked) == 1, asked                      # the task page reused the answer


@THEMES
def test_critical_path_toggle_on_the_timeline(page: Any, triage_runs: dict[str, str], shots: Path, tmp_path: Path,
                                              theme: str) -> None:
    page.emulate_media(color_scheme=theme)
    where = shots if theme == "light" else tmp_path
    page.goto(f"/TriageFlow/{triage_runs['good']}")
    timeline = page.get_by_test_id("timeline")
    page.wait_for_function("() => document.querySelector('[data-testid=timeline]')?.dataset.loaded === 'true'")
    assert timeline.get_attribute("data-critical") is None
    # Keyboard only: Tab to the toggle, Space presses it (and Space again releases it).
    toggle = page.get_by_test_id("critical-path-toggle")
    tab_to(page, toggle)
    page.keyboard.press(" ")
    page.wait_for_url(re.compile(r"[?&]cp=1"))
    page.wait_for_function("() => Number(document.querySelector('[data-testid=timeline]')?.dataset.critical) >= 4")
    note = page.get_by_test_id("critical-path-note")
    assert "Critical path: start → work → join → end" in note.inner_text()
    assert toggle.get_attribute("aria-pressed") == "true" and focused(toggle)
    assert_themed(note, theme)
    page.screenshot(path=str(where / "triage-critical-path.png"))
    page.keyboard.press(" ")
    note.wait_for(state="detached")
    assert toggle.get_attribute("aria-pressed") == "false" and "cp=1" not in page.url
    # From the triage tab, "Show on the timeline" is the same link (Tab, Enter).
    page.goto(f"/TriageFlow/{triage_runs['good']}?tab=triage")
    durations = page.get_by_test_id("durations")
    durations.wait_for()
    assert durations.locator("tr[data-step='work'] svg.hist").count() == 1
    assert_themed(durations.locator("tr[data-step='work'] td").first, theme)
    page.locator("section[aria-labelledby='t-time']").screenshot(path=str(where / "triage-time.png"))
    tab_to(page, page.get_by_test_id("show-critical-path"))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/TriageFlow/\d+\?cp=1$"))


@THEMES
def test_log_diff_with_the_last_good_run(page: Any, triage_runs: dict[str, str], shots: Path, tmp_path: Path,
                                         theme: str) -> None:
    page.emulate_media(color_scheme=theme)
    good, failed = triage_runs["good"], triage_runs["failed"]
    page.goto(f"/TriageFlow/{failed}?tab=triage")
    # Keyboard only: Tab to "Compare with the last successful run", Enter.
    tab_to(page, page.get_by_test_id("compare-last-good"))
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/-/compare\?a=TriageFlow%2F\d+&b=TriageFlow%2F\d+&logs=1$"))
    assert f"a=TriageFlow%2F{good}" in page.url
    diff = page.get_by_test_id("log-diff")
    diff.locator("tr[data-op='removed']").first.wait_for()
    assert "1 line differ" in page.get_by_test_id("log-diff-summary").inner_text()
    assert diff.locator("tr[data-op='removed']").first.inner_text().strip().endswith("done")
    equal = diff.locator("tr[data-op='equal']").first.inner_text()
    assert equal.count("processing item 5 at") == 2      # timestamps and run ids differ, still aligned
    removed = diff.locator("tr[data-op='removed'] td.txt-a").first
    assert_themed(removed, theme)
    page.screenshot(path=str(shots / "triage-log-diff.png" if theme == "light" else tmp_path / "triage-log-diff-dark.png"))
    # The stream toggle: Tab to stderr, Space.
    stderr = diff.get_by_role("button", name="stderr")
    tab_to(page, stderr)
    page.keyboard.press(" ")
    page.wait_for_url(re.compile(r"lstream=stderr"))
    diff.locator("button[aria-pressed='true']", has_text="stderr").wait_for()   # the URL first, then the render
    added = diff.locator("tr[data-op='added']")
    added.last.wait_for()
    assert any("ValueError: bad row 5007" in t for t in added.all_inner_texts())


@pytest.fixture()
def notifying_page(browser: Any, server: str) -> Iterator[Any]:
    """The checked page (no script error, no CSP violation) with notifications granted and recorded."""
    yield from checked_page(browser, server, permissions=["notifications"], init_scripts=(RECORD_NOTIFICATIONS,))


# How each watched run ends: the notification's text and the title's badge.
WATCHED = {"failed": ({}, "failed: step work failed", "✖"), "completed": ({"TRIAGE_OK": "1"}, "completed", "✔")}


# The theme only changes how Watch looks: "completed" runs in one theme (each case runs a flow).
@pytest.mark.parametrize(("outcome", "theme"), [("failed", "light"), ("failed", "dark"), ("completed", "light")])
def test_watched_run_notifies_and_badges_the_title(notifying_page: Any, flowscope_env: dict[str, str],
                                                   tmp_path: Path, server: str, theme: str, outcome: str) -> None:
    page = notifying_page
    page.emulate_media(color_scheme=theme)
    env, body, badge = WATCHED[outcome]
    id_file = tmp_path / "watch.id"
    # The run lasts ~6 s more than its other tasks (item 5 waits): time to open it and press Watch.
    proc = subprocess.Popen([sys.executable, str(FLOW), "run", "--run-id-file", str(id_file)],
                            env={**flowscope_env, "TRIAGE_FINAL_DELAY": "6", "TRIAGE_OK_DELAY": "6", **env},
                            cwd=str(FLOW.parent), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not (id_file.exists() and id_file.read_text().strip()) and time.monotonic() < deadline:
            time.sleep(0.2)
        run = id_file.read_text().strip()
        page.goto(f"/TriageFlow/{run}")
        watch = page.get_by_test_id("watch-run")
        watch.wait_for()
        # Nothing asks for the notification permission on load.
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__asks.length") == 0
        # Keyboard only: Tab to Watch, Enter; that press asks, once.
        tab_to(page, watch)
        assert_themed(watch, theme)
        page.keyboard.press("Enter")
        page.wait_for_function("() => document.querySelector('[data-testid=watch-run]').ariaPressed === 'true'")
        assert focused(watch)
        assert page.evaluate("window.__asks.length") == 1
        page.wait_for_function("() => window.__notes.length > 0", timeout=90_000)
        notes = page.evaluate("window.__notes")
        assert notes[0]["title"] == "Flowscope"
        assert notes[0]["body"].startswith(f"TriageFlow/{run} {body}"), notes
        page.wait_for_function(f"() => document.title.startsWith('{badge} TriageFlow/{run} {outcome}')")
        # The watch survives a reload (kept in the browser), and the reload asks nothing.
        page.reload()
        assert page.get_by_test_id("watch-run").get_attribute("aria-pressed") == "true"
        assert page.evaluate("window.__asks.length") == 0
    finally:
        proc.wait(timeout=120)


@THEMES
def test_saved_views_keep_filters_as_links(page: Any, triage_runs: dict[str, str], theme: str) -> None:
    page.emulate_media(color_scheme=theme)
    page.goto("/?status=failed&flow=TriageFlow")
    # Keyboard only: Tab to "Saved views", Enter opens the menu, Tab to its name box, type, Enter saves.
    menu_button = page.get_by_test_id("saved-views")
    tab_to(page, menu_button)
    page.keyboard.press("Enter")
    name = page.get_by_label("Name of this view")
    tab_to(page, name, limit=5)
    page.keyboard.type("failed triage runs")
    page.keyboard.press("Enter")
    saved = page.locator('[data-view="failed triage runs"] a')
    assert saved.get_attribute("href") == "/?status=failed&flow=TriageFlow"
    assert_themed(page.get_by_role("dialog", name="Saved views").locator(".saved-view .mono").first, theme)
    # Escape closes the menu and gives the focus back to its button.
    page.keyboard.press("Escape")
    page.get_by_role("dialog", name="Saved views").wait_for(state="detached")
    assert focused(menu_button)
    page.goto("/")
    tab_to(page, page.get_by_test_id("saved-views"))
    page.keyboard.press("Enter")
    link = page.locator('[data-view="failed triage runs"] a')
    tab_to(page, link, limit=10)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/\?status=failed&flow=TriageFlow$"))
    # The list of "/" may still be on screen for a moment: wait for the filtered one.
    page.wait_for_function("() => { const r = [...document.querySelectorAll('[data-pathspec]')];"
                           " return r.length > 0 && r.every(e => e.dataset.pathspec.startsWith('TriageFlow/')); }")
    rows = page.locator("[data-pathspec]")
    shown = [rows.nth(i).get_attribute("data-pathspec") for i in range(rows.count())]
    assert f"TriageFlow/{triage_runs['failed']}" in shown and f"TriageFlow/{triage_runs['good']}" not in shown
    assert all(p.startswith("TriageFlow/") for p in shown)
