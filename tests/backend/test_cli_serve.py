"""`flowscope serve` starts the UI API and the Metaflow ingest service; `flowscope migrate`."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_line(proc: subprocess.Popen, needle: str, timeout: float = 120) -> list[str]:
    seen: list[str] = []
    deadline = time.time() + timeout
    assert proc.stdout is not None
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if needle in line:
            return seen
    raise AssertionError(f"{needle!r} not printed; output: {''.join(seen)}")


def _stop(proc: subprocess.Popen) -> str:
    """SIGINT, then all the output once the server has exited (communicate, not wait: it keeps
    reading, so a full pipe cannot block the exit). A server still running 60 s later is made to
    print its threads' stacks (PYTHONFAULTHANDLER, on SIGABRT), so the failure says where it hung."""
    proc.send_signal(signal.SIGINT)
    try:
        out, _ = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGABRT)
        out, _ = proc.communicate(timeout=30)
        raise AssertionError(f"serve did not stop within 60 s of SIGINT; its threads:\n{out[-8000:]}") from None
    return str(out)


def test_serve_runs_ui_and_ingest_and_stops_on_sigint(flowscope_env):
    ui_port, ingest_port = _free_port(), _free_port()
    env = dict(flowscope_env, FLOWSCOPE_INGEST_PORT=str(ingest_port), PYTHONFAULTHANDLER="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "backend.cli", "serve", "--port", str(ui_port)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        _wait_for_line(proc, f"Metaflow ingest service at http://127.0.0.1:{ingest_port}/")
        with urllib.request.urlopen(f"http://127.0.0.1:{ui_port}/api/-/version", timeout=10) as r:
            assert json.load(r)["data"]["version"]
        with urllib.request.urlopen(f"http://127.0.0.1:{ingest_port}/ping", timeout=10) as r:
            assert r.headers["METADATA_SERVICE_VERSION"] == "2.5.1"
        out = _stop(proc)
        assert proc.returncode == 0, out[-2000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_serve_without_ingest(flowscope_env):
    ui_port, ingest_port = _free_port(), _free_port()
    env = dict(flowscope_env, FLOWSCOPE_INGEST_PORT=str(ingest_port), PYTHONFAULTHANDLER="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "backend.cli", "serve", "--port", str(ui_port), "--no-ingest"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        _wait_for_line(proc, "Flowscope is serving at")
        with socket.socket() as s:  # nothing listens on the ingest port
            assert s.connect_ex(("127.0.0.1", ingest_port)) != 0
        out = _stop(proc)
        assert proc.returncode == 0, out[-2000:]
    finally:
        if proc.poll() is None:   # the assertion above failed: do not leave the server running
            proc.kill()
            proc.communicate()


def test_migrate_command(flowscope_env):
    result = subprocess.run(
        [sys.executable, "-m", "backend.cli", "migrate"], cwd=REPO, env=flowscope_env,
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "schema is up to date" in result.stdout


def test_migrate_needs_a_writer_dsn(flowscope_env):
    env = {k: v for k, v in flowscope_env.items() if k != "FLOWSCOPE_DSN"}
    result = subprocess.run(
        [sys.executable, "-m", "backend.cli", "migrate"], cwd=REPO, env=env,
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == "error: flowscope migrate needs FLOWSCOPE_DSN (the writer role)"
