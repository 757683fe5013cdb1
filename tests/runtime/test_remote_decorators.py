"""@kubernetes / @batch without a distributed executor: accepted, run here, with a notice on the task.
(With Ray configured the same flow runs on the cluster: tests/runtime/test_ray_executor.py.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.runtime.conftest import FIXTURES, attempt_rows, run_row, task_rows

FLOW = Path(__file__).resolve().parent / "ray_flows" / "kubernetes_retry_flow.py"


def check_kubernetes_retry_run(db: Any, run_id: str) -> dict[str, Any]:
    """The run completed, the train step failed once and succeeded on its retry; returns its task."""
    run = run_row(db, "KubernetesRetryFlow", run_id)
    assert run["status"] == "completed"
    train = task_rows(db, run["run_pk"], "train")[0]
    attempts = attempt_rows(db, train["task_pk"])
    assert [a["status"] for a in attempts] == ["failed", "completed"]
    assert attempts[0]["exception_type"] == "RuntimeError"
    with db.cursor() as cur:
        cur.execute("SELECT preview FROM artifacts WHERE task_pk = %s AND attempt = 1 AND name = 'model'",
                    (train["task_pk"],))
        assert cur.fetchone()[0] == "[1, 2, 3]"
    return train


def _notices(db: Any, task_pk: int) -> list[str]:
    with db.cursor() as cur:
        cur.execute("SELECT value FROM metadata WHERE task_pk = %s AND type = 'notice'", (task_pk,))
        return [r[0] for r in cur.fetchall()]


def test_kubernetes_retry_step_runs_locally_with_a_notice(flow_runner: Any, db: Any) -> None:
    res = flow_runner(FLOW, "run")
    assert res.returncode == 0, res.stderr
    train = check_kubernetes_retry_run(db, res.run_id)
    notices = _notices(db, train["task_pk"])
    assert len(notices) == 1
    assert notices[0].startswith("@kubernetes: no distributed executor is configured")
    assert "cpu=1, memory=512 MB" in notices[0]
    assert "@kubernetes: no distributed executor is configured" in res.stdout
    start = task_rows(db, run_row(db, "KubernetesRetryFlow", res.run_id)["run_pk"], "start")[0]
    assert _notices(db, start["task_pk"]) == []


def test_with_kubernetes_puts_every_step_on_the_notice(flow_runner: Any, db: Any) -> None:
    res = flow_runner(FIXTURES / "linear_flow.py", "run", "--with", "kubernetes")
    assert res.returncode == 0, res.stderr
    run = run_row(db, "LinearFlow", res.run_id)
    for t in task_rows(db, run["run_pk"]):
        assert len(_notices(db, t["task_pk"])) == 1


@pytest.mark.parametrize("args, message", [
    (("--with", "ray"), "--with ray needs a Ray cluster: set FLOWSCOPE_RAY_ADDRESS"),
    (("--with", "slurm"), "--with slurm: unknown decorator @slurm (known: batch, card, catch"),
])
def test_with_errors_are_one_line(flow_runner: Any, args: tuple[str, ...], message: str) -> None:
    res = flow_runner(FIXTURES / "linear_flow.py", "run", *args)
    assert res.returncode != 0
    assert res.stderr.strip() == f"error: {message}" or message in res.stderr.strip().splitlines()[-1]


def test_unknown_kubernetes_argument_is_a_decorator_error() -> None:
    from core_runtime import kubernetes
    from core_runtime.decorators import DecoratorError

    with pytest.raises(DecoratorError, match=r"@kubernetes got unknown argument\(s\) cpus"):
        kubernetes(cpus=2)


def test_requests_merge_like_metaflow() -> None:
    from core_runtime import batch, kubernetes, resources
    from core_runtime.compute import step_request

    def f() -> None: ...

    plain = step_request(f)
    assert (plain.remote, plain.cpu, plain.memory_mb, plain.declared) == (None, 1.0, 0.0, False)
    g = resources(cpu=4, memory=1000)(kubernetes(memory=8192)(lambda: None))
    req = step_request(g)
    assert (req.remote, req.cpu, req.memory_mb, req.gpu) == ("kubernetes", 4.0, 8192.0, 0.0)
    h = batch(gpu=1)(lambda: None)
    assert (step_request(h).remote, step_request(h).gpu, step_request(h).memory_mb) == ("batch", 1.0, 4096.0)
    only = step_request(resources(memory=512)(lambda: None))
    assert (only.remote, only.memory_mb) == (None, 512.0)


def test_an_unreachable_ray_cluster_is_refused_before_anything_is_recorded(flow_runner: Any, db: Any) -> None:
    import socket

    with socket.socket() as s:       # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    res = flow_runner(FLOW, "run", extra_env={"FLOWSCOPE_RAY_ADDRESS": f"127.0.0.1:{port}"})
    assert res.returncode == 1
    assert res.stderr.strip().splitlines()[-1].startswith(f"error: cannot reach the Ray cluster at 127.0.0.1:{port}")
    assert res.run_id is None
