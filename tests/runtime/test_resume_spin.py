"""resume (clone what succeeded and re-run the rest, or re-run from a given step) and spin."""

from __future__ import annotations

from tests.runtime.conftest import FLOWS, artifacts_of, load_value, run_row, task_rows

FLOW = FLOWS / "resume_flow.py"


def test_resume_from_failed_step_then_from_given_step(flow_runner, db, settings):
    first = flow_runner(FLOW, "run", "--scale", "3")
    assert first.returncode == 1
    origin = run_row(db, "ResumeFlow", first.run_id)
    assert origin["failed_step"] == "train"

    ok = {"RESUME_FLOW_OK": "1"}
    res = flow_runner(FLOW, "resume", "--origin-run-id", first.run_id, extra_env=ok)
    assert res.returncode == 0, res.stdout + res.stderr
    run = run_row(db, "ResumeFlow", res.run_id)
    assert run["status"] == "completed" and run["origin_run_id"] == first.run_id
    assert run["parameters"]["scale"] == 3            # the origin's parameters are kept
    origin_tasks = {t["step_name"]: t for t in task_rows(db, origin["run_pk"])}
    tasks = task_rows(db, run["run_pk"])
    by_step = {t["step_name"]: t for t in tasks}
    for step in ("start", "prep"):
        assert by_step[step]["cloned_from"] == (
            f"ResumeFlow/{first.run_id}/{step}/{origin_tasks[step]['task_id']}")
    assert all(t["cloned_from"] is None for t in tasks if t["step_name"] in ("join", "end"))
    # As in Metaflow, the foreach splits the origin completed are cloned; the failed one re-runs.
    trains = [t for t in tasks if t["step_name"] == "train"]
    assert len(trains) == 3
    done_before = {t["foreach_index"] for t in task_rows(db, origin["run_pk"], "train")
                   if t["status"] == "completed"}
    assert 1 not in done_before
    assert {t["foreach_index"] for t in trains if t["cloned_from"]} == done_before
    end_arts = artifacts_of(db, by_step["end"]["task_pk"])
    assert load_value(settings, end_arts["total"]["location"]) == 9
    # prep was cloned, so its artifact still names the origin run
    assert load_value(settings, end_arts["prepared_by"]["location"]) == first.run_id
    assert f"origin {first.run_id}" in res.stdout

    # resume a completed run from a given step: the whole foreach is cloned
    again = flow_runner(FLOW, "resume", "join", "--origin-run-id", res.run_id, extra_env=ok)
    assert again.returncode == 0, again.stdout + again.stderr
    tasks2 = task_rows(db, run_row(db, "ResumeFlow", again.run_id)["run_pk"])
    cloned = sorted(t["step_name"] for t in tasks2 if t["cloned_from"])
    assert cloned == ["prep", "start", "train", "train", "train"]
    join = next(t for t in tasks2 if t["step_name"] == "join")
    assert len(join["parent_task_ids"]) == 3


def test_resume_errors_are_one_line(flow_runner):
    res = flow_runner(FLOW, "resume", "nosuchstep")
    assert res.returncode != 0 and "no step 'nosuchstep'" in res.stderr
    res = flow_runner(FLOW, "resume", "--origin-run-id", "999999")
    assert res.returncode != 0 and "no run ResumeFlow/999999" in res.stderr


def test_spin_runs_one_step_unrecorded(flow_runner, db):
    ok = {"RESUME_FLOW_OK": "1"}
    base = flow_runner(FLOW, "run", extra_env=ok)
    assert base.returncode == 0
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM tasks")
        before = cur.fetchone()[0]
    res = flow_runner(FLOW, "spin", "train", "--run-id", base.run_id, extra_env=ok)
    assert res.returncode == 0, res.stderr
    assert "trained a 10" in res.stdout
    assert "score = 10" in res.stdout
    res = flow_runner(FLOW, "spin", "join", "--run-id", base.run_id, extra_env=ok)
    assert res.returncode == 0, res.stderr
    assert "total = 30" in res.stdout
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM tasks")
        assert cur.fetchone()[0] == before
