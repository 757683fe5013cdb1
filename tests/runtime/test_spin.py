"""spin as Metaflow 2.19 defines it: one step, with the inputs its parents produced in a past run.

The flows in spin_flows/ are written as Metaflow users write them. Each test spins a step of a real
past run and checks what the step saw and produced; nothing may be recorded in Postgres.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.runtime.conftest import run_flow

SPIN = Path(__file__).resolve().parent / "spin_flows"
FLOW = SPIN / "house_prices.py"
V2 = SPIN / "house_prices_v2.py"
SLOW = SPIN / "slow_step.py"


@pytest.fixture(scope="module")
def base_run(flowscope_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> str:
    """A completed run of house_prices.py with --markup 2 (north: slope 4, south: slope 3)."""
    res = run_flow(flowscope_env, FLOW, "run", "--markup", "2", tmp=tmp_path_factory.mktemp("base"))
    assert res.returncode == 0 and res.run_id, res.stderr
    return res.run_id


def counts(db: Any) -> tuple[int, int, int]:
    with db.cursor() as cur:
        cur.execute("SELECT (SELECT count(*) FROM runs), (SELECT count(*) FROM tasks), "
                    "(SELECT count(*) FROM artifacts)")
        row = cur.fetchone()
    return int(row[0]), int(row[1]), int(row[2])


def spin(flow_runner: Any, path: Path, *args: str, tmp: Path) -> tuple[Any, str | None]:
    id_file = tmp / "spin-run-id"
    id_file.unlink(missing_ok=True)
    res = flow_runner(path, "spin", *args, "--run-id-file", str(id_file))
    return res, (id_file.read_text() if id_file.exists() else None)


def spin_task(flowscope_env: dict[str, str], run_id: str, step: str) -> Any:
    from core_runtime.client import Task

    return Task(f"HousePricesFlow/{run_id}/{step}/1", _namespace_check=False,
                _current_metadata=f"spin@{flowscope_env['FLOWSCOPE_SPIN_DIR']}")


def test_spin_a_step_with_the_inputs_of_its_past_task(base_run, flow_runner, db, tmp_path):
    before = counts(db)
    res, _ = spin(flow_runner, FLOW, f"{base_run}/fit", tmp=tmp_path)
    assert res.returncode == 0, res.stderr
    # The first task of fit: the north split, with the run's --markup 2.
    assert "north: price = 4.00 * size + 0.00 (split 0)" in res.stdout
    assert "Artifacts set by fit:" in res.stdout and "slope = 4.0" in res.stdout
    assert counts(db) == before


def test_spin_a_given_task_of_a_foreach(base_run, flow_runner, db, tmp_path):
    with db.cursor() as cur:
        cur.execute("SELECT t.task_id FROM tasks t JOIN runs r USING (run_pk) WHERE r.flow_id = "
                    "'HousePricesFlow' AND r.run_id = %s AND t.step_name = 'fit' AND t.foreach_index = 1",
                    (base_run,))
        (task_id,) = cur.fetchone()
    res, _ = spin(flow_runner, FLOW, f"HousePricesFlow/{base_run}/fit/{task_id}", tmp=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "south: price = 3.00 * size + 0.00 (split 1)" in res.stdout


def test_spin_a_join_gets_every_branch(base_run, flow_runner, tmp_path):
    res, _ = spin(flow_runner, FLOW, f"{base_run}/choose", tmp=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "best_region = 'north'" in res.stdout and "best_slope = 4.0" in res.stdout


def test_override_an_input_and_persist(base_run, flow_runner, flowscope_env, db, tmp_path):
    before = counts(db)
    res, run_id = spin(flow_runner, FLOW, f"{base_run}/fit", "--artifacts-module",
                       str(SPIN / "cheaper_north.py"), "--persist", tmp=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "north: price = 2.00 * size + 0.00" in res.stdout
    assert "Inputs from --artifacts-module" in res.stdout
    task = spin_task(flowscope_env, run_id, "fit")
    assert task.data.slope == 2.0 and task["region"].data == "north"
    assert task.data.points["north"][0] == (50, 50.0)          # the injected input is kept too
    assert task.data.markup == 2.0                              # parameters of the past run
    assert "north: price = 2.00" in task.stdout
    assert task.successful and task.run.origin_run_id == base_run
    assert counts(db) == before


def test_spin_a_step_new_since_the_run_with_an_artifacts_module(base_run, flow_runner, flowscope_env, db,
                                                                 tmp_path):
    before = counts(db)
    res, run_id = spin(flow_runner, V2, f"{base_run}/score_holdout", "--artifacts-module",
                       str(SPIN / "holdout_points.py"), "--persist", tmp=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "'score_holdout' has no task in run HousePricesFlow/" in res.stdout
    assert "hold-out error of north: 161.00" in res.stdout          # (|400-200| + |240-118|) / 2
    task = spin_task(flowscope_env, run_id, "score_holdout")
    assert task.data.mean_error == 161.0
    assert task.data.best_slope == 4.0                              # from choose's past task
    assert task.metadata_dict["spun-from"] == "a step new since that run"
    assert task.parent_task_ids and task.parent_task_ids[0].startswith("choose/")
    assert counts(db) == before


def test_without_persist_the_task_is_kept_but_not_its_artifacts(base_run, flow_runner, flowscope_env,
                                                                 tmp_path):
    res, run_id = spin(flow_runner, FLOW, f"{base_run}/choose", tmp=tmp_path)
    assert res.returncode == 0, res.stderr
    task = spin_task(flowscope_env, run_id, "choose")
    assert task.successful and list(task) == []


def test_timeout_applies_unless_decorators_are_skipped(flow_runner, tmp_path):
    base = flow_runner(SLOW, "run")
    assert base.returncode == 0, base.stderr
    module = str(SPIN / "three_seconds.py")
    res, _ = spin(flow_runner, SLOW, f"{base.run_id}/wait", "--artifacts-module", module, tmp=tmp_path)
    assert res.returncode == 1
    assert "timeout after 1 s" in res.stderr
    res, _ = spin(flow_runner, SLOW, f"{base.run_id}/wait", "--artifacts-module", module,
                  "--skip-decorators", tmp=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "waited = True" in res.stdout


@pytest.mark.parametrize("pathspec, message", [
    ("a/b/c/d/e", "invalid pathspec 'a/b/c/d/e'"),
    ("OtherFlow/1/fit/2", "names flow 'OtherFlow'"),
    ("999999/fit", "no run HousePricesFlow/999999 recorded"),
    ("nosuch", "no step 'nosuch'"),
])
def test_bad_pathspecs_are_one_line_errors(base_run, flow_runner, tmp_path, pathspec, message):
    res, _ = spin(flow_runner, FLOW, pathspec, tmp=tmp_path)
    assert res.returncode == 1 and message in res.stderr
    assert "Traceback" not in res.stderr


def test_bad_artifacts_modules_name_the_file(base_run, flow_runner, tmp_path):
    res, _ = spin(flow_runner, FLOW, f"{base_run}/fit", "--artifacts-module", str(tmp_path / "nope.py"),
                  tmp=tmp_path)
    assert res.returncode == 1 and "nope.py: no such file" in res.stderr
    broken = tmp_path / "broken.py"
    broken.write_text("# inputs\nARTIFACTS = {'points': [\n")
    res, _ = spin(flow_runner, FLOW, f"{base_run}/fit", "--artifacts-module", str(broken), tmp=tmp_path)
    assert res.returncode == 1 and f"{broken}:2:" in res.stderr
    empty = tmp_path / "empty.py"
    empty.write_text("POINTS = 1\n")
    res, _ = spin(flow_runner, FLOW, f"{base_run}/fit", "--artifacts-module", str(empty), tmp=tmp_path)
    assert res.returncode == 1 and "defines no ARTIFACTS dict" in res.stderr


def test_runner_spin_for_unit_testing_a_step(base_run, flowscope_env):
    from core_runtime import Runner

    with Runner(str(FLOW), show_output=False, env=flowscope_env).spin(f"{base_run}/fit", persist=True) as sp:
        assert sp.status == "successful" and sp.returncode == 0
        assert sp.task["slope"].data == 4.0
        assert sp.task.data.intercept == 0.0
        assert "north: price = 4.00" in sp.stdout


def test_spin_needs_only_the_reader_role(base_run, flowscope_env, tmp_path):
    env = {k: v for k, v in flowscope_env.items() if k != "FLOWSCOPE_DSN"}
    res = run_flow(env, FLOW, "spin", f"{base_run}/fit", tmp=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "north: price = 4.00" in res.stdout
