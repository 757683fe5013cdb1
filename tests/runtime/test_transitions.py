"""Every transition type, run as users run flows (python flow.py run), checked in Postgres."""

from __future__ import annotations

import itertools
from typing import Any

from tests.runtime.conftest import FIXTURES, artifacts_of, load_value, run_row, task_rows


def _completed(db: Any, flow: str, result: Any) -> dict[str, Any]:
    assert result.returncode == 0, result.stderr
    run = run_row(db, flow, result.run_id)
    assert run["status"] == "completed", run["status_reason"]
    assert run["finished_at"] >= run["started_at"]
    return run


def test_linear_records_tasks_artifacts_and_parameters(flow_runner, db, settings):
    res = flow_runner(FIXTURES / "linear_flow.py", "run", "--alpha", "0.25", "--tag", "smoke")
    run = _completed(db, "LinearFlow", res)
    assert "Workflow starting (run-id" in res.stdout and "Done!" in res.stdout
    assert run["parameters"] == {"alpha": 0.25, "label": "demo"}
    assert "smoke" in run["tags"] and "runtime:flowscope" in run["system_tags"]
    assert run["dag"]["steps"]["start"]["next"] == ["middle"]
    tasks = task_rows(db, run["run_pk"])
    assert [t["step_name"] for t in tasks] == ["start", "middle", "end"]
    assert all(t["status"] == "completed" for t in tasks)
    assert tasks[1]["parent_task_ids"] == [f"start/{tasks[0]['task_id']}"]
    end = artifacts_of(db, tasks[2]["task_pk"])
    # inherited (x, scaled), set here (result) and parameters are all artifacts of the end task
    assert {"x", "scaled", "result", "alpha", "label"} <= set(end)
    assert load_value(settings, end["result"]["location"]) == "demo:2"
    assert load_value(settings, end["scaled"]["location"]) == 2.5
    assert end["alpha"]["preview"] == "0.25"
    # the inherited value is the same blob, not a copy
    middle = artifacts_of(db, tasks[1]["task_pk"])
    assert middle["x"]["sha"] == end["x"]["sha"]


def test_static_branch_and_join(flow_runner, db, settings):
    run = _completed(db, "BranchFlow", flow_runner(FIXTURES / "branch_flow.py", "run"))
    tasks = {t["step_name"]: t for t in task_rows(db, run["run_pk"])}
    assert set(tasks) == {"start", "a", "b", "join", "end"}
    assert sorted(tasks["join"]["parent_task_ids"]) == sorted(
        [f"a/{tasks['a']['task_id']}", f"b/{tasks['b']['task_id']}"])
    end = artifacts_of(db, tasks["end"]["task_pk"])
    assert load_value(settings, end["total"]["location"]) == 23
    assert "base" in end and "value" not in end      # merged, and excluded


def test_foreach_values_indexes_and_join(flow_runner, db, settings):
    run = _completed(db, "ForeachFlow", flow_runner(FIXTURES / "foreach_flow.py", "run"))
    squares = task_rows(db, run["run_pk"], "square")
    assert [t["foreach_index"] for t in squares] == [0, 1, 2, 3, 4]
    assert [t["foreach_value"] for t in squares] == ["1", "2", "3", "4", "5"]
    assert squares[2]["foreach_stack"] == [
        {"step": "start", "var": "items", "num_splits": 5, "index": 2, "value": "3"}]
    gather = task_rows(db, run["run_pk"], "gather")[0]
    assert gather["parent_task_ids"] == [f"square/{t['task_id']}" for t in squares]
    assert gather["foreach_stack"] in (None, [])
    arts = artifacts_of(db, gather["task_pk"])
    assert load_value(settings, arts["results"]["location"]) == [1, 4, 9, 16, 25]
    assert "items" in arts and "squared" not in arts


def test_nested_foreach(flow_runner, db, settings):
    run = _completed(db, "NestedForeachFlow", flow_runner(FIXTURES / "nested_foreach_flow.py", "run"))
    inner = task_rows(db, run["run_pk"], "inner")
    assert len(inner) == 6
    assert sorted((t["foreach_stack"][0]["index"], t["foreach_stack"][1]["index"]) for t in inner) == [
        (i, j) for i in range(2) for j in range(3)]
    joins = task_rows(db, run["run_pk"], "join_inner")
    assert len(joins) == 2 and all(len(t["parent_task_ids"]) == 3 for t in joins)
    end = task_rows(db, run["run_pk"], "end")[0]
    parent_outer = task_rows(db, run["run_pk"], "join_outer")[0]
    arts = artifacts_of(db, parent_outer["task_pk"])
    assert load_value(settings, arts["all_pairs"]["location"]) == ["p1", "p2", "p3", "q1", "q2", "q3"]
    assert end["status"] == "completed"


def test_foreach_then_branch_and_uneven_branch(flow_runner, db):
    _completed(db, "ForeachThenBranchFlow", flow_runner(FIXTURES / "foreach_then_branch_flow.py", "run"))
    _completed(db, "UnevenBranchFlow", flow_runner(FIXTURES / "uneven_branch_flow.py", "run"))


def test_foreach_body_sees_input_index_and_stack(flow_runner, db, settings):
    from tests.runtime.conftest import FLOWS

    res = flow_runner(FLOWS / "foreach_body_flow.py", "run")
    run = _completed(db, "ForeachBodyFlow", res)
    assert "counts {'eu': (3, 0), 'us': (5, 1)}" in res.stdout
    scores = task_rows(db, run["run_pk"], "score")
    assert len(scores) == 8
    seen = sorted(load_value(settings, artifacts_of(db, t["task_pk"])["seen"]["location"]) for t in scores)
    # foreach_stack() gives each level's element itself, as Metaflow does.
    assert seen[0] == ("eu", 0, 0, [(0, 2, "eu"), (0, 3, 0)])
    assert seen[-1] == ("us", 4, 4, [(1, 2, "us"), (4, 5, 4)])
    region = task_rows(db, run["run_pk"], "region")
    assert [t["foreach_value"] for t in region] == ["eu", "us"]


def test_max_workers_one_runs_tasks_one_at_a_time(flow_runner, db):
    res = flow_runner(FIXTURES / "foreach_flow.py", "run", "--max-workers", "1")
    run = _completed(db, "ForeachFlow", res)
    spans = sorted((t["started_at"], t["finished_at"]) for t in task_rows(db, run["run_pk"], "square"))
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))


def test_spin_start_step(flow_runner):
    base = flow_runner(FIXTURES / "linear_flow.py", "run", "--alpha", "0.75")
    assert base.returncode == 0
    res = flow_runner(FIXTURES / "linear_flow.py", "spin", "start", "--run-id", base.run_id)
    assert res.returncode == 0, res.stderr
    assert "starting with alpha 0.75" in res.stdout and "x = 1" in res.stdout
