"""@card on core_runtime: Metaflow's card API and components, card pages, live versions."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

from tests.cards.pages import assert_strict_page, of_type, page_state
from tests.runtime.conftest import FLOWS, REPO, run_row, task_rows

LIVE_FLOW = REPO / "tests" / "fixtures" / "cards" / "live_card_flow.py"


def card_rows(db: Any, run_pk: int) -> list[dict[str, Any]]:
    with db.cursor() as cur:
        cur.execute("SELECT t.step_name, c.* FROM cards c JOIN tasks t USING (task_pk) WHERE c.run_pk = %s "
                    "ORDER BY 1, c.card_id", (run_pk,))
        cols = [c.name for c in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]


def test_cards_are_rendered_and_recorded(flow_runner, db, settings):
    from contract.datastore import open_datastore

    res = flow_runner(FLOWS / "card_flow.py", "run")
    assert res.returncode == 0, res.stderr
    run = run_row(db, "CardFlow", res.run_id)
    ds = open_datastore(settings)
    rows = card_rows(db, run["run_pk"])
    assert [(r["step_name"], r["card_id"], r["type"]) for r in rows] == [
        ("report", "default", "default"), ("report", "report", "blank"), ("start", "default", "default")]
    # Metaflow's card id: the id given to @card, none for a card without one.
    assert [r["decorator_id"] for r in rows] == [None, "report", None]
    assert all(r["final"] and r["data_location"] for r in rows)
    pages = {(r["step_name"], r["card_id"]): ds.get(r["location"]).decode() for r in rows}
    assert all(len(ds.get(r["location"])) == r["size"] for r in rows)
    for page in pages.values():
        assert_strict_page(page)
    start = page_state(pages[("start", "default")])["doc"]
    (arts,) = of_type(start, "artifacts")
    assert [(a["name"], a["data"]) for a in arts["data"]] == [("accuracy", "0.93")]
    report = page_state(pages[("report", "report")])
    assert report["final"] is True
    assert [c["source"] for c in of_type(report["doc"], "markdown")] == ["# Model report\nAccuracy is **good**."]
    (table,) = of_type(report["doc"], "table")
    assert table["columns"] == ["metric", "value"] and table["data"] == [["accuracy", 0.93]]
    default = page_state(pages[("report", "default")])["doc"]
    assert [c["source"] for c in of_type(default, "markdown")] == ["default section"]
    assert len(task_rows(db, run["run_pk"])) == 3


def watch_card_rows(db_dsn: str, run_flow: Any) -> tuple[Any, list[tuple[bool, str | None]]]:
    """Runs the flow while a thread records every distinct (final, data_location) of its cards."""
    import psycopg2

    seen: list[tuple[bool, str | None]] = []
    done = threading.Event()

    def watch() -> None:
        conn = psycopg2.connect(db_dsn)
        conn.autocommit = True
        try:
            while True:
                last = done.is_set()   # one more read after the flow ended: its final version
                with conn.cursor() as cur:
                    cur.execute("SELECT final, data_location FROM cards c JOIN runs r USING (run_pk) "
                                "WHERE r.flow_id = 'LiveCardFlow' AND c.card_id = 'live' "
                                "ORDER BY c.created_at DESC LIMIT 1")
                    row = cur.fetchone()
                if row and (not seen or seen[-1] != row):
                    seen.append(row)
                if last:
                    break
                time.sleep(0.1)
        finally:
            conn.close()

    t = threading.Thread(target=watch)
    t.start()
    try:
        res = run_flow()
    finally:
        done.set()
        t.join()
    return res, seen


def test_live_card_versions(flow_runner, db, settings, flowscope_env):
    """ProgressBar + VegaChart refreshed every second: each accepted refresh is a new card version,
    recorded (final=False) while the task runs; the last one is final with the bar at 100 %."""
    from contract.datastore import open_datastore

    env = {"LIVE_CARD_STEPS": "5", "LIVE_CARD_SLEEP": "1.0"}
    res, seen = watch_card_rows(flowscope_env["FLOWSCOPE_DSN"],
                                lambda: flow_runner(LIVE_FLOW, "run", extra_env=env, timeout=180))
    assert res.returncode == 0, res.stderr
    live = [loc for final, loc in seen if not final]
    assert len(set(live)) >= 3, seen          # at least three versions seen while the task ran
    assert seen[-1][0] is True                # then the final one
    ds = open_datastore(settings)
    run = run_row(db, "LiveCardFlow", res.run_id)
    (row,) = card_rows(db, run["run_pk"])
    assert row["final"] and row["type"] == "blank"
    values = []
    for loc in live:
        state = json.loads(ds.get(loc))
        assert state["final"] is False
        (bar,) = of_type(state["doc"], "progressBar")
        values.append(bar["value"])
    assert values == sorted(values) and len(set(values)) >= 3, values
    final_page = ds.get(row["location"]).decode()
    assert_strict_page(final_page)
    state = page_state(final_page)
    (bar,) = of_type(state["doc"], "progressBar")
    assert state["final"] is True and bar["value"] == bar["max"] == 5
    (chart,) = of_type(state["doc"], "vegaChart")
    assert [p["epoch"] for p in chart["spec"]["data"]["values"]] == [1, 2, 3, 4, 5]
    (image,) = of_type(state["doc"], "image")
    assert image["src"].startswith("data:image/png;base64,") and image["label"] == "per-class accuracy"
    (table,) = of_type(state["doc"], "table")
    assert [c["type"] for c in table["data"][0]] == ["markdown", "artifacts"]
    assert "FlowscopeCharts" in final_page     # the page carries the chart bundle


def test_refresh_is_throttled_like_metaflow(tmp_path: Path) -> None:
    """Calls within refresh_interval of the last accepted refresh are ignored; force=True does not
    bypass the interval (as in Metaflow), it only forces a new page."""
    from contract.datastore import LocalDatastore
    from core_runtime.cards import Markdown, ProgressBar
    from core_runtime.cards.collector import CardComponentCollector, CardComponentManager
    from core_runtime.cards.publish import CardPublisher, CardTarget

    ds = LocalDatastore(str(tmp_path))
    r, w = __import__("os").pipe()
    pub = CardPublisher(ds, w)
    card = CardComponentManager({"type": "blank", "id": "t", "refresh_interval": 0.5},
                                CardTarget("F", "1", "s", "2", 0, "t", "blank"), pub, 0)
    cc = CardComponentCollector([card])
    bar = ProgressBar(max=10)
    cc.append(Markdown("# hi"))
    cc.append(bar, id="bar")
    for i in range(5):       # five calls at once: one accepted
        bar.update(i)
        cc.refresh()
    time.sleep(0.6)
    cc.components["bar"].update(7)
    cc.refresh()             # a second one after the interval
    lines = __import__("os").read(r, 65536).decode().splitlines()
    events = [json.loads(x) for x in lines]
    assert [e["final"] for e in events] == [False, False]
    states = [json.loads(ds.get(e["data_location"])) for e in events]
    assert [of_type(s["doc"], "progressBar")[0]["value"] for s in states] == [0, 7]
    # The page is written on the first refresh only (the layout did not change after it).
    assert events[0]["size"] and events[1]["size"] is None and events[1]["location"] == events[0]["location"]
