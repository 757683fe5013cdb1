"""``Runner.resume(run_id=...)`` as Metaflow 2.19 has it: the Runner passes ``--run-id`` to
``resume`` (Metaflow's click API turns every keyword of the command into its option), and
``resume --run-id ID`` names the new run ID; an integer ID is refused ("run-id 12 cannot be an
integer": integers are the metadata service's). Our Runner emitted ``--run-id`` and our own
command line refused it ("unknown option --run-id for 'resume'"), so the call raised before any
run existed. The same driver runs under pip ``metaflow`` (import swapped) and core_runtime.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.runtime.conftest import FLOWS
from tests.runtime.dual_runtime import Runtime

FLOW = FLOWS / "mf_linear.py"

DRIVER = r'''
import json
from core_runtime import Runner, namespace

namespace(None)
out = {}
with Runner("mf_linear.py", show_output=False) as runner:
    first = runner.run().run.id
    resumed = runner.resume(origin_run_id=first, step_to_rerun="shout", run_id="nightly-resume-1")
    run = resumed.run
    start = run["start"].task
    out["resumed"] = [resumed.status, run.id, run.successful, run.data.loud,
                      start.origin_pathspec.split("/")[:3] == ["GreetingFlow", first, "start"]]
    try:
        runner.resume(origin_run_id=first, step_to_rerun="shout", run_id="12")
        out["integer"] = "started"
    except RuntimeError as exc:
        out["integer"] = ["RuntimeError", "run-id 12 cannot be an integer" in str(exc)]
    id_file = runner.resume(origin_run_id=first, run_id="nightly-resume-2", step_to_rerun="end",
                            run_id_file="resumed.id", clone_only=False, reentrant=False)
    out["options"] = [id_file.status, id_file.run.id, open("resumed.id").read()]
print(json.dumps(out))
'''

EXPECTED = {
    "resumed": ["successful", "nightly-resume-1", True, "HI THERE", True],
    "integer": ["RuntimeError", True],
    "options": ["successful", "nightly-resume-2", "nightly-resume-2"],
}


@pytest.mark.timeout(600)
def test_runner_resume_with_run_id(runtime: Runtime) -> None:
    assert runtime.run(DRIVER, [FLOW]) == EXPECTED


def test_resume_run_id_taken_by_the_flow_is_one_error_line(flow_runner: Any) -> None:
    """Ours only: the second resume under one ID stops before running anything (Metaflow's local
    metadata would write the second run over the first)."""
    first = flow_runner(FLOW, "run")
    assert first.returncode == 0, first.stderr
    name = f"again-{uuid.uuid4().hex[:8]}"
    resumed = flow_runner(FLOW, "resume", "end", "--origin-run-id", first.run_id, "--run-id", name)
    assert (resumed.returncode, resumed.run_id) == (0, name), resumed.stderr
    again = flow_runner(FLOW, "resume", "end", "--origin-run-id", first.run_id, "--run-id", name)
    assert again.returncode == 1 and again.run_id is None
    assert again.stderr.strip().splitlines()[-1] == f"error: run GreetingFlow/{name} already exists"
    integer = flow_runner(FLOW, "resume", "end", "--origin-run-id", first.run_id, "--run-id", "007")
    assert (integer.returncode, integer.stderr.strip().splitlines()[-1]) == (
        1, "error: run-id 007 cannot be an integer")
