"""`flowscope serve` starts the UI API and the Metaflow ingest service; `flowscope migrate`."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`flowscope serve` in a subprocess; a thread drains its output, so waiting for a line has a
    real deadline (a readline on the pipe blocks for as long as the server prints nothing) and a
    full pipe can never block the server."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "backend.cli", "serve", *args], cwd=REPO, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._drain, daemon=True)
        self.reader.start()

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for_line(self, needle: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while not any(needle in line for line in list(self.lines)):
            if self.proc.poll() is not None and not self.reader.is_alive():
                raise AssertionError(f"serve exited ({self.proc.returncode}) before printing {needle!r}:\n{self.output}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{needle!r} not printed within {timeout} s; output:\n{self.output}")
            time.sleep(0.05)

    def stop(self) -> str:
        """SIGINT, then all the output once the server has exited. A server still running 60 s
        later is made to print its threads' stacks (PYTHONFAULTHANDLER, on SIGABRT), so the
        failure says where it hung."""
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGABRT)
            self.proc.wait(timeout=30)
            self.reader.join(timeout=10)
            raise AssertionError(f"serve did not stop within 60 s of SIGINT; its threads:\n{self.output[-8000:]}") from None
        self.reader.join(timeout=10)
        return self.output

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def test_serve_runs_ui_and_ingest_and_stops_on_sigint(flowscope_env):
    ui_port, ingest_port = _free_port(), _free_port()
    env = dict(flowscope_env, FLOWSCOPE_INGEST_PORT=str(ingest_port), PYTHONFAULTHANDLER="1")
    server = Server(["--port", str(ui_port)], env)
    try:
        server.wait_for_line(f"Metaflow ingest service at http://127.0.0.1:{ingest_port}/")
        with urllib.request.urlopen(f"http://127.0.0.1:{ui_port}/api/-/version", timeout=10) as r:
            assert json.load(r)["data"]["version"]
        with urllib.request.urlopen(f"http://127.0.0.1:{ingest_port}/ping", timeout=10) as r:
            assert r.headers["METADATA_SERVICE_VERSION"] == "2.5.1"
        out = server.stop()
        assert server.proc.returncode == 0, out[-2000:]
    finally:
        server.kill()


def test_serve_without_ingest(flowscope_env):
    ui_port, ingest_port = _free_port(), _free_port()
    env = dict(flowscope_env, FLOWSCOPE_INGEST_PORT=str(ingest_port), PYTHONFAULTHANDLER="1")
    server = Server(["--port", str(ui_port), "--no-ingest"], env)
    try:
        server.wait_for_line("Flowscope is serving at")
        with socket.socket() as s:  # nothing listens on the ingest port
            assert s.connect_ex(("127.0.0.1", ingest_port)) != 0
        out = server.stop()
        assert server.proc.returncode == 0, out[-2000:]
    finally:
        server.kill()   # the assertion above failed: do not leave the server running


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


def _process_of(port: int) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/-/status", timeout=10) as r:
        process: dict[str, Any] = json.load(r)["data"]["process"]
        return process


def test_serve_runs_on_uvloop_unless_turned_off(flowscope_env):
    """FLOWSCOPE_UVLOOP (default on): the server's event loop is uvloop's; false: asyncio's. The
    same requests are answered either way (a run list needs the reader pool and its statements).
    Either way the objects start-up made are frozen out of the garbage collector's walks."""
    for setting, expected in ((None, "uvloop"), ("true", "uvloop"), ("false", "asyncio")):
        port = _free_port()
        env = dict(flowscope_env, PYTHONFAULTHANDLER="1")
        env.pop("FLOWSCOPE_UVLOOP", None)
        if setting is not None:
            env["FLOWSCOPE_UVLOOP"] = setting
        server = Server(["--port", str(port), "--no-ingest"], env)
        try:
            server.wait_for_line("Flowscope is serving at")
            process = _process_of(port)
            assert process["event_loop"] == expected, (setting, server.output[-2000:])
            # what start-up made is kept out of the collector's walks (backend/cli.py _freeze_startup)
            assert process["gc_frozen"] > 10_000, process
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/runs?limit=1", timeout=10) as r:
                assert r.status == 200 and "data" in json.load(r)
            out = server.stop()
            assert server.proc.returncode == 0, out[-2000:]
        finally:
            server.kill()
