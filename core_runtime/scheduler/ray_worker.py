"""What runs inside a Ray worker for one task attempt (imported there, never on the driver's loop).

``run_attempt`` is a streaming Ray task: it yields where it landed, then the task process's output
as it is written, then how the process ended. The task process is the same one a local run forks
(``remote_task``), started with pipes for stdout/stderr, in its own process group; if Ray cancels
the attempt (timeout, run killed) the group is SIGKILLed, and if the worker dies the process gets
SIGKILL from the kernel (parent-death signal).
"""

from __future__ import annotations

import os
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from typing import Any

from core_runtime.scheduler.code_package import unpack_package

READ_BYTES = 65536


def _placement(pid: int) -> dict[str, Any]:
    import ray

    rc: Any = ray.get_runtime_context()     # Ray's API is partly untyped
    return {"node_id": rc.get_node_id(), "host": socket.gethostname(), "pid": pid,
            "resources": {k: float(v) for k, v in rc.get_assigned_resources().items()}}


def run_attempt(package: bytes, sha: str, spec: bytes) -> Iterator[tuple[str, Any]]:
    base = os.path.join(tempfile.gettempdir(), "flowscope-ray-code")
    os.makedirs(base, exist_ok=True)
    code_dir = unpack_package(package, sha, base)
    work = tempfile.mkdtemp(prefix="flowscope-attempt-")
    spec_path, result_path = os.path.join(work, "spec.pickle"), os.path.join(work, "result.json")
    with open(spec_path, "wb") as fh:
        fh.write(spec)
    import contract
    import core_runtime

    # Where Ray's runtime environment unpacked the two packages (each in a directory of its own).
    shipped = [os.path.dirname(os.path.dirname(os.path.abspath(m.__file__ or ""))) for m in (core_runtime, contract)]
    env = dict(os.environ, PYTHONUNBUFFERED="1",
               PYTHONPATH=os.pathsep.join(p for p in (*shipped, os.environ.get("PYTHONPATH")) if p))
    proc = subprocess.Popen(
        [sys.executable, "-m", "core_runtime.scheduler.remote_task", spec_path, result_path],
        cwd=code_dir, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True)
    try:
        yield ("placed", _placement(proc.pid))
        sel = selectors.DefaultSelector()
        assert proc.stdout is not None and proc.stderr is not None
        streams = {proc.stdout.fileno(): "stdout", proc.stderr.fileno(): "stderr"}
        for fd in streams:
            os.set_blocking(fd, False)
            sel.register(fd, selectors.EVENT_READ)
        while streams:
            ready = sel.select(timeout=1.0)
            if not ready and proc.poll() is not None:
                break   # exited; a process it started may hold the pipes open, don't wait for EOF
            for key, _mask in ready:
                try:
                    data = os.read(key.fd, READ_BYTES)
                except BlockingIOError:
                    continue
                if data:
                    yield (streams[key.fd], data)
                else:
                    sel.unregister(key.fd)
                    del streams[key.fd]
        sel.close()
        code = proc.wait()
        try:
            with open(result_path, encoding="utf-8") as fh:
                result = fh.read()
        except OSError:
            result = None
        yield ("end", {"returncode": code, "result": result})
    finally:
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            proc.wait()
        import shutil

        shutil.rmtree(work, ignore_errors=True)


def probe_datastore(settings: dict[str, Any], key: str, expected: bytes) -> dict[str, Any]:
    """Reads the marker the driver wrote; proves this node sees the same datastore."""
    from contract.datastore import open_datastore
    from contract.settings import load_settings

    out: dict[str, Any] = {"host": socket.gethostname()}
    try:
        ds = open_datastore(load_settings(environ={}, **settings))
        got = ds.get(key)
        out["ok"] = got == expected
        out["error"] = None if out["ok"] else f"{key} holds other bytes than the driver wrote"
    except Exception as exc:  # noqa: BLE001 - reported to the driver, which refuses the run
        out["ok"], out["error"] = False, f"{type(exc).__name__}: {exc}"
    return out
