"""A start-up error of `flowscope serve` is one `error: …` line on stderr and nothing else: no
traceback, no "Unclosed …" warnings from what the failed start had opened.

An unreachable FLOWSCOPE_LIVE_DSN failed in the live feed's start, after the reader pool had
opened its connections: the runner was only listed for cleanup once its setup had succeeded, so
nothing closed them ("ResourceWarning: Unclosed 10 connections in <ReaderPool …>"), and the
aiopg error came out as a traceback. The servers run with ResourceWarnings shown
(PYTHONWARNINGS), so anything left unclosed is on stderr for the check."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

UNREACHABLE = "postgresql://nobody@127.0.0.1:9/none?connect_timeout=5"
WHERE = "user=nobody connect_timeout=5 dbname=none host=127.0.0.1 port=9"


@pytest.fixture()
def taken_port() -> Iterator[int]:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield int(taken.getsockname()[1])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(env: dict[str, str], port: int, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {**env, "PYTHONWARNINGS": "default::ResourceWarning", **extra}
    return subprocess.run([sys.executable, "-m", "backend.cli", "serve", "--port", str(port)], env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stderr[-3000:]
    assert "Unclosed" not in result.stderr and "Traceback" not in result.stderr, result.stderr[-3000:]
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr[-3000:]
    return lines[0]


@pytest.mark.parametrize("uvloop", ["true", "false"])
def test_unreachable_live_dsn(flowscope_env: dict[str, str], uvloop: str) -> None:
    result = _serve(flowscope_env, _free_port(), FLOWSCOPE_LIVE_DSN=UNREACHABLE, FLOWSCOPE_UVLOOP=uvloop)
    line = _one_error_line(result)
    assert line.startswith(f"error: cannot connect to Postgres (FLOWSCOPE_LIVE_DSN) at {WHERE}: "), line
    assert "Connection refused" in line


def test_unreachable_reader_dsn(flowscope_env: dict[str, str]) -> None:
    line = _one_error_line(_serve(flowscope_env, _free_port(), FLOWSCOPE_READER_DSN=UNREACHABLE))
    assert line == f"error: cannot connect to Postgres (reader) at {WHERE}: Connection refused"


def test_ui_port_in_use(flowscope_env: dict[str, str], taken_port: int) -> None:
    line = _one_error_line(_serve(flowscope_env, taken_port))
    assert line == (f"error: cannot listen: error while attempting to bind on address "
                    f"('127.0.0.1', {taken_port}): address already in use")


def test_ingest_port_in_use_after_the_ui_started(flowscope_env: dict[str, str], taken_port: int) -> None:
    result = _serve(flowscope_env, _free_port(), FLOWSCOPE_INGEST_PORT=str(taken_port))
    assert "Flowscope is serving at" in result.stdout   # the UI's site was up, its pools open
    line = _one_error_line(result)
    assert line == (f"error: cannot listen: error while attempting to bind on address "
                    f"('127.0.0.1', {taken_port}): address already in use")


def test_unusable_cache_dir(flowscope_env: dict[str, str], tmp_path: Path) -> None:
    """Fails in the datastore's start, after the reader pool opened (its connections were left)."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    where = str(blocker / "cache")
    line = _one_error_line(_serve(flowscope_env, _free_port(), FLOWSCOPE_CACHE_DIR=where))
    assert line == (f"error: cannot create the on-disk cache at {where} (FLOWSCOPE_CACHE_DIR={where}): "
                    "Not a directory; set FLOWSCOPE_CACHE_DIR to a writable directory, or to off")
