"""What the start-up probe tries from inside the sandbox, as a hostile pickle would.

Each attempt is harmless if it succeeds (signal 0, a UDP datagram to the discard port, a fork
whose child exits at once, a file in a directory the server made for the probe), so the probe
can run on every start. The result is "blocked: <why>" or "POSSIBLE", shown at /api/-/status.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from typing import Any

# Variables the parent passes on purpose (PATH for library loaders, thread caps, TMPDIR/HOME).
EXPECTED_ENV = frozenset({"PATH", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                          "TMPDIR", "HOME", "LANG", "LC_ALL", "LC_CTYPE"})   # LC_CTYPE: Python's own locale coercion


def _environment(_: dict[str, Any]) -> None:
    extra = sorted(set(os.environ) - EXPECTED_ENV)
    if extra:
        raise AssertionError(f"unexpected variables: {', '.join(extra[:5])}")
    raise PermissionError(f"clean: only {', '.join(sorted(os.environ))}")


def _server_environ(cfg: dict[str, Any]) -> None:
    with open(f"/proc/{cfg['server_pid']}/environ", "rb") as f:
        f.read(1)


def _read_file(cfg: dict[str, Any]) -> None:
    with open(cfg["secret_file"], "rb") as f:
        f.read(1)


def _write_file(cfg: dict[str, Any]) -> None:
    with open(os.path.join(cfg["write_dir"], "escaped"), "w") as f:
        f.write("x")


def _network(_: dict[str, Any]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(b"", ("127.0.0.1", 9))


def _fork(_: dict[str, Any]) -> None:
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)


def _signal(cfg: dict[str, Any]) -> None:
    os.kill(int(cfg["server_pid"]), 0)


def _memory(cfg: dict[str, Any]) -> None:
    bytearray(int(cfg["memory_mb"]) * 2 * 1024 * 1024)


ATTEMPTS: dict[str, Callable[[dict[str, Any]], None]] = {
    "read the environment": _environment,
    "read the server's /proc environ": _server_environ,
    "read a file outside the sandbox": _read_file,
    "write a file outside scratch": _write_file,
    "send a network packet": _network,
    "fork": _fork,
    "signal the server": _signal,
    "allocate twice the memory cap": _memory,
}


def run_all(cfg: dict[str, Any]) -> dict[str, str]:
    out = {}
    for name, attempt in ATTEMPTS.items():
        try:
            attempt(cfg)
        except (OSError, MemoryError, AssertionError) as exc:
            if isinstance(exc, AssertionError):
                out[name] = f"POSSIBLE ({exc})"
            else:
                out[name] = f"blocked: {getattr(exc, 'strerror', None) or str(exc) or type(exc).__name__}"
            continue
        out[name] = "POSSIBLE"
    return out
