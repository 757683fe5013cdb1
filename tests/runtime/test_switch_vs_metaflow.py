"""The switch and recursion flows run under core_runtime and under pip metaflow 2.19 (import line
swapped): the same tasks run — same steps, foreach positions and iterations — with the same
artifacts, and a resume clones and re-runs the same tasks."""

from __future__ import annotations

from typing import Any

import pytest

from tests.runtime.conftest import FLOWS
from tests.runtime.metaflow_compare import core_snapshot, differences

pytest.importorskip("metaflow", reason="the pip metaflow package (extra 'compat') is missing")

CASES = [
    ("mf_switch_loop.py", "TrainUntilGoodFlow", ("--mode", "thorough")),
    ("mf_switch_loop.py", "TrainUntilGoodFlow", ("--rounds", "1")),
    ("mf_switch_foreach.py", "RouteFilesFlow", ()),
    ("mf_recursion_foreach.py", "CountdownFlow", ()),
    ("mf_switch_nested.py", "ReviewFlow", ("--score", "3")),
    ("mf_switch_nested.py", "ReviewFlow", ("--track", "shallow")),
]


@pytest.fixture()
def client(settings: Any) -> Any:
    from core_runtime import client

    client.configure(settings)
    client.namespace(None)
    return client


@pytest.mark.timeout(600)
@pytest.mark.parametrize("name, flow, args", CASES)
def test_same_tasks_and_artifacts_as_metaflow(on_both, client, metaflow, name, flow, args):
    ours, theirs = on_both(FLOWS / name, "run", *args)
    assert ours.returncode == 0, ours.stderr[-3000:]
    assert theirs.returncode == 0, theirs.stdout[-3000:] + theirs.stderr[-3000:]
    our_tasks, _ = core_snapshot(f"{flow}/{ours.run_id}")
    their_tasks, _ = metaflow.snapshot(f"{flow}/{theirs.run_id}")
    assert len(our_tasks) >= 4
    assert differences(our_tasks, their_tasks) == []


@pytest.mark.timeout(600)
def test_unknown_case_fails_the_same_way(on_both):
    ours, theirs = on_both(FLOWS / "mf_switch_loop.py", "run", "--mode", "medium")
    message = ("Switch condition variable 'route' has value 'medium' which is not in the available "
               "cases: ['fast', 'thorough']")
    assert ours.returncode == 1 and message in ours.stdout + ours.stderr
    assert theirs.returncode != 0 and message in theirs.stdout + theirs.stderr


@pytest.mark.timeout(600)
def test_resume_of_a_loop_in_a_foreach_matches_metaflow(flow_runner, client, metaflow):
    flow, fixed = FLOWS / "mf_resume_loop.py", {"FLAKY_LOOP_FIXED": "1"}
    # One worker: both runtimes then run tasks first in, first out, so the failed run stops at the
    # same point and the resume has the same tasks to clone.
    first = flow_runner(flow, "run", "--max-workers", "1")
    assert first.returncode == 1
    resumed = flow_runner(flow, "resume", "--origin-run-id", first.run_id, "--max-workers", "1",
                          extra_env=fixed)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "A after 3 rounds, B after 5 rounds, C after 2 rounds" in resumed.stdout

    _proc, their_first = metaflow.run(flow, "run", "--max-workers", "1", ok=False)
    _proc, their_resumed = metaflow.run(flow, "resume", "--origin-run-id", str(their_first),
                                        "--max-workers", "1", extra_env=fixed)

    our_tasks, our_cloned = core_snapshot(f"FlakyLoopFlow/{resumed.run_id}")
    their_tasks, their_cloned = metaflow.snapshot(f"FlakyLoopFlow/{their_resumed}")
    assert differences(our_tasks, their_tasks) == []
    assert our_cloned == their_cloned
    # item B (split 1): its first two rounds are clones, the round that failed and all after it ran again
    assert ("work", (1,), (0,)) in our_cloned and ("work", (1,), (1,)) in our_cloned
    assert ("work", (1,), (2,)) not in our_cloned and ("wrap_up", (1,), ()) not in our_cloned
    assert ("join", (), ()) not in our_cloned
