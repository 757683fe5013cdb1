"""The same spin session — a run, then spins of single steps through the Runner API, then
``inspect_spin`` — on core_runtime and on pip metaflow 2.19: the same artifacts come back.

Spinning a step that is new since the past run is where the two differ: Metaflow 2.19 refuses it
("No task found for step ..."), core_runtime plans its inputs from the current graph
(docs/runtime.md says so).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.runtime.dual_runtime import copy_files, metaflow_env, on_core_runtime, on_metaflow

pytestmark = pytest.mark.compat

SPIN = Path(__file__).resolve().parent / "spin_flows"
FILES = [SPIN / "house_prices.py", SPIN / "cheaper_north.py", SPIN / "holdout_points.py"]

DRIVER = '''
import json
from core_runtime import Flow, Runner, inspect_spin

out = {}
with Runner("house_prices.py", show_output=False).run(markup=2) as running:
    run = running.run
    out["run"] = [running.status, run.successful, run.data.best_region, run.data.best_slope]
    north = [t for t in run["fit"] if t.index == 0][0]
    north_spec = "/".join(north.pathspec.split("/")[1:])
with Runner("house_prices.py", show_output=False).spin(
        north_spec, persist=True, artifacts_module="cheaper_north.py") as spun:
    task = spun.task
    out["fit"] = [spun.status, task["region"].data, task["slope"].data, task["intercept"].data,
                  task.data.markup, "north: price = 2.00 * size + 0.00 (split 0)" in task.stdout]
with Runner("house_prices.py", show_output=False).spin("choose", persist=True) as spun:
    out["choose"] = [spun.task.data.best_region, spun.task.data.best_slope]
inspect_spin(".")
latest = Flow("HousePricesFlow").latest_run
out["inspected"] = [latest["choose"].task.data.best_region, sorted(s.id for s in latest)]
print(json.dumps(out))
'''


@pytest.mark.timeout(900)
def test_spin_session_gives_the_same_artifacts(flowscope_env: dict[str, str], tmp_path: Path) -> None:
    ours_dir = tmp_path / "core_runtime"
    ours = on_core_runtime(flowscope_env, ours_dir).run(DRIVER, FILES,
                                                        extra_env={"FLOWSCOPE_SPIN_DIR": str(ours_dir)})
    theirs = on_metaflow(tmp_path / "metaflow").run(DRIVER, FILES)
    assert ours == theirs
    assert ours["fit"] == ["successful", "north", 2.0, 0.0, 2.0, True]
    assert ours["choose"] == ["north", 4.0]


@pytest.mark.timeout(600)
def test_metaflow_refuses_to_spin_a_new_step(tmp_path: Path) -> None:
    copy_files([SPIN / "house_prices.py", SPIN / "house_prices_v2.py"], tmp_path, metaflow=True)
    env = metaflow_env(tmp_path)
    ran = subprocess.run([sys.executable, "house_prices.py", "run"], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300, check=False)
    assert ran.returncode == 0, ran.stderr[-2000:]
    spun = subprocess.run([sys.executable, "house_prices_v2.py", "spin", "score_holdout",
                           "--artifacts-module", str(SPIN / "holdout_points.py")], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert spun.returncode != 0
    assert "No task found for step score_holdout" in spun.stdout + spun.stderr
