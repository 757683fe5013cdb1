"""Servers the tests run as real processes: a free port, start and wait until a URL answers, stop."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60.0,
               headers: Mapping[str, str] | None = None) -> None:
    """Poll ``url`` until it answers; fail with the server's log if it exits or takes too long."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=dict(headers or {})), timeout=2):
                return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                stop_server(proc)
                raise AssertionError(f"{url} did not come up:\n{log.read_text()[-3000:]}") from None
            time.sleep(0.2)


def start_server(args: Sequence[str], env: Mapping[str, str], log: Path, ready_url: str,
                 timeout: float = 60.0, headers: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start ``args`` (output appended to ``log``) and return once ``ready_url`` answers."""
    with log.open("ab") as out:
        proc = subprocess.Popen(list(args), env=dict(env), cwd=str(REPO), stdout=out, stderr=subprocess.STDOUT)
    wait_ready(ready_url, proc, log, timeout, headers)
    return proc


def stop_server(proc: subprocess.Popen[bytes] | None, timeout: float = 10.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
