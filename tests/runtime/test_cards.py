"""@card: the default artifacts card and cards built with current.card, stored per task."""

from __future__ import annotations

from tests.runtime.conftest import FLOWS, run_row, task_rows


def test_cards_are_rendered_and_recorded(flow_runner, db, settings):
    from contract.datastore import open_datastore

    res = flow_runner(FLOWS / "card_flow.py", "run")
    assert res.returncode == 0, res.stderr
    run = run_row(db, "CardFlow", res.run_id)
    ds = open_datastore(settings)
    with db.cursor() as cur:
        cur.execute("SELECT t.step_name, c.card_id, c.type, c.location, c.size FROM cards c "
                    "JOIN tasks t USING (task_pk) WHERE c.run_pk = %s ORDER BY 1, 2", (run["run_pk"],))
        rows = cur.fetchall()
    assert [(r[0], r[1]) for r in rows] == [("report", "default"), ("report", "report"), ("start", "default")]
    pages = {(r[0], r[1]): ds.get(r[3]).decode() for r in rows}
    assert all(len(ds.get(r[3])) == r[4] for r in rows)
    assert "accuracy" in pages[("start", "default")] and "0.93" in pages[("start", "default")]
    assert "Model report" in pages[("report", "report")] and "<table" in pages[("report", "report")]
    assert "default section" in pages[("report", "default")]
    assert len(task_rows(db, run["run_pk"])) == 3
