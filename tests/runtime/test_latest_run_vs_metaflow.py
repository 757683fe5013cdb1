"""Which run a bare ``resume`` (no ``--origin-run-id``) resumes, checked on the same flow file under
pip ``metaflow`` (import swapped) and core_runtime: the latest run that ``run`` started (Metaflow's
``latest_run`` file, core_runtime/cli/latest_run.py), never a run ``resume`` made; ``spin`` replaces
it with its own run id, which no resume can find; with no ``run`` before, a bare resume is refused."""

from __future__ import annotations

import pytest

from tests.runtime.conftest import FLOWS

FLOW = FLOWS / "latest_run_flow.py"
OK = {"LATEST_OK": "1"}


@pytest.mark.timeout(600)
def test_bare_resume_resumes_the_latest_run_not_the_latest_resume(flow_runner, metaflow, flowscope_env):
    # no run yet: refused, naming --origin-run-id (exit 1, Metaflow's CommandException)
    theirs, _ = metaflow.run(FLOW, "resume", ok=False)
    ours = flow_runner(FLOW, "resume")
    assert theirs.returncode == 1 and "Specify --origin-run-id" in theirs.stdout + theirs.stderr
    assert ours.returncode == 1 and "specify --origin-run-id" in ours.stderr, ours.stderr

    # run (fails at b), resume (fails again), resume again (fixed): the second resume's origin is
    # the run, not the first resume
    theirs, their_run = metaflow.run(FLOW, "run", ok=False)
    ours = flow_runner(FLOW, "run")
    assert theirs.returncode == ours.returncode == 1
    our_run = ours.run_id
    theirs, their_resume = metaflow.run(FLOW, "resume", ok=False)
    ours = flow_runner(FLOW, "resume")
    assert theirs.returncode == ours.returncode == 1
    assert their_resume != their_run and ours.run_id != our_run
    theirs, _ = metaflow.run(FLOW, "resume", extra_env=OK)
    ours = flow_runner(FLOW, "resume", extra_env=OK)
    assert ours.returncode == 0, ours.stderr[-2000:]
    assert f"Cloning LatestRunFlow/{their_run}" in theirs.stdout + theirs.stderr
    assert f"Workflow resuming run {our_run} as run-id {ours.run_id}" in ours.stdout

    # spin writes its own run id: a bare resume then finds no run to resume (exit 1)
    theirs, _ = metaflow.run(FLOW, "spin", "start", ok=False)
    ours = flow_runner(FLOW, "spin", "start")
    assert theirs.returncode == ours.returncode == 0, ours.stderr[-2000:]
    theirs, _ = metaflow.run(FLOW, "resume", extra_env=OK, ok=False)
    ours = flow_runner(FLOW, "resume", extra_env=OK)
    assert theirs.returncode == 1 and "Resume could not find run id" in theirs.stdout + theirs.stderr
    assert ours.returncode == 1 and "no run LatestRunFlow/" in ours.stderr, ours.stderr
