"""Hostile artifacts recorded by a real ``metaflow`` run, opened through the artifact API.

The backend runs as its own process (``flowscope serve``) with a canary and its database
passwords in its environment; each artifact of tests/security/flows/hostile_flow.py tries one
attack when unpickled: read the server's environment, open a socket to a listener here, write a
file into a world-writable directory outside scratch, fork-bomb, allocate 10 GB, kill (and
ptrace) the server. Every attempt must fail, show as that artifact's error, and leave the server
and the other artifacts as they were.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.fault.procs import Backend
from tests.ingest.mf_harness import TOKEN, Ingest, metaflow_env
from tests.server_procs import free_port, start_server, stop_server

pytestmark = pytest.mark.compat

FLOW = Path(__file__).resolve().parent / "flows" / "hostile_flow.py"
CANARY = "FLOWSCOPE_CANARY_SECRET=c4n4ry-7d1e"
ATTACKS = ("read_env", "open_socket", "write_outside", "fork_bomb", "allocate_10gb", "kill_server")


class Listener:
    """A TCP listener that records every connection (the exfiltration target)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        self.connections: list[bytes] = []
        self.sock.settimeout(0.2)
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    self.connections.append(conn.recv(100))
                except OSError:
                    self.connections.append(b"")

    def close(self) -> None:
        self._stop = True
        self._thread.join(2)
        self.sock.close()


@dataclass
class Scene:
    backend: Backend
    pid: int
    base: str            # the end task's artifacts URL path
    listener: Listener
    outside: Path
    secrets: tuple[str, ...]

    def get(self, path: str) -> tuple[int, dict[str, Any], str]:
        try:
            with urllib.request.urlopen(self.backend.url + path, timeout=60) as resp:
                text = resp.read().decode()
                return resp.status, json.loads(text), text
        except urllib.error.HTTPError as err:
            text = err.read().decode()
            return err.code, json.loads(text), text


def _sandbox_processes() -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True, check=True).stdout
    return [line for line in out.splitlines() if "backend.sandbox.child" in line and "ps -eo" not in line]


@pytest.fixture(scope="module")
def scene(flowscope_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    tmp = tmp_path_factory.mktemp("hostile")
    ingest_port = free_port()
    ingest_env = dict(flowscope_env, FLOWSCOPE_INGEST_TOKEN=TOKEN)
    ingest_proc = start_server([sys.executable, "-m", "backend.ingest", "--port", str(ingest_port)], ingest_env,
                               tmp / "ingest.log", f"http://127.0.0.1:{ingest_port}/ping",
                               headers={"x-api-key": TOKEN})
    name, _, value = CANARY.partition("=")
    backend = Backend(dict(flowscope_env, **{name: value}), tmp / "backend.log")
    backend.start()
    listener = Listener()
    outside = tmp / "world-writable"
    outside.mkdir()
    outside.chmod(0o777)
    try:
        assert backend.proc is not None
        pid = backend.proc.pid
        env = metaflow_env(Ingest(f"http://127.0.0.1:{ingest_port}", tmp / "ingest.log"), tmp)
        subprocess.run([sys.executable, str(FLOW), "--no-pylint", "run", "--run-id-file", str(tmp / "id"),
                        "--target_pid", str(pid), "--listen_port", str(listener.port), "--outside", str(outside)],
                       cwd=tmp, env=env, check=True, capture_output=True, timeout=240)
        run_id = (tmp / "id").read_text().strip()
        tasks = backend.get(f"/api/flows/HostileFlow/runs/{run_id}/steps/end/tasks")["data"]
        base = f"/api/flows/HostileFlow/runs/{run_id}/steps/end/tasks/{tasks[0]['task_id']}/artifacts"
        secrets = (value, flowscope_env["FLOWSCOPE_DSN"], flowscope_env["FLOWSCOPE_READER_DSN"])
        yield Scene(backend, pid, base, listener, outside, secrets)
    finally:
        listener.close()
        backend.stop()
        stop_server(ingest_proc)


def test_the_sandbox_is_complete_here(scene: Scene) -> None:
    """The attacks below must be stopped by the sandbox, not by a refusal to unpickle at all."""
    _, status, _ = scene.get("/api/-/status")
    sandbox = status["data"]["artifact_worker"]["sandbox"]
    if sandbox["refusal"]:
        pytest.skip(f"this machine cannot build the whole sandbox: {sandbox['refusal']}")
    assert sandbox["possible"] == [] and sandbox["mode"] == "strict"


@pytest.mark.parametrize("attack", ATTACKS)
def test_attack_fails_and_shows_as_the_artifacts_error(scene: Scene, attack: str) -> None:
    began = time.monotonic()
    status, body, text = scene.get(f"{scene.base}/{attack}")
    took = time.monotonic() - began
    assert status == 200, body
    data = body["data"]
    assert data["value"] is None and data["render_error"], data
    assert "LEAKED" not in text and not any(secret in text for secret in scene.secrets), text
    # Nothing reached the outside world ...
    assert scene.listener.connections == []
    assert list(scene.outside.iterdir()) == []
    # ... the server is the same process and still answers, promptly ...
    assert scene.backend.proc is not None and scene.backend.proc.poll() is None
    assert scene.backend.get("/api/-/version")["data"]["version"]
    assert took < 30, f"{attack} took {took:.1f} s"
    # ... and no sandbox process is left behind (a fork bomb's children included).
    deadline = time.monotonic() + 5
    while _sandbox_processes() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _sandbox_processes() == []


def test_the_errors_say_what_stopped_each_attack(scene: Scene) -> None:
    errors = {attack: scene.get(f"{scene.base}/{attack}")[1]["data"]["render_error"] for attack in ATTACKS}
    assert "no server environment readable" in errors["read_env"]
    assert "Operation not permitted" in errors["open_socket"] or "unreachable" in errors["open_socket"]
    assert "Read-only file system" in errors["write_outside"] or "Permission denied" in errors["write_outside"]
    assert "Operation not permitted" in errors["fork_bomb"] or "Resource temporarily" in errors["fork_bomb"]
    assert "memory" in errors["allocate_10gb"]
    assert "Operation not permitted" in errors["kill_server"] or "No such process" in errors["kill_server"]


def test_other_artifacts_are_unaffected(scene: Scene) -> None:
    for attack in ATTACKS:   # in any order, after all the attacks
        scene.get(f"{scene.base}/{attack}")
    _, fine, _ = scene.get(f"{scene.base}/fine")
    assert fine["data"]["render_error"] is None
    assert fine["data"]["value"]["type"] == "numpy.ndarray" and "array([0, 1, 2, 3, 4])" in fine["data"]["value"]["text"]
    assert fine["data"]["value"]["decoder"] == "sandbox"
    _, plain, _ = scene.get(f"{scene.base}/plain")
    assert plain["data"]["value"]["json"] == {"answer": 42, "items": ["a", "b"]}
    assert plain["data"]["value"]["decoder"] == "safe"   # plain values need no sandbox
    assert scene.backend.proc is not None and scene.backend.proc.pid == scene.pid and scene.backend.proc.poll() is None
    # The raw bytes stay downloadable.
    with urllib.request.urlopen(f"{scene.backend.url}{scene.base}/kill_server/download", timeout=30) as resp:
        assert b"exec" in resp.read()
    assert os.path.isdir(scene.outside) and not any(scene.outside.iterdir())
