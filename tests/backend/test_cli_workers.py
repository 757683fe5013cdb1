"""`flowscope serve --workers 2`: two processes answer on one port (SO_REUSEPORT); a worker that
dies is started again; stopping the first process stops them all."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.server_procs import free_port, wait_ready

REPO = Path(__file__).resolve().parents[2]


def pids_answering(port: int, tries: int = 60) -> set[int]:
    """The processes behind the port: a new connection per request lands on either."""
    seen = set()
    for _ in range(tries):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/-/status", timeout=10) as r:
            process = json.load(r)["data"]["process"]
            assert process["workers"] == 2 and process["rss_bytes"] > 0
            seen.add(int(process["pid"]))
    return seen


def workers_of(parent: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(parent), "-f", "serve --reuse-port"], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def test_two_workers_share_the_port_and_one_is_restarted(flowscope_env: dict[str, str], tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "backend.cli", "serve", "--no-ingest", "--port", str(port),
                                 "--workers", "2"], cwd=REPO, env=flowscope_env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_ready(f"http://127.0.0.1:{port}/api/-/version", proc, log, timeout=60)
        deadline = time.monotonic() + 60
        while len(pids := pids_answering(port)) < 2 and time.monotonic() < deadline:
            time.sleep(0.5)    # the worker starts once the first process listens
        assert len(pids) == 2 and proc.pid in pids, log.read_text()
        assert "2 processes: Flowscope is serving at" in log.read_text()
        (worker,) = workers_of(proc.pid)
        os.kill(worker, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while (now := workers_of(proc.pid)) in ([], [worker]) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert len(now) == 1 and now[0] != worker, log.read_text()
        assert f"worker {worker} exited" in log.read_text()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0
        time.sleep(0.5)
        assert subprocess.run(["kill", "-0", str(now[0])], capture_output=True).returncode != 0, "worker left behind"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_workers_stop_when_the_serving_process_is_killed(flowscope_env: dict[str, str], tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "backend.cli", "serve", "--no-ingest", "--port", str(port),
                                 "--workers", "2"], cwd=REPO, env=flowscope_env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_ready(f"http://127.0.0.1:{port}/api/-/version", proc, log, timeout=60)
        deadline = time.monotonic() + 30
        while not (workers := workers_of(proc.pid)) and time.monotonic() < deadline:
            time.sleep(0.3)
        (worker,) = workers
        proc.kill()          # no chance to stop its workers
        proc.wait()
        deadline = time.monotonic() + 20
        while subprocess.run(["kill", "-0", str(worker)], capture_output=True).returncode == 0:
            assert time.monotonic() < deadline, "the orphaned worker kept serving"
            time.sleep(0.3)
        assert "is gone; stopping" in log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
