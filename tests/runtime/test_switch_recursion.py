"""Switch (conditional) and recursive steps, run as users run flows, checked in Postgres and through
the client API. The same flows run under pip metaflow in test_switch_vs_metaflow.py."""

from __future__ import annotations

from typing import Any

from tests.runtime.conftest import FLOWS, artifacts_of, load_value, run_row, task_rows


def _completed(db: Any, flow: str, result: Any) -> dict[str, Any]:
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    run = run_row(db, flow, result.run_id)
    assert run["status"] == "completed", run["status_reason"]
    return run


def _value(db: Any, settings: Any, task: dict[str, Any], name: str) -> Any:
    return load_value(settings, artifacts_of(db, task["task_pk"])[name]["location"])


def test_switch_runs_only_the_chosen_case_then_loops(flow_runner, db, settings):
    res = flow_runner(FLOWS / "mf_switch_loop.py", "run", "--mode", "thorough")
    run = _completed(db, "TrainUntilGoodFlow", res)
    assert "trained 3 rounds on 100 rows, loss 0.3333" in res.stdout
    tasks = task_rows(db, run["run_pk"])
    assert [t["step_name"] for t in tasks] == ["start", "full_prep", "train", "train", "train", "end"]
    trains = [t for t in tasks if t["step_name"] == "train"]
    # one task per iteration, each the child of the one before
    assert [t["iteration_stack"] for t in trains] == [[0], [1], [2]]
    assert trains[0]["parent_task_ids"] == [f"full_prep/{tasks[1]['task_id']}"]
    assert trains[1]["parent_task_ids"] == [f"train/{trains[0]['task_id']}"]
    assert tasks[-1]["parent_task_ids"] == [f"train/{trains[2]['task_id']}"]
    assert tasks[-1]["iteration_stack"] == [] and tasks[0]["iteration_stack"] == []
    assert [_value(db, settings, t, "loss") for t in trains] == [1.0, 0.5, 0.3333]
    dag = run["dag"]["steps"]
    assert dag["start"]["type"] == "split-switch"
    assert dag["start"]["switch_cases"] == {"fast": "quick_prep", "thorough": "full_prep"}
    assert dag["train"]["condition"] == "status" and dag["train"]["next"] == ["train", "end"]


def test_switch_takes_the_other_case_with_another_parameter(flow_runner, db):
    res = flow_runner(FLOWS / "mf_switch_loop.py", "run", "--rounds", "1")
    run = _completed(db, "TrainUntilGoodFlow", res)
    steps = [t["step_name"] for t in task_rows(db, run["run_pk"])]
    assert steps == ["start", "quick_prep", "train", "end"]


def test_unknown_case_value_fails_the_task_naming_value_and_cases(flow_runner, db):
    res = flow_runner(FLOWS / "mf_switch_loop.py", "run", "--mode", "medium")
    assert res.returncode == 1
    run = run_row(db, "TrainUntilGoodFlow", res.run_id)
    assert run["status"] == "failed" and run["failed_step"] == "start"
    message = ("Switch condition variable 'route' has value 'medium' which is not in the available "
               "cases: ['fast', 'thorough']")
    assert message in run["status_reason"]
    start = task_rows(db, run["run_pk"], "start")[0]
    assert start["status"] == "failed" and message in start["status_reason"]
    assert [t["step_name"] for t in task_rows(db, run["run_pk"])] == ["start"]


def test_switch_inside_foreach_joins_each_split_by_its_case(flow_runner, db, settings):
    res = flow_runner(FLOWS / "mf_switch_foreach.py", "run")
    run = _completed(db, "RouteFilesFlow", res)
    assert "read: document b.json, table a.csv, table c.csv" in res.stdout
    csv = task_rows(db, run["run_pk"], "read_csv")
    json_ = task_rows(db, run["run_pk"], "read_json")
    # which split took which case (the splits run in parallel: their branch tasks start in any order)
    assert sorted(t["foreach_index"] for t in csv) == [0, 2] and [t["foreach_index"] for t in json_] == [1]
    collect = task_rows(db, run["run_pk"], "collect")[0]
    # the join's inputs are the three splits, in foreach order, whichever case each took
    by_path = {f"{t['step_name']}/{t['task_id']}": t for t in csv + json_}
    assert [by_path[p]["foreach_index"] for p in collect["parent_task_ids"]] == [0, 1, 2]
    assert collect["foreach_stack"] is None


def test_recursion_inside_foreach_loops_per_split(flow_runner, db, settings):
    res = flow_runner(FLOWS / "mf_recursion_foreach.py", "run")
    run = _completed(db, "CountdownFlow", res)
    assert "A: [3, 2, 1] | B: [1] | C: [4, 3, 2, 1]" in res.stdout
    ticks = task_rows(db, run["run_pk"], "tick")
    per_split: dict[int, list[list[int]]] = {}
    for t in ticks:
        per_split.setdefault(t["foreach_index"], []).append(t["iteration_stack"])
    assert per_split == {0: [[0], [1], [2]], 1: [[0]], 2: [[0], [1], [2], [3]]}
    finish = task_rows(db, run["run_pk"], "finish")
    assert sorted(t["foreach_index"] for t in finish) == [0, 1, 2]
    assert all(t["iteration_stack"] == [] for t in finish)


def test_nested_cases_and_switch_inside_a_branch(flow_runner, db, settings):
    res = flow_runner(FLOWS / "mf_switch_nested.py", "run", "--score", "3")
    run = _completed(db, "ReviewFlow", res)
    assert "audit ok; review coached (3)" in res.stdout
    steps = sorted(t["step_name"] for t in task_rows(db, run["run_pk"]))
    assert steps == sorted(["start", "review", "grade", "coach", "report", "audit", "join", "end"])
    res = flow_runner(FLOWS / "mf_switch_nested.py", "run", "--track", "shallow")
    run = _completed(db, "ReviewFlow", res)
    assert "audit ok; review skimmed" in res.stdout
    assert "grade" not in {t["step_name"] for t in task_rows(db, run["run_pk"])}


def test_client_lists_iterations_in_order(flow_runner, db, settings):
    from core_runtime import Run, client

    client.configure(settings)
    client.namespace(None)

    res = flow_runner(FLOWS / "mf_switch_loop.py", "run", "--rounds", "4")
    _completed(db, "TrainUntilGoodFlow", res)
    run = Run(f"TrainUntilGoodFlow/{res.run_id}")
    tasks = list(run["train"])
    assert [t.data.epoch for t in tasks] == [1, 2, 3, 4]
    assert [t.iteration_stack for t in tasks] == [[0], [1], [2], [3]]
    assert run.data.epoch == 4
    assert "quick_prep" in run and "full_prep" not in run


def test_resume_continues_a_loop_at_the_iteration_that_failed(flow_runner, db):
    flow, fixed = FLOWS / "mf_resume_loop.py", {"FLAKY_LOOP_FIXED": "1"}
    first = flow_runner(flow, "run")
    assert first.returncode == 1
    origin = run_row(db, "FlakyLoopFlow", first.run_id)
    assert origin["failed_step"] == "work" and "round 3 of item B is broken" in origin["status_reason"]
    res = flow_runner(flow, "resume", "--origin-run-id", first.run_id, extra_env=fixed)
    run = _completed(db, "FlakyLoopFlow", res)
    assert "A after 3 rounds, B after 5 rounds, C after 2 rounds" in res.stdout
    b_rounds = [t for t in task_rows(db, run["run_pk"], "work") if t["foreach_index"] == 1]
    assert [t["iteration_stack"] for t in b_rounds] == [[0], [1], [2], [3], [4]]
    assert [t["cloned_from"] is not None for t in b_rounds] == [True, True, False, False, False]
    # a clone keeps its place in the loop and points at the origin task of the same iteration
    origin_b = {tuple(t["iteration_stack"]): t for t in task_rows(db, origin["run_pk"], "work")
                if t["foreach_index"] == 1}
    assert b_rounds[1]["cloned_from"] == f"FlakyLoopFlow/{first.run_id}/work/{origin_b[(1,)]['task_id']}"
    assert b_rounds[2]["parent_task_ids"] == [f"work/{b_rounds[1]['task_id']}"]

    # resume STEP re-runs the whole loop (and what follows), cloning only what comes before it
    again = flow_runner(flow, "resume", "work", "--origin-run-id", res.run_id, extra_env=fixed)
    rerun = _completed(db, "FlakyLoopFlow", again)
    tasks = task_rows(db, rerun["run_pk"])
    assert sorted({t["step_name"] for t in tasks if t["cloned_from"]}) == ["begin", "start"]
    assert len([t for t in tasks if t["step_name"] == "work"]) == 3 + 5 + 2
