"""@catch as Metaflow 2.19 has it, checked by running the same driver under pip ``metaflow`` (import
swapped) and core_runtime:

* the catch variable is set on every task of the step: the exception where one was caught, None
  where the step succeeded (Metaflow's ``task_post_step``), so a join can read
  ``input.compute_failed`` of each input;
* the client's ``Task.successful`` is False for the caught task (Metaflow records ``_success``
  False; its attempt is still ok and the run goes on), ``finished`` True; the run is successful;
  a task that ``resume`` cloned from it answers the same;
* each finished attempt has Metaflow's ``attempt_ok`` and ``attempt-done`` metadata (the caught
  attempt is ok);
* ``Task(pathspec, attempt=N)`` reads one attempt: its state, artifacts and exception.
"""

from __future__ import annotations

import pytest

from tests.runtime.conftest import FLOWS
from tests.runtime.dual_runtime import Runtime

FLOW = FLOWS / "catch_foreach_flow.py"

DRIVER = r'''
import json
from core_runtime import Runner, Task, namespace

namespace(None)
out = {}


def tasks(run, attempts=False):
    return [[t.index, t.successful, t.finished, t.data.compute_failed is None]
            + ([t.metadata_dict.get("attempt_ok"), t.metadata_dict.get("attempt-done")] if attempts else [])
            for t in sorted(run["compute"], key=lambda t: t.index)]


with Runner("catch_foreach_flow.py", show_output=False).run() as running:
    run = running.run
    out["run"] = [running.status, run.successful, run.data.failed, run.data.results]
    out["compute"] = tasks(run, attempts=True)
    caught = [t for t in run["compute"] if t.index == 1][0]
    out["attempts"] = []
    for n in (0, 1):
        one = Task(caught.pathspec, attempt=n)
        exc = one.exception
        out["attempts"].append([one.current_attempt, one.finished, one.successful, one.data.divisor,
                                str(exc).strip().splitlines()[-1] if exc else None])
    first = run.id
with Runner("catch_foreach_flow.py", show_output=False).resume(step_to_rerun="join") as running:
    run = running.run
    out["resumed"] = [running.status, run.successful, run.data.failed]
    out["cloned"] = tasks(run)
print(json.dumps(out))
'''

EXPECTED = {
    "run": ["successful", True, [0], [2.0, 5.0]],
    # the latest attempt's attempt_ok / attempt-done metadata: the caught attempt (the second) is ok
    "compute": [[0, True, True, True, "True", "0"], [1, False, True, False, "True", "1"],
                [2, True, True, True, "True", "0"]],
    # Task(pathspec, attempt=N): the first attempt failed (what it set is kept), the second was caught
    "attempts": [[0, False, False, 0, "ZeroDivisionError: division by zero"], [1, True, False, 0, None]],
    "resumed": ["successful", True, [0]],
    "cloned": [[0, True, True, True], [1, False, True, False], [2, True, True, True]],
}


@pytest.mark.timeout(600)
def test_catch(runtime: Runtime) -> None:
    assert runtime.run(DRIVER, [FLOW]) == EXPECTED
