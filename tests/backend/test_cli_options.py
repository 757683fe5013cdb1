"""Bad start-up input is one error line, never a traceback. A bad value given on the command line
is reported under the option that carried it (not the environment variable the user never set),
as one `error: …` line and exit status 1, before any database or port is touched."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest


def _cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("FLOWSCOPE_")}
    base.update(FLOWSCOPE_HOME=str(tmp_path / "home"), **env)
    return subprocess.run([sys.executable, "-m", "backend.cli", *args], env=base,
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("args,expected", [
    (("serve", "--port", "0"), "error: --port 0: expected a TCP port, 1 to 65535, got 0\n"),
    (("serve", "--port", "70000"), "error: --port 70000: expected a TCP port, 1 to 65535, got 70000\n"),
    (("serve", "--workers", "0"), "error: --workers 0: expected a positive number, got 0\n"),
    (("demo", "--port", "-1", "--no-serve"), "error: --port -1: expected a TCP port, 1 to 65535, got -1\n"),
])
def test_bad_option_value_names_the_option(tmp_path: Path, args: tuple[str, ...], expected: str) -> None:
    result = _cli(tmp_path, *args)
    assert (result.returncode, result.stderr, result.stdout) == (1, expected, "")
    assert not (tmp_path / "home").exists()


def test_bad_variable_still_names_the_variable(tmp_path: Path) -> None:
    result = _cli(tmp_path, "serve", FLOWSCOPE_PORT="0")
    assert (result.returncode, result.stderr) == (1, "error: FLOWSCOPE_PORT=0: expected a TCP port, 1 to 65535, got 0\n")
    result = _cli(tmp_path, "serve", FLOWSCOPE_INGEST_PORT="65536")
    assert (result.returncode, result.stderr) == (
        1, "error: FLOWSCOPE_INGEST_PORT=65536: expected a TCP port, 1 to 65535, got 65536\n")
    assert not (tmp_path / "home").exists()


def test_ingest_bad_port_names_the_option(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWSCOPE_")}
    env["FLOWSCOPE_HOME"] = str(tmp_path / "home")
    result = subprocess.run([sys.executable, "-m", "backend.ingest", "--port", "70000"], env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert (result.returncode, result.stderr) == (
        2, "flowscope ingest: --port 70000: expected a TCP port, 1 to 65535, got 70000\n")
    assert not (tmp_path / "home").exists()


def test_ingest_on_a_port_in_use_is_one_error_line(flowscope_env: dict[str, str]) -> None:
    """`python -m backend.ingest` (docs/metaflow.md's standalone command) on a taken port: a
    message naming the address, exit 2 — it was an OSError traceback from aiohttp's bind."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "backend.ingest", "--port", str(port)],
                                env=flowscope_env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1].startswith(f"flowscope ingest: cannot listen on 127.0.0.1:{port}: ")
    assert "address already in use" in result.stderr.splitlines()[-1]
