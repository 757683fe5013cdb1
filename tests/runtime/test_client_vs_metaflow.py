"""Client attributes a Metaflow script reads on a finished run, checked by running the same driver
under pip ``metaflow`` (import swapped) and core_runtime: ``Run.code``, ``Task.code``,
``Task.environment_info`` and ``Step.environment_info`` are None for a run without a code package
(a local Metaflow run; none is exposed here), and ``Task.runtime_name`` names the runtime
(Metaflow's ``dev`` locally, ``flowscope`` here). ``finished`` is Metaflow's ``_task_ok``: a
failed task is not finished, nor is a run whose end step failed."""

from __future__ import annotations

import pytest

from tests.runtime.conftest import FLOWS
from tests.runtime.dual_runtime import Runtime

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
def test_code_and_environment_info(runtime: Runtime) -> None:
    assert runtime.run(DRIVER, [FLOW]) == EXPECTED


STATES = r'''
import json
from core_runtime import Runner


def state(t):
    return [t.finished, t.successful]


out = {}
with Runner("foreach_misuse_flow.py", show_output=False).run(mode="empty") as running:
    run = running.run
    out["start_failed"] = [running.status, run.finished, run.successful, state(run["start"].task)]
with Runner("foreach_misuse_flow.py", show_output=False).run(fail_end=True) as running:
    run = running.run
    out["end_failed"] = [running.status, run.finished, run.successful, state(run["join"].task),
                         state(run["end"].task)]
print(json.dumps(out))
'''

STATES_EXPECTED = {
    "start_failed": ["failed", False, False, [False, False]],
    "end_failed": ["failed", False, False, [True, True], [False, False]],
}


@pytest.mark.timeout(600)
def test_failed_tasks_are_not_finished(runtime: Runtime) -> None:
    assert runtime.run(STATES, [FLOWS / "foreach_misuse_flow.py"]) == STATES_EXPECTED


FAILED = r'''
import json
from core_runtime import Runner

with Runner("cli_params_flow.py", show_output=False).run(dataset="missing") as running:
    task = running.run["start"].task
    print(json.dumps({"status": running.status, "task": [task.finished, task.successful],
                      "loaded": task.data.loaded, "listed": "loaded" in [a.id for a in task],
                      "exception": str(task.exception).splitlines()[-1]}))
'''

FAILED_EXPECTED = {"status": "failed", "task": [False, False], "loaded": "missing loaded", "listed": True,
                   "exception": "ValueError: no dataset named missing"}


@pytest.mark.timeout(600)
def test_failed_task_keeps_what_it_set(runtime: Runtime) -> None:
    """Metaflow persists a failed attempt's artifacts: ``task.data`` shows what the step had set
    before it raised (how a failed task is debugged from a notebook)."""
    assert runtime.run(FAILED, [FLOWS / "cli_params_flow.py"]) == FAILED_EXPECTED
