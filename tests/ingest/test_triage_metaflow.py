"""Triage on runs the real pip metaflow wrote (through the ingest service): the failure digest
finds the error line in Metaflow's own log files, the status explanations cite Metaflow's
``attempt_ok`` rows, the log diff reads both runs' MFLOG files, the critical path follows the
parents the ingest recorded.

The flow is tests/fixtures/flows/triage_flow.py with ``from core_runtime`` swapped for
``from metaflow`` (the same file the native triage tests run).
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from mf_harness import PY, Ingest, get_json, metaflow_env

pytestmark = pytest.mark.compat

REPO = Path(__file__).resolve().parents[2]


def _run(ingest: Ingest, tmp: Path, name: str, extra: dict[str, str]) -> str:
    flow = tmp / "triage_flow.py"
    if not flow.exists():
        text = (REPO / "tests" / "fixtures" / "flows" / "triage_flow.py").read_text()
        flow.write_text(text.replace("from core_runtime import", "from metaflow import"))
    id_file = tmp / f"{name}.id"
    env = metaflow_env(ingest, tmp, {"TRIAGE_FINAL_DELAY": "8", **extra})
    proc = subprocess.run([PY, str(flow), "--no-pylint", "run", "--run-id-file", str(id_file)], cwd=tmp,
                          env=env, capture_output=True, text=True, check=False, timeout=600)
    assert id_file.exists(), proc.stdout + proc.stderr
    assert (proc.returncode == 0) == (extra.get("TRIAGE_OK") == "1"), proc.stdout + proc.stderr
    return id_file.read_text().strip()


@pytest.fixture(scope="module")
def mf_runs(ingest: Ingest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("mf-triage")
    return {"good": _run(ingest, tmp, "good", {"TRIAGE_OK": "1"}), "failed": _run(ingest, tmp, "failed", {})}


def _group(digest: dict[str, Any], etype: str, function: str) -> dict[str, Any]:
    found = [g for g in digest["groups"] if g["exception_type"] == etype and g["frame"]
             and g["frame"]["function"] == function]
    assert len(found) == 1, [(g["exception_type"], g["frame"], g["message"]) for g in digest["groups"]]
    return found[0]


async def test_digest_of_a_metaflow_run(api: TestClient[Any, Any], mf_runs: dict[str, str]) -> None:
    run = mf_runs["failed"]
    digest = (await get_json(api, f"/api/flows/TriageFlow/runs/{run}/failures"))["data"]
    parse = _group(digest, "ValueError", "parse_row")
    assert parse["count"] == 1 and parse["retried"] == 3 and parse["message"] == "bad row <n> in <path>"
    inline = _group(digest, "ValueError", "work")
    assert inline["retried"] == 2 and inline["signature"] != parse["signature"]
    assert _group(digest, "KeyError", "load_shard")["retried"] == 1
    log = parse["example"]["log"]
    assert log is not None and log["text"].startswith("ValueError: bad row 5007 in /data/part-0005.csv")
    task = parse["example"]["task_id"]
    page = (await get_json(api, f"/api/flows/TriageFlow/runs/{run}/steps/work/tasks/{task}/logs/stderr",
                           attempt=1, limit=5000))["data"]
    texts = {ln["line"]: ln["text"] for ln in page}
    assert texts[log["line"]].startswith("Traceback (most recent call last)") and texts[log["last_line"]] == log["text"]


async def test_explanations_cite_attempt_ok(api: TestClient[Any, Any], mf_runs: dict[str, str]) -> None:
    good = (await get_json(api, f"/api/flows/TriageFlow/runs/{mf_runs['good']}/status"))["data"]
    assert good["rule"] == "end_step_ok" and good["source"] == "metaflow"
    assert "the newest attempt_ok of the end step (end) is True" in good["summary"]
    assert any(e["label"] == "attempt_ok (attempt 0)" and e["value"] == "True" for e in good["evidence"])
    failed = (await get_json(api, f"/api/flows/TriageFlow/runs/{mf_runs['failed']}/status"))["data"]
    assert failed["rule"] == "task_failed" and "step work failed for good" in failed["summary"]
    assert any(e["label"] == "attempt_ok (attempt 1)" and e["value"] == "False" for e in failed["evidence"])
    assert "@retry allowed 1 retry" in failed["summary"]
    summary = (await get_json(api, f"/api/flows/TriageFlow/runs/{mf_runs['failed']}/summary"))["data"]
    assert summary["last_good_run"] == mf_runs["good"] and summary["status"]["rule"] == "task_failed"
    resp = await api.get(f"/api/flows/TriageFlow/runs/{mf_runs['failed']}/summary", params={"format": "md"})
    md = await resp.text()
    assert md.startswith(f"# TriageFlow/{mf_runs['failed']}: failed") and "ValueError: bad row 5007" in md


async def test_log_diff_and_critical_path(api: TestClient[Any, Any], mf_runs: dict[str, str]) -> None:
    a, b = f"TriageFlow/{mf_runs['good']}", f"TriageFlow/{mf_runs['failed']}"
    diff = (await get_json(api, "/api/compare/logs", a=a, b=b))["data"]
    assert diff["b"]["status"] == "failed" and diff["a"]["status"] == "completed"
    rows = [(r["op"], (r["a"] or r["b"])["text"]) for r in diff["rows"]]
    assert ("equal", "loss=0.50") in rows and ("removed", "done") in rows
    assert any(op == "equal" and text.startswith("processing item 5 at ") for op, text in rows)
    cp = (await get_json(api, f"/api/flows/TriageFlow/runs/{mf_runs['good']}/critical-path"))["data"]
    assert [t["step_name"] for t in cp["tasks"]] == ["start", "work", "join", "end"]
    tasks = (await get_json(api, f"/api/flows/TriageFlow/runs/{mf_runs['good']}/tasks"))["data"]
    longest_work = max(t["finished_at"] - t["started_at"] for t in tasks if t["step_name"] == "work")
    assert cp["tasks"][1]["duration_ms"] == longest_work
