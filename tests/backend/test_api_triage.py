"""Triage on real native runs: the failure digest, status explanations, log diff and summary.

TriageFlow (tests/fixtures/flows/triage_flow.py) fails in three ways on attempt 0 and once for
good; the same flow with TRIAGE_OK=1 is the last good run before it.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from typing import Any

import pytest
from api_helpers import get_json
from flow_runs import run_flow

from backend.resources.digest import normalize, signature_of, user_frame
from backend.resources.log_diff import align, comparable
from tests.backend.conftest import FIXTURE_FLOWS
from tests.backend.live_helpers import new_store, running_task

FLOW = FIXTURE_FLOWS / "triage_flow.py"


@pytest.fixture(scope="module")
def triage_runs(flowscope_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """good (TRIAGE_OK=1), then two failing runs of TriageFlow."""
    tmp = tmp_path_factory.mktemp("triage")
    good = run_flow({**flowscope_env, "TRIAGE_OK": "1"}, FLOW, tmp)
    first = run_flow(flowscope_env, FLOW, tmp, check=False)
    second = run_flow(flowscope_env, FLOW, tmp, check=False)
    return {"good": good, "first": first, "second": second}


def _group(digest: dict[str, Any], etype: str, function: str) -> dict[str, Any]:
    found = [g for g in digest["groups"] if g["exception_type"] == etype and g["frame"]
             and g["frame"]["function"] == function]
    assert len(found) == 1, [(g["exception_type"], g["frame"]) for g in digest["groups"]]
    return found[0]


async def test_digest_groups_by_signature(api: Any, triage_runs: dict[str, str]) -> None:
    run = triage_runs["second"]
    digest = (await get_json(api, f"/api/flows/TriageFlow/runs/{run}/failures"))["data"]
    assert digest["run"] == f"TriageFlow/{run}" and digest["status"] == "failed"
    assert digest["failed_tasks"] == 1 and digest["retried_attempts"] == 6
    # The same ValueError with different numbers and paths is one group per frame ...
    parse = _group(digest, "ValueError", "parse_row")
    assert parse["count"] == 1 and parse["retried"] == 3
    assert parse["message"] == "bad row <n> in <path>"
    assert sorted(v["value"] for v in parse["foreach_values"]) == ["0", "2", "4", "5"]
    assert parse["steps"] == [{"step_name": "work", "count": 4}]
    assert parse["frame"]["file"].endswith("triage_flow.py") and parse["frame"]["code"].startswith("raise ValueError")
    # ... and the same message raised from another frame is another group.
    inline = _group(digest, "ValueError", "work")
    assert inline["count"] == 0 and inline["retried"] == 2 and inline["signature"] != parse["signature"]
    shard = _group(digest, "KeyError", "load_shard")
    assert shard["retried"] == 1 and shard["message"] == "'shard-<id>'"
    assert digest["groups"][0] is not None and digest["groups"][0]["signature"] == parse["signature"]
    # The example is the failed task, and its error is located in its stderr log.
    ex = parse["example"]
    assert ex["foreach_value"] == "5" and ex["attempt"] == 1
    log = ex["log"]
    assert log is not None and log["stream"] == "stderr"
    assert log["text"].startswith("ValueError: bad row 5007 in /data/part-0005.csv")
    page = (await get_json(api, f"/api/flows/TriageFlow/runs/{run}/steps/work/tasks/{ex['task_id']}/logs/stderr",
                           attempt=1))["data"]
    texts = {ln["line"]: ln["text"] for ln in page}
    assert texts[log["line"]].startswith("Traceback (most recent call last)")
    assert texts[log["last_line"]] == log["text"]
    assert ex["url"] == (f"/TriageFlow/{run}/work/{ex['task_id']}?attempt=1&stream=stderr"
                         f"#L{log['line']}-{log['last_line']}")
    # Across runs: the earlier failing run had the same signatures (the good one had none).
    assert parse["first_seen_run"] == triage_runs["first"]
    assert parse["other_runs"] == [triage_runs["first"]]
    assert triage_runs["good"] not in digest["runs_compared"]


async def test_digest_of_first_run_and_of_a_good_run(api: Any, triage_runs: dict[str, str]) -> None:
    def looked_up(status: dict[str, Any]) -> int:
        memo = status["caches"]["failure_signatures"]
        assert memo["bytes"] <= memo["max_bytes"]
        return int(memo["hits"] + memo["misses"])

    before = looked_up((await get_json(api, "/api/-/status"))["data"])
    first = (await get_json(api, f"/api/flows/TriageFlow/runs/{triage_runs['first']}/failures"))["data"]
    # The signatures went through the app's memo (under the cache budget, shown at /api/-/status).
    status = (await get_json(api, "/api/-/status"))["data"]
    assert looked_up(status) > before and status["caches"]["failure_signatures"]["entries"] > 0
    parse = _group(first, "ValueError", "parse_row")
    assert parse["first_seen_run"] == triage_runs["first"]          # first seen in this run
    assert parse["other_runs"] == [triage_runs["second"]]           # ... and also in a later one
    good = (await get_json(api, f"/api/flows/TriageFlow/runs/{triage_runs['good']}/failures"))["data"]
    assert good["failed_tasks"] == 0 and good["retried_attempts"] == 0 and good["groups"] == []


def test_signatures_normalise_ids_but_keep_frames() -> None:
    tb = ('Traceback (most recent call last):\n  File "/usr/lib/python3.11/runpy.py", line 3, in run\n    x()\n'
          '  File "/home/me/flow.py", line {n}, in train\n    fit(rows)\n'
          '  File "/venv/lib/python3.11/site-packages/sk/fit.py", line 9, in fit\n    raise E\nValueError: x')
    a = {"exception_type": "ValueError", "exception_message": "row 17 of s3://b/k/part-1.csv (id 9f3a2b1c7d)",
         "traceback": tb.format(n=10)}
    b = {"exception_type": "ValueError", "exception_message": "row 99 of s3://b/k/part-2.csv (id 0b7e6e5f4a)",
         "traceback": tb.format(n=12)}   # the frame moved two lines down: same code, same group
    assert signature_of(a)[0] == signature_of(b)[0]
    frame = user_frame(a["traceback"])
    assert frame is not None and (frame.file, frame.function, frame.code, frame.line) == \
        ("/home/me/flow.py", "train", "fit(rows)", 10)
    c = {**a, "traceback": a["traceback"].replace("fit(rows)", "fit(rows, strict=True)")}
    assert signature_of(a)[0] != signature_of(c)[0]
    d = {**a, "exception_type": "KeyError"}
    assert signature_of(a)[0] != signature_of(d)[0]
    assert normalize("timeout after 30 s at 0x7f3a9c (uuid 123e4567-e89b-12d3-a456-426614174000)") == \
        "timeout after <n> s at <id> (uuid <uuid>)"


async def test_status_explanations_of_runs(api: Any, recorded: dict[str, str], triage_runs: dict[str, str]) -> None:
    ok = (await get_json(api, f"/api/flows/LinearFlow/runs/{recorded['LinearFlow']}/status"))["data"]
    assert ok["rule"] == "end_step_ok" and ok["status"] == "completed" and ok["kind"] == "run"
    assert "end step (end) finished successfully" in ok["summary"]
    assert any(e["label"] == "end task" and e["link"] for e in ok["evidence"])
    failed = (await get_json(api, f"/api/flows/FailingFlow/runs/{recorded['FailingFlow']}/status"))["data"]
    assert failed["rule"] == "task_failed" and failed["status"] == "failed"
    assert "step explode failed for good" in failed["summary"] and "ValueError: boom" in failed["summary"]
    assert "the step has no @retry" in failed["summary"]
    assert {"label": "exception", "value": "ValueError: boom", "at": None, "link": None} in failed["evidence"]
    retried = (await get_json(api, f"/api/flows/TriageFlow/runs/{triage_runs['second']}/status"))["data"]
    assert retried["rule"] == "task_failed"
    assert "(attempt 2 of 2); @retry allowed 1 retry, so no attempt was left" in retried["summary"]


async def test_status_explanations_of_tasks(api: Any, recorded: dict[str, str]) -> None:
    run = recorded["RetryCatchFlow"]
    tasks = (await get_json(api, f"/api/flows/RetryCatchFlow/runs/{run}/tasks"))["data"]
    by_step = {t["step_name"]: t for t in tasks}
    base = f"/api/flows/RetryCatchFlow/runs/{run}/steps"
    flaky = (await get_json(api, f"{base}/flaky/tasks/{by_step['flaky']['task_id']}/status"))["data"]
    assert flaky["rule"] == "attempt_ok" and flaky["summary"].startswith("Completed: attempt 1 completed")
    assert "after 1 failed attempt" in flaky["summary"]
    assert [a["rule"] for a in flaky["attempts"]] == ["exception", "attempt_ok"]
    risky = (await get_json(api, f"{base}/risky/tasks/{by_step['risky']['task_id']}/status"))["data"]
    assert risky["rule"] == "caught" and "@catch" in risky["summary"]
    failing = recorded["FailingFlow"]
    task = (await get_json(api, f"/api/flows/FailingFlow/runs/{failing}/tasks", step="explode"))["data"][0]
    boom = (await get_json(api, f"/api/flows/FailingFlow/runs/{failing}/steps/explode/tasks/{task['task_id']}/status"))
    assert boom["data"]["rule"] == "exception" and boom["data"]["status"] == "failed"
    assert any(e["label"] == "exit code" for e in boom["data"]["evidence"])
    await get_json(api, f"/api/flows/FailingFlow/runs/{failing}/steps/explode/tasks/999999/status", 404)


async def test_heartbeat_rules(aiohttp_client: Any, make_app: Any, pg_dsn: str) -> None:
    store = new_store(pg_dsn)
    run, task = running_task(store, "ExplainStaleFlow")
    client = await aiohttp_client(make_app(heartbeat_timeout=1.0))
    path = f"/api/flows/ExplainStaleFlow/runs/{run.run_id}"
    fresh = (await get_json(client, f"{path}/status"))["data"]
    assert fresh["rule"] == "heartbeat_fresh" and fresh["status"] == "running"
    assert "within the 1 s threshold" in fresh["summary"]
    fresh_tasks = next(e["value"] for e in fresh["evidence"] if e["label"] == "tasks")
    await asyncio.sleep(1.6)
    lost = (await get_json(client, f"{path}/status"))["data"]
    assert lost["rule"] == "heartbeat_lost" and lost["status"] == "failed" and lost["stored_status"] == "running"
    assert "past the 1 s threshold" in lost["summary"]
    assert {e["label"] for e in lost["evidence"]} >= {"last heartbeat", "silence", "threshold"}
    # the tasks are counted as the run's own answer counts them: the running one is failed
    counts = (await get_json(client, path))["data"]["task_counts"]
    tasks = next(e["value"] for e in lost["evidence"] if e["label"] == "tasks")
    assert counts["running"] == 0 and counts["failed"] == 1, counts
    assert tasks == "1 (0 completed, 1 failed; 1 of them running when the heartbeat stopped)", tasks
    assert fresh_tasks == "1 (1 running, 0 completed, 0 failed)", fresh_tasks
    t = (await get_json(client, f"{path}/steps/start/tasks/{task.task_id}/status"))["data"]
    assert t["rule"] == "heartbeat_lost" and t["kind"] == "task"
    pending = store.create_task(run, "end")
    p = (await get_json(client, f"{path}/steps/end/tasks/{pending.task_id}/status"))["data"]
    assert p["rule"] == "pending" and p["status"] == "pending"


async def test_log_diff_against_the_last_good_run(api: Any, triage_runs: dict[str, str]) -> None:
    a, b = f"TriageFlow/{triage_runs['good']}", f"TriageFlow/{triage_runs['second']}"
    diff = (await get_json(api, "/api/compare/logs", a=a, b=b))["data"]
    assert diff["b"]["step_name"] == "work" and diff["b"]["status"] == "failed" and diff["b"]["attempt"] == 1
    assert diff["a"]["step_name"] == "work" and diff["a"]["status"] == "completed"
    ops = [(r["op"], (r["a"] or r["b"])["text"]) for r in diff["rows"]]
    # The timestamps and run ids differ, the lines still align; the failed run never printed "done".
    assert ops[0][0] == "equal" and ops[0][1].startswith("processing item 5 at ")
    assert ops[1] == ("equal", "loss=0.50")
    assert ops[2] == ("removed", "done") and diff["changed"] == 1
    err = (await get_json(api, "/api/compare/logs", a=a, b=b, stream="stderr"))["data"]
    assert any(r["op"] == "added" and r["b"]["text"].startswith("ValueError: bad row 5007") for r in err["rows"])
    await get_json(api, "/api/compare/logs", 400, a=a, b=a)
    await get_json(api, "/api/compare/logs", 400, a=a, b=b, stream="both")
    await get_json(api, "/api/compare/logs", 404, a=a, b="TriageFlow/999999")
    none = (await get_json(api, "/api/compare/logs", a=b, b=a))["data"]
    assert none["b"] is None and "no failed task" in none["note"]


def test_comparable_lines_ignore_times_and_ids() -> None:
    assert comparable("2026-11-23 15:04:05.201 [12/train/345 (pid 1234)] epoch 3 loss=0.21") == \
        comparable("2026-12-01 09:00:00.000 [15/train/902 (pid 77)] epoch 3 loss=0.21")
    assert comparable("loss=0.21") != comparable("loss=0.52")
    rows, changed = align([{"line": 1, "text": "a"}, {"line": 2, "text": "x"}],
                          [{"line": 1, "text": "a"}, {"line": 2, "text": "y"}, {"line": 3, "text": "z"}])
    assert [r["op"] for r in rows] == ["equal", "changed", "added"] and changed == 2


async def test_summary_json_and_markdown(api: Any, triage_runs: dict[str, str]) -> None:
    run = triage_runs["second"]
    path = f"/api/flows/TriageFlow/runs/{run}/summary"
    data = (await get_json(api, path))["data"]
    assert data["run"]["pathspec"] == f"TriageFlow/{run}" and data["status"]["rule"] == "task_failed"
    assert data["last_good_run"] == triage_runs["good"]
    assert data["failures"]["failed_tasks"] == 1 and data["critical_path"]["tasks"]
    assert next(s["step_name"] for s in data["slowest_steps"]) == "work"
    assert data["links"]["compare_last_good"].endswith(
        f"/-/compare?a=TriageFlow/{triage_runs['good']}&b=TriageFlow/{run}&logs=1")
    resp = await api.get(path, params={"format": "md"})
    assert resp.status == 200 and resp.content_type == "text/markdown"
    md = await resp.text()
    assert md.startswith(f"# TriageFlow/{run}: failed\n")
    assert "**Why:** Failed: step work failed for good" in md
    assert "| 1 | 1 | 3 | ValueError: bad row 5007 in /data/part-0005.csv |" in md
    assert "## Critical path" in md and "compare_last_good: http://" in md
    await get_json(api, path, 400, format="pdf")
    await get_json(api, "/api/flows/TriageFlow/runs/999999/summary", 404)



async def test_cli_summary_prints_markdown(api: Any, triage_runs: dict[str, str], flowscope_env: dict[str, str]) -> None:
    base = str(api.make_url("")).rstrip("/")
    run = triage_runs["second"]

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "backend.cli", "summary", *args], env=flowscope_env,
                              capture_output=True, text=True, timeout=120, check=False)

    ok = await asyncio.to_thread(cli, f"TriageFlow/{run}", "--url", base)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith(f"# TriageFlow/{run}: failed\n") and "## Failures" in ok.stdout
    as_json = await asyncio.to_thread(cli, f"TriageFlow/{run}", "--url", base, "--json")
    assert json.loads(as_json.stdout)["last_good_run"] == triage_runs["good"]
    missing = await asyncio.to_thread(cli, "TriageFlow/999999", "--url", base)
    assert missing.returncode == 1 and missing.stderr == (
        f"error: 404 from {base}/api/flows/TriageFlow/runs/999999/summary?format=md: "
        "run TriageFlow/999999 not found\n")
    bad = await asyncio.to_thread(cli, "TriageFlow", "--url", base)
    assert bad.returncode == 2 and "is not a run" in bad.stderr
