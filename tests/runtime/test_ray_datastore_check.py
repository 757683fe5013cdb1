"""The Ray executor refuses a run whose datastore the cluster's nodes cannot read, before the run
row exists. A real one-node Ray cluster on this machine whose node holds no S3 credentials (as a
node without an instance role would), and the driver's datastore on moto's S3 server (an S3
emulator): the driver can write it, the node cannot read it back.

Its own module, so its cluster never runs beside the one of test_ray_executor.py.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.ray_cluster import LocalRayCluster, ray_available
from tests.runtime.conftest import run_flow
from tests.runtime.test_ray_executor import RAY_FLOWS, s3  # noqa: F401 - s3 is a fixture used here

pytestmark = [pytest.mark.skipif(ray_available() is not None, reason=str(ray_available())),
              pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def cluster_without_credentials() -> Iterator[LocalRayCluster]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    # Nowhere to find credentials: no files, no instance metadata service (never asked: no network).
    env.update(RAY_USAGE_STATS_ENABLED="0", AWS_SHARED_CREDENTIALS_FILE="/nonexistent",
               AWS_CONFIG_FILE="/nonexistent", AWS_EC2_METADATA_DISABLED="true")
    c = LocalRayCluster(env)
    try:
        c.start([(1, {"head": 1})], memory_mb=1024)
        yield c
    finally:
        c.stop()


def _runs(db: Any, flow: str) -> int:
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM runs WHERE flow_id = %s", (flow,))
        return int(cur.fetchone()[0])


def test_a_datastore_the_nodes_cannot_read_is_refused_before_the_run_exists(
        flowscope_env: dict[str, str], s3: dict[str, str],  # noqa: F811 - the fixture imported above
        cluster_without_credentials: LocalRayCluster, db: Any, tmp_path: Path) -> None:
    env = {**flowscope_env, **s3, "FLOWSCOPE_RAY_ADDRESS": cluster_without_credentials.address,
           "RAY_USAGE_STATS_ENABLED": "0"}
    before = _runs(db, "WideFlow")
    started = time.monotonic()
    res = run_flow(env, RAY_FLOWS / "wide_flow.py", "run", "--with", "ray", "--n", "2", tmp=tmp_path, timeout=300)
    assert res.returncode != 0, res.stdout[-2000:] + res.stderr[-2000:]
    out = res.stdout + res.stderr
    # One clear line: which datastore, which node, why, and what to do.
    assert f"the datastore s3://runs/flowscope is not shared with Ray node {socket.gethostname()} (" in out, out[-3000:]
    assert "cannot read _flowscope/probe/" in out and "no AWS credentials" in out, out[-3000:]
    assert "Every node must see the same datastore: use s3://bucket/prefix" in out, out[-3000:]
    assert "Traceback" not in out, out[-3000:]
    # Refused before anything was recorded: no run row, no run id.
    assert res.run_id is None
    assert _runs(db, "WideFlow") == before
    assert time.monotonic() - started < 240      # refused, not left waiting
