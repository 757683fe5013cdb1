"""Client attributes a Metaflow script reads on a finished run, checked by running the same driver
under pip ``metaflow`` (import swapped) and core_runtime: ``Run.code``, ``Task.code``,
``Task.environment_info`` and ``Step.environment_info`` are None for a run without a code package
(a local Metaflow run; none is exposed here), and ``Task.runtime_name`` names the runtime
(Metaflow's ``dev`` locally, ``flowscope`` here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.runtime.conftest import FLOWS
from tests.runtime.dual_runtime import copy_files, metaflow_env, run_driver

FLOW = FLOWS / "mf_linear.py"

DRIVER = r'''
import json
from core_runtime import Runner

with Runner("mf_linear.py", show_output=False).run() as running:
    run = running.run
    task = run["shout"].task
    print(json.dumps({"status": running.status, "loud": task.data.loud,
                      "absent": [run.code, task.code, task.environment_info, run["shout"].environment_info],
                      "runtime": isinstance(task.runtime_name, str) and bool(task.runtime_name)}))
'''

EXPECTED = {"status": "successful", "loud": "HI THERE", "absent": [None, None, None, None], "runtime": True}


@pytest.mark.timeout(600)
def test_code_and_environment_info_on_core_runtime(flowscope_env: dict[str, str], tmp_path: Path) -> None:
    copy_files([FLOW], tmp_path, metaflow=False)
    assert run_driver(DRIVER, tmp_path, flowscope_env, metaflow=False) == EXPECTED


@pytest.mark.timeout(600)
def test_same_driver_on_metaflow(tmp_path: Path) -> None:
    copy_files([FLOW], tmp_path, metaflow=True)
    assert run_driver(DRIVER, tmp_path, metaflow_env(tmp_path), metaflow=True) == EXPECTED
