"""Parameters (types, defaults, required, help) and Config files (in decorators and steps)."""

from __future__ import annotations

from tests.runtime.conftest import FLOWS, artifacts_of, load_value, run_row, task_rows


def test_parameters_and_config(flow_runner, db, settings):
    res = flow_runner(FLOWS / "config_flow.py", "run", "--model", "resnet", "--epochs", "7",
                      "--rate=0.5", "--verbose", "true", "--layers", "[16, 8, 4]")
    assert res.returncode == 0, res.stderr
    run = run_row(db, "ConfigFlow", res.run_id)
    assert run["status"] == "completed"
    assert run["parameters"]["epochs"] == 7 and run["parameters"]["cfg"] == {"retries": 2, "model": {"depth": 5}}
    start = task_rows(db, run["run_pk"], "start")[0]
    summary = load_value(settings, artifacts_of(db, start["task_pk"])["summary"]["location"])
    assert summary == (7, 0.5, True, "resnet", [16, 8, 4])
    # @retry(times=cfg.retries): the step succeeds on its third attempt
    a = task_rows(db, run["run_pk"], "a")[0]
    assert a["attempt"] == 2 and a["status"] == "completed"
    join = task_rows(db, run["run_pk"], "join")[0]
    arts = artifacts_of(db, join["task_pk"])
    assert load_value(settings, arts["both"]["location"]) == (2, 5, 2)
    assert load_value(settings, arts["model_after_join"]["location"]) == "resnet"
    assert "model" in arts and "epochs" in arts      # parameters reach tasks after a join
    end = task_rows(db, run["run_pk"], "end")[0]
    assert f"pathspec ConfigFlow/{res.run_id}/end/{end['task_id']} user tester" in res.stdout


def test_config_file_override(flow_runner, db, tmp_path):
    other = tmp_path / "other.json"
    other.write_text('{"retries": 0, "model": {"depth": 9}}')
    res = flow_runner(FLOWS / "config_flow.py", "--config", "cfg", str(other), "run", "--model", "m")
    assert res.returncode == 0, res.stderr
    run = run_row(db, "ConfigFlow", res.run_id)
    assert run["parameters"]["cfg"]["model"]["depth"] == 9
    assert task_rows(db, run["run_pk"], "a")[0]["attempt"] == 0


def test_help_lists_parameters(flow_runner):
    res = flow_runner(FLOWS / "config_flow.py", "--help")
    assert res.returncode == 0
    assert "--epochs INT" in res.stdout and "Training epochs" in res.stdout
    assert "--model STR" in res.stdout and "required" in res.stdout
    assert "--layers JSON" in res.stdout
