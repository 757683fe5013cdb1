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
def test_bare_resume_resumes_the_latest_run_not_the_latest_resume(on_both):
    # no run yet: refused, naming --origin-run-id (exit 1, Metaflow's CommandException)
    ours, theirs = on_both(FLOW, "resume")
    assert theirs.returncode == 1 and "Specify --origin-run-id" in theirs.stdout + theirs.stderr
    assert ours.returncode == 1 and "specify --origin-run-id" in ours.stderr, ours.stderr

    # run (fails at b), resume (fails again), resume again (fixed): the second resume's origin is
    # the run, not the first resume
    ours, theirs = on_both(FLOW, "run")
    assert theirs.returncode == ours.returncode == 1
    our_run, their_run = ours.run_id, theirs.run_id
    ours, theirs = on_both(FLOW, "resume")
    assert theirs.returncode == ours.returncode == 1
    assert theirs.run_id != their_run and ours.run_id != our_run
    ours, theirs = on_both(FLOW, "resume", extra_env=OK)
    assert theirs.returncode == 0, theirs.stdout[-3000:] + theirs.stderr[-3000:]
    assert ours.returncode == 0, ours.stderr[-2000:]
    assert f"Cloning LatestRunFlow/{their_run}" in theirs.stdout + theirs.stderr
    assert f"Workflow resuming run {our_run} as run-id {ours.run_id}" in ours.stdout

    # spin writes its own run id: a bare resume then finds no run to resume (exit 1)
    ours, theirs = on_both(FLOW, "spin", "start")
    assert theirs.returncode == ours.returncode == 0, ours.stderr[-2000:]
    ours, theirs = on_both(FLOW, "resume", extra_env=OK)
    assert theirs.returncode == 1 and "Resume could not find run id" in theirs.stdout + theirs.stderr
    assert ours.returncode == 1 and "no run LatestRunFlow/" in ours.stderr, ours.stderr
