"""Runs on a real Ray cluster started on this machine (a head and two more nodes, each a
``ray start`` process), with the datastore on moto's S3 server (an S3 emulator).

Nodes: head 1 CPU, "big" 3 CPUs, "small" 2 CPUs. The node-loss test kills a node, so it runs last.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from backend.app import create_app
from contract.settings import Settings
from tests.ray_cluster import LocalRayCluster, ray_available
from tests.runtime.conftest import attempt_rows, run_flow, run_row, task_rows

RAY_FLOWS = Path(__file__).resolve().parent / "ray_flows"
# Slow on a loaded 2-core machine: every Ray task starts a Python process; the cluster takes a minute.
pytestmark = [pytest.mark.skipif(ray_available() is not None, reason=str(ray_available())),
              pytest.mark.timeout(1200)]


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """moto's S3 server (an emulator of S3) with a bucket for the runs."""
    import boto3
    from moto.server import ThreadedMotoServer

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    creds = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                 aws_secret_access_key="testing").create_bucket(Bucket="runs")
    try:
        yield {**creds, "FLOWSCOPE_DATASTORE": "s3://runs/flowscope", "FLOWSCOPE_S3_ENDPOINT_URL": endpoint}
    finally:
        server.stop()


@pytest.fixture(scope="module")
def cluster(s3: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRayCluster]:
    markers = tmp_path_factory.mktemp("markers")     # task processes on the nodes write their pids here
    # The nodes hold the S3 credentials themselves (as an instance role would); the driver never ships them.
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "NODE_LOSS_MARKER": str(markers / "attempt0.pid"),
           "MARKER_DIR": str(markers),
           **{k: v for k, v in s3.items() if k.startswith("AWS_")}}
    c = LocalRayCluster(env)
    try:
        c.start([(1, {"head": 1}), (3, {"big": 1}), (2, {"small": 1})], memory_mb=1024)
        yield c
    finally:
        c.stop()


@pytest.fixture()
def ray_env(flowscope_env: dict[str, str], s3: dict[str, str], cluster: LocalRayCluster) -> dict[str, str]:
    return {**flowscope_env, **s3, "FLOWSCOPE_RAY_ADDRESS": cluster.address, "RAY_USAGE_STATS_ENABLED": "0"}


def _metadata(db: Any, task_pk: int) -> dict[tuple[int | None, str], str]:
    with db.cursor() as cur:
        cur.execute("SELECT attempt, field_name, value FROM metadata WHERE task_pk = %s ORDER BY id", (task_pk,))
        return {(a, f): v for a, f, v in cur.fetchall()}


def _artifact_shas(db: Any, run_pk: int) -> dict[tuple[str, str], str]:
    """(step/foreach index, artifact) -> sha of the final attempt: what must match a local run."""
    with db.cursor() as cur:
        cur.execute("""SELECT t.step_name, t.foreach_index, a.name, a.sha FROM artifacts a
                       JOIN tasks t ON t.task_pk = a.task_pk AND a.attempt = t.attempt
                       WHERE t.run_pk = %s""", (run_pk,))
        return {(f"{s}[{i}]", n): sha for s, i, n, sha in cur.fetchall()}


def _node_ids(cluster: LocalRayCluster) -> dict[str, str]:
    """Custom resource name ("head", "big", "small") -> Ray node id."""
    out = {}
    for n in cluster.alive_nodes():
        for res in ("head", "big", "small"):
            if res in n["Resources"]:
                out[res] = n["NodeID"]
    return out


def _api(settings: Settings, tmp: Path, path: str, until: Callable[[Any], bool] = lambda _: True,
         timeout: float = 20.0, **overrides: Any) -> Any:
    """GET path from the backend app (the one the backend tests serve, on the test database, no
    response cache) until ``until(body["data"])`` holds or timeout passes; returns the last data."""
    static = tmp / "api-static"
    static.mkdir(exist_ok=True)

    async def get() -> Any:
        app = create_app(settings.replace(cache_dir="off", static_dir=str(static), **overrides))
        async with TestClient(TestServer(app)) as client:
            deadline = time.monotonic() + timeout
            while True:
                resp = await client.get(path)
                body = await resp.json()
                assert resp.status == 200, (path, body)
                if until(body["data"]) or time.monotonic() > deadline:
                    return body["data"]
                await asyncio.sleep(0.25)

    return asyncio.run(get())


def test_wide_foreach_on_ray_matches_a_local_run(ray_env: dict[str, str], flowscope_env: dict[str, str],
                                                 s3: dict[str, str], db: Any, tmp_path: Path) -> None:
    res = run_flow(ray_env, RAY_FLOWS / "wide_flow.py", "run", "--with", "ray", "--n", "200",
                   tmp=tmp_path, timeout=900)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    local = run_flow({**flowscope_env, **s3}, RAY_FLOWS / "wide_flow.py", "run", "--n", "200",
                     tmp=tmp_path, timeout=600)
    assert local.returncode == 0, local.stderr[-3000:]
    on_ray, here = run_row(db, "WideFlow", res.run_id), run_row(db, "WideFlow", local.run_id)
    assert on_ray["status"] == "completed"
    assert _artifact_shas(db, on_ray["run_pk"]) == _artifact_shas(db, here["run_pk"])
    work = task_rows(db, on_ray["run_pk"], "work")
    assert len(work) == 200
    nodes = set()
    for t in work:
        meta = _metadata(db, t["task_pk"])
        assert meta[(0, "executor")] == "ray"
        assert meta[(0, "host")] == socket.gethostname()
        nodes.add(meta[(0, "node-id")])
    assert len(nodes) >= 2, "200 one-CPU tasks should spread over more than one node"
    # Live logs went through the same log store as local tasks: each task's output is a chunk.
    with db.cursor() as cur:
        cur.execute("""SELECT count(DISTINCT task_pk) FROM log_chunks WHERE run_pk = %s AND stream = 'stdout'
                       AND task_pk = ANY(%s)""", (on_ray["run_pk"], [t["task_pk"] for t in work]))
        assert cur.fetchone()[0] == 200
    local_work = task_rows(db, here["run_pk"], "work")
    assert _metadata(db, local_work[0]["task_pk"])[(0, "executor")] == "local"


def test_a_request_only_one_node_can_take_runs_there(ray_env: dict[str, str], cluster: LocalRayCluster,
                                                     db: Any, tmp_path: Path) -> None:
    res = run_flow(ray_env, RAY_FLOWS / "placement_flow.py", "run", "--with", "ray", tmp=tmp_path, timeout=300)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    run = run_row(db, "PlacementFlow", res.run_id)
    big = task_rows(db, run["run_pk"], "big")[0]
    meta = _metadata(db, big["task_pk"])
    assert meta[(0, "node-id")] == _node_ids(cluster)["big"]
    assert '"CPU": 3.0' in meta[(0, "node-resources")]


def test_a_request_no_node_can_take_fails_at_once_with_the_largest_node(ray_env: dict[str, str], db: Any,
                                                                        tmp_path: Path) -> None:
    started = time.monotonic()
    res = run_flow(ray_env, RAY_FLOWS / "infeasible_flow.py", "run", tmp=tmp_path, timeout=300)
    assert res.returncode == 1
    run = run_row(db, "InfeasibleFlow", res.run_id)
    assert run["status"] == "failed"
    assert "can take the request cpu=64, memory=1024 MB" in run["status_reason"]
    assert "the largest node" in run["status_reason"] and "cpu=3" in run["status_reason"]
    assert time.monotonic() - started < 240   # refused, not left pending


def test_kubernetes_and_retry_step_on_ray(ray_env: dict[str, str], db: Any, tmp_path: Path) -> None:
    from tests.runtime.test_remote_decorators import FLOW, check_kubernetes_retry_run

    res = run_flow(ray_env, FLOW, "run", tmp=tmp_path, timeout=300)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    train = check_kubernetes_retry_run(db, res.run_id)
    meta = _metadata(db, train["task_pk"])
    assert meta[(0, "executor")] == "ray" and meta[(1, "executor")] == "ray"
    assert (None, "remote-compute") not in meta     # it did run on the cluster: no notice


def _wait_for(path: Path, proc: subprocess.Popen[str], timeout: float = 180) -> int:
    """The pid a flow's step wrote to path, once it is there."""
    deadline = time.monotonic() + timeout
    while not (path.exists() and path.read_text().strip()):
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.5)
    return int(path.read_text())


def _gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat", encoding="utf-8") as fh:
                if fh.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except OSError:
            return True
        time.sleep(0.5)
    return False


def _run_id(id_file: Path, proc: subprocess.Popen[str], timeout: float = 180) -> str:
    """The run id the flow writes once its run exists (written whole: see core_runtime/cli/output_files.py)."""
    deadline = time.monotonic() + timeout
    while not id_file.exists():
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        assert time.monotonic() < deadline, f"{id_file} never appeared"
        time.sleep(0.2)
    run_id = id_file.read_text()
    assert run_id.isdigit(), run_id
    return run_id


def _start(env: dict[str, str], flow: str, tmp_path: Path) -> tuple[subprocess.Popen[str], Path]:
    id_file = tmp_path / f"run-id-{flow}"
    proc = subprocess.Popen([sys.executable, str(RAY_FLOWS / flow), "run", "--run-id-file", str(id_file)],
                            env=env, cwd=str(RAY_FLOWS), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return proc, id_file


def test_timeout_cancels_the_attempt_and_kills_its_process_on_the_node(
        ray_env: dict[str, str], cluster: LocalRayCluster, db: Any, tmp_path: Path) -> None:
    proc, id_file = _start(ray_env, "timeout_flow.py", tmp_path)
    try:
        out, _ = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 1, out[-3000:]
    run = run_row(db, "RayTimeoutFlow", id_file.read_text())
    # As in Metaflow, @timeout raises TimeoutException in the step at the limit (on its node too).
    assert run["status_reason"].startswith("step slow failed: TimeoutException: timeout after 6 s"), run
    marker = Path(cluster.env["MARKER_DIR"]) / f"timeout-{run['run_id']}.pid"
    assert marker.exists(), "the step never started on the cluster"
    assert _gone(int(marker.read_text()), 30), "the timed-out task process still runs on its node"


def test_a_killed_driver_leaves_nothing_running_on_the_cluster(
        ray_env: dict[str, str], cluster: LocalRayCluster, db: Any, settings: Settings, tmp_path: Path) -> None:
    proc, id_file = _start(ray_env, "sleeper_flow.py", tmp_path)
    try:
        run_id = _run_id(id_file, proc)
        pid = _wait_for(Path(cluster.env["MARKER_DIR"]) / f"sleeper-{run_id}.pid", proc)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # Ray ends a dead driver's job and its workers; the task process dies with its worker.
    assert _gone(pid, 90), "the task process outlived its driver"
    run = run_row(db, "SleeperFlow", id_file.read_text())
    assert run["status"] == "running"      # nothing could write; readers report "heartbeat lost"
    # The API shows the run failed with its heartbeat reason, once the last sign of life (the
    # driver's or the task's heartbeat) is older than the timeout (short here, as in tests/backend).
    shown = _api(settings, tmp_path, f"/api/flows/SleeperFlow/runs/{run['run_id']}",
                 until=lambda r: r["status"] == "failed", heartbeat_timeout=3.0)
    assert shown["status"] == "failed", shown
    assert shown["status_reason"].startswith("heartbeat lost at "), shown["status_reason"]
    assert "(no signal for over 3 s)" in shown["status_reason"], shown["status_reason"]

def _node_running(cluster: LocalRayCluster, pid: int) -> Any:
    """The node whose processes include the Ray worker that started the task process pid."""
    with open(f"/proc/{pid}/stat", encoding="utf-8") as fh:
        ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
    for node in cluster.nodes:
        if ppid in node.pids():
            return node
    raise AssertionError(f"no node of the test cluster runs pid {pid} (parent {ppid})")


def test_a_killed_node_fails_the_attempt_as_node_lost_and_retry_runs_elsewhere(
        ray_env: dict[str, str], cluster: LocalRayCluster, db: Any, settings: Settings, tmp_path: Path) -> None:
    marker = Path(cluster.env["NODE_LOSS_MARKER"])
    node_ids = _node_ids(cluster)
    id_file = tmp_path / "run-id"
    proc = subprocess.Popen([sys.executable, str(RAY_FLOWS / "node_loss_flow.py"), "run", "--run-id-file",
                             str(id_file)], env=ray_env, cwd=str(RAY_FLOWS), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 180
        while not (marker.exists() and marker.read_text().strip()) and time.monotonic() < deadline:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            time.sleep(0.5)
        assert marker.exists(), "attempt 0 never started"
        victim = _node_running(cluster, int(marker.read_text()))
        assert victim.name != "head"        # cpu=2 fits only the two worker nodes
        victim.kill(signal.SIGKILL)
        out, _ = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out[-4000:]
    run = run_row(db, "NodeLossFlow", id_file.read_text())
    fragile = task_rows(db, run["run_pk"], "fragile")[0]
    attempts = attempt_rows(db, fragile["task_pk"])
    assert [a["status"] for a in attempts] == ["failed", "completed"]
    assert attempts[0]["status_reason"].startswith("node lost: Ray node "), attempts[0]["status_reason"]
    meta = _metadata(db, fragile["task_pk"])
    assert meta[(0, "node-id")] != meta[(1, "node-id")]
    # What the UI reads (the backend API): the failed attempt with its "node lost" reason naming the
    # killed node, and each attempt's node in the task's metadata.
    (victim_res,) = [r for r in ("big", "small") if r in victim.resources]
    victim_id = node_ids[victim_res]
    task = f"/api/flows/NodeLossFlow/runs/{run['run_id']}/steps/fragile/tasks/{fragile['task_id']}"
    shown = _api(settings, tmp_path, task)
    assert shown["status"] == "completed" and shown["attempt"] == 1, shown
    first, second = shown["attempts"]
    assert (first["attempt"], first["status"], second["status"]) == (0, "failed", "completed"), shown["attempts"]
    assert first["status_reason"] == (f"node lost: Ray node {socket.gethostname()} ({victim_id[:12]}) "
                                      "died while the task ran"), first["status_reason"]
    placed = {(m["attempt"], m["field_name"]): m["value"] for m in _api(settings, tmp_path, f"{task}/metadata")
              if m["type"] == "executor"}
    assert placed[(0, "node-id")] == victim_id, placed
    assert placed[(1, "node-id")] not in (victim_id, node_ids["head"]), placed   # cpu=2: the other worker
    assert placed[(0, "host")] == placed[(1, "host")] == socket.gethostname()


def test_the_cluster_going_away_fails_the_run_with_a_clear_reason(
        ray_env: dict[str, str], cluster: LocalRayCluster, db: Any, tmp_path: Path) -> None:
    """Last: it kills the head node, and with it the cluster."""
    proc, id_file = _start({**ray_env, "FLOWSCOPE_HEARTBEAT_INTERVAL": "1"}, "sleeper_flow.py", tmp_path)
    try:
        run_id = _run_id(id_file, proc)
        _wait_for(Path(cluster.env["MARKER_DIR"]) / f"sleeper-{run_id}.pid", proc)
        cluster.nodes[0].kill(signal.SIGKILL)
        out, _ = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 1, out[-3000:]
    run = run_row(db, "SleeperFlow", id_file.read_text())
    assert run["status"] == "failed"
    assert f"the Ray cluster at {cluster.address} went away" in run["status_reason"], run["status_reason"]
    nap = task_rows(db, run["run_pk"], "nap")[0]
    assert nap["status"] == "failed"      # nothing is left "running"
