"""@retry, @catch, @timeout and @resources, and the failed-run reason."""

from __future__ import annotations

from tests.runtime.conftest import FIXTURES, FLOWS, artifacts_of, attempt_rows, load_value, run_row, task_rows


def test_retry_then_catch(flow_runner, db, settings):
    res = flow_runner(FIXTURES / "retry_catch_flow.py", "run")
    assert res.returncode == 0, res.stderr
    run = run_row(db, "RetryCatchFlow", res.run_id)
    assert run["status"] == "completed"
    flaky = task_rows(db, run["run_pk"], "flaky")[0]
    attempts = attempt_rows(db, flaky["task_pk"])
    assert [a["status"] for a in attempts] == ["failed", "completed"]
    assert attempts[0]["exception_type"] == "RuntimeError"
    assert "flaky failure on attempt 0" in attempts[0]["exception_message"]
    assert "retry_catch_flow.py" in attempts[0]["traceback"]
    assert flaky["attempt"] == 1 and flaky["status"] == "completed"
    risky = task_rows(db, run["run_pk"], "risky")[0]
    r_attempts = attempt_rows(db, risky["task_pk"])
    # As in Metaflow, @catch handles a Python exception inside the last attempt itself: the
    # attempt completes, keeping what the step set before raising.
    assert [a["status"] for a in r_attempts] == ["completed"]
    assert r_attempts[0]["status_reason"] == "exception caught by @catch"
    assert risky["status"] == "completed"
    arts = artifacts_of(db, risky["task_pk"])
    err = load_value(settings, arts["err"]["location"])
    assert err.type == "builtins.ValueError" and err.exception == "caught boom"
    assert load_value(settings, arts["before_raise"]["location"]) == "kept"
    assert "caught builtins.ValueError caught boom" in res.stdout


def test_timeout_kills_and_retries_then_fails_run(flow_runner, db):
    res = flow_runner(FLOWS / "timeout_flow.py", "run")
    assert res.returncode != 0
    run = run_row(db, "TimeoutFlow", res.run_id)
    assert run["status"] == "failed" and run["failed_step"] == "slow"
    assert "step slow failed: TimeoutException: timeout after 1 s" in run["status_reason"]
    slow = task_rows(db, run["run_pk"], "slow")[0]
    attempts = attempt_rows(db, slow["task_pk"])
    assert len(attempts) == 2
    for a in attempts:
        assert a["status"] == "failed" and a["status_reason"] == "TimeoutException: timeout after 1 s"
        assert a["duration_ms"] < 10_000          # killed, not slept for 30 s
    assert slow["status"] == "failed"
    with db.cursor() as cur:
        cur.execute("SELECT field_name, value FROM metadata WHERE task_pk = %s AND type = 'resources'",
                    (slow["task_pk"],))
        meta = dict(cur.fetchall())
    assert meta["cpu"] == "2.0" and meta["memory"] == "1024.0"


def test_failing_step_reason(flow_runner, db):
    res = flow_runner(FIXTURES / "failing_flow.py", "run")
    assert res.returncode == 1
    run = run_row(db, "FailingFlow", res.run_id)
    assert run["status"] == "failed" and run["failed_step"] == "explode"
    task = task_rows(db, run["run_pk"], "explode")[0]
    assert run["status_reason"] == (f"step explode failed: ValueError: boom "
                                    f"(task FailingFlow/{res.run_id}/explode/{task['task_id']}, attempt 0)")
    assert "Workflow failed" in res.stdout


def test_unpicklable_artifact_names_step_and_attribute(flow_runner, db):
    res = flow_runner(FLOWS / "unpicklable_flow.py", "run")
    assert res.returncode == 1
    run = run_row(db, "UnpicklableFlow", res.run_id)
    assert "step start: artifact self.conn cannot be saved" in run["status_reason"]
    assert "socket" in run["status_reason"]


def test_merge_conflict_is_reported(flow_runner, db):
    res = flow_runner(FLOWS / "merge_conflict_flow.py", "run")
    run = run_row(db, "MergeConflictFlow", res.run_id)
    assert run["status"] == "failed" and run["failed_step"] == "join"
    assert "MergeArtifactsError" in run["status_reason"] and "score" in run["status_reason"]


def test_retry_is_immediate_like_metaflow_local(flow_runner, db):
    res = flow_runner(FLOWS / "retry_delay_flow.py", "run")
    assert res.returncode == 0, res.stderr
    run = run_row(db, "RetryDelayFlow", res.run_id)
    flaky = task_rows(db, run["run_pk"], "flaky")[0]
    first, second = attempt_rows(db, flaky["task_pk"])
    assert second["started_at"] - first["finished_at"] < 1000
    assert "Retrying." in res.stdout


def test_retry_waits_between_attempts_when_asked(flow_runner, db):
    res = flow_runner(FLOWS / "retry_delay_flow.py", "run", extra_env={"FLOWSCOPE_RETRY_DELAYS": "true"})
    assert res.returncode == 0, res.stderr
    run = run_row(db, "RetryDelayFlow", res.run_id)
    flaky = task_rows(db, run["run_pk"], "flaky")[0]
    first, second = attempt_rows(db, flaky["task_pk"])
    assert second["started_at"] - first["finished_at"] >= 1000      # 0.02 min = 1.2 s
    assert "Retrying in 1.2 s." in res.stdout
