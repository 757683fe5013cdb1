"""A metaflow-service source filled by real ``metaflow`` runs, and what Metaflow's Client says of them.

Runs (all through the v3 service, datastore local unless noted): LinearFlow with parameters and a
tag, later re-tagged from the Client (tag mutation); the same on S3 (moto's server, an S3
emulator); BranchFlow; ForeachFlow (a retried foreach task, a @catch step); FailingFlow (a
failing step); CardFlow (cards, a retried task); an orchestrator-style run with string ids
(``init`` + ``step``, like Argo); SlowFlow killed with SIGKILL mid-flight (heartbeats stop).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.ingest.mf_harness import AWS_DUMMY, FLOWS, client_read, run_flow
from tests.mirror.source_harness import SourceDb, V3Service, metaflow_env

MIRROR_FLOWS = Path(__file__).with_name("flows")
ARGO_RUN = "argo-mirror-7x2k"
BUCKET = "mirror-bucket"

CLIENT_DUMP = """
out = {}
for name in FLOW_NAMES:
    for run in Flow(name):
        r = {'id': run.id, 'finished': run.finished, 'successful': run.successful,
             'tags': sorted(run.user_tags), 'system_tags': sorted(run.system_tags), 'tasks': {}}
        for st in run:
            for task in st:
                t = {'step': st.id, 'finished': task.finished, 'successful': task.successful,
                     'attempt': task.current_attempt, 'index': task.index,
                     'artifacts': sorted(a.id for a in task), 'stdout': task.stdout, 'stderr': task.stderr}
                r['tasks'][task.pathspec] = t
        first = run['start'].task if 'start' in [s.id for s in run] else None
        r['params'] = {p: getattr(first.data, p) for p in PARAMS.get(name, [])} if first else {}
        out[run.pathspec] = r
print(json.dumps(out))
"""
FLOW_NAMES = ["LinearFlow", "BranchFlow", "ForeachFlow", "FailingFlow", "CardFlow", "SlowFlow"]
PARAMS = {"LinearFlow": ["alpha", "label"]}


@dataclass
class History:
    source: SourceDb
    sysroot: Path
    s3_endpoint: str
    linear: str           # run ids
    linear_s3: str
    killed: str
    client: dict[str, Any]


def _kill_mid_flight(env: dict[str, str], cwd: Path) -> str:
    mark = cwd / "slow-started"
    run_id_file = cwd / "slow-run-id"
    env = dict(env, SLOW_FLOW_MARK=str(mark), SLOW_FLOW_SECONDS="300")
    proc = subprocess.Popen([sys.executable, str(MIRROR_FLOWS / "slow_flow.py"), "--no-pylint", "run",
                             "--run-id-file", str(run_id_file)], cwd=cwd, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 180
    while not mark.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError("SlowFlow did not reach its wait step")
        time.sleep(0.2)
    time.sleep(1.0)
    os.killpg(proc.pid, signal.SIGKILL)     # the runtime, the task and its heartbeat sidecars
    proc.wait()
    return run_id_file.read_text().strip()


def fill(source: SourceDb, service: V3Service, tmp: Path, s3_endpoint: str) -> History:
    env = metaflow_env(service, tmp)
    rid = tmp / "run-id"
    run_flow("linear_flow.py", ["run", "--alpha", "0.25", "--label", "mirrored", "--tag", "nightly",
                                "--run-id-file", str(rid)], env, tmp)
    linear = rid.read_text().strip()
    s3 = dict(env, METAFLOW_DEFAULT_DATASTORE="s3", METAFLOW_DATASTORE_SYSROOT_S3=f"s3://{BUCKET}/mf",
              METAFLOW_S3_ENDPOINT_URL=s3_endpoint, **AWS_DUMMY)
    run_flow("linear_flow.py", ["run", "--run-id-file", str(rid)], s3, tmp)
    linear_s3 = rid.read_text().strip()
    run_flow("branch_flow.py", ["run"], env, tmp)
    run_flow("foreach_flow.py", ["run"], env, tmp)
    run_flow("failing_flow.py", ["run"], env, tmp, expect_ok=False)
    run_flow("card_flow.py", ["run"], env, tmp)
    run_flow("linear_flow.py", ["init", "--run-id", ARGO_RUN, "--task-id", "t-params"], env, tmp)
    run_flow("linear_flow.py", ["step", "start", "--run-id", ARGO_RUN, "--task-id", "t-start",
                                "--input-paths", f"{ARGO_RUN}/_parameters/t-params"], env, tmp)
    client_read(f"r = Run('LinearFlow/{linear}')\nr.add_tag('reviewed')\nr.remove_tag('nightly')\n"
                "print(json.dumps(sorted(r.user_tags)))", env, tmp)
    killed = _kill_mid_flight(env, tmp)
    dump = f"FLOW_NAMES = {FLOW_NAMES!r}\nPARAMS = {PARAMS!r}\n" + CLIENT_DUMP
    # The Client picks each task's datastore from its ds-type/ds-root metadata: local and S3 alike.
    client = client_read(dump, dict(env, METAFLOW_S3_ENDPOINT_URL=s3_endpoint, **AWS_DUMMY), tmp)
    return History(source, tmp / ".metaflow", s3_endpoint, linear, linear_s3, killed, client)


__all__ = ["FLOWS", "History", "fill"]
