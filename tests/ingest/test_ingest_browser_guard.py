"""The ingest service's browser guard (backend/ingest/app.py) lets the real metaflow client through:
its JSON posts and its bare heartbeats (no Content-Type), over the subprocess service."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mf_harness import Ingest, metaflow_env, run_flow

pytestmark = pytest.mark.compat


def test_a_real_run_records_with_its_heartbeats(ingest: Ingest, db: Any, tmp_path: Path) -> None:
    before = ingest.log.read_text()
    # start sleeps past the heartbeat interval (2 s here), so its sidecar beats while it runs.
    env = metaflow_env(ingest, tmp_path, {"UI_FLOW_START_SLEEP": "5"})
    run_flow("ui_flow.py", ["run", "--run-id-file", str(tmp_path / "id")], env, tmp_path)
    run_id = (tmp_path / "id").read_text().strip()
    with db.cursor() as cur:
        cur.execute("SELECT t.step_name, t.status, t.heartbeat_at, t.created_at FROM tasks t "
                    "JOIN runs r USING (run_pk) WHERE r.flow_id = 'UiFlow' AND r.run_id = %s "
                    "AND t.step_name = 'start'", (run_id,))
        (step, status, beat, created), = cur.fetchall()
        cur.execute("SELECT status FROM runs WHERE flow_id = 'UiFlow' AND run_id = %s", (run_id,))
        assert cur.fetchone()[0] == "completed"
    # tasks.heartbeat_at is written only by a task heartbeat (a bare POST without Content-Type).
    assert status == "completed" and beat is not None and beat >= created, (step, beat, created)
    # ... and the guard refused none of the client's requests (it logs every refusal).
    assert "refused" not in ingest.log.read_text()[len(before):]


def test_a_form_post_from_a_web_page_is_refused(ingest: Ingest) -> None:
    status, body, _ = ingest.request("POST", "/flows/FormFlow", b"flow_id=FormFlow", {
        "Content-Type": "application/x-www-form-urlencoded", "Origin": "https://evil.example"})
    assert status == 403 and "web pages" in body["message"]
    assert ingest.get("/flows/FormFlow")[0] == 404
