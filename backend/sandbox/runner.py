"""Starting one sandboxed child (backend/sandbox/child.py) and collecting its answer, bounded.

The child gets a fixed environment (never the server's: no DSNs, tokens or cloud keys), its own
session (so the whole process group can be killed), a fresh scratch directory, the pickle on
stdin, and a deadline. Its output is untrusted too: at most ``max_output`` bytes are read (a
pickle could print gigabytes), and it must be one JSON object.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import sys
import tempfile
from dataclasses import dataclass
from typing import Any

CHILD_MODULE = "backend.sandbox.child"
STDERR_BYTES = 16 * 1024


@dataclass
class Outcome:
    result: dict[str, Any] | None     # the child's JSON object
    timed_out: bool = False
    error: str | None = None          # why there is no result


def child_env(scratch: str) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "TMPDIR": scratch, "HOME": scratch,
            "LANG": "C.UTF-8"}


def kill_group(proc: asyncio.subprocess.Process) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)   # the child leads its own session and group
    except (ProcessLookupError, PermissionError):
        pass


async def _read_bounded(stream: asyncio.StreamReader, limit: int,
                        proc: asyncio.subprocess.Process) -> tuple[bytes, bool]:
    """Up to ``limit`` bytes; past that the child is killed and the rest read and dropped."""
    chunks: list[bytes] = []
    size = 0
    while chunk := await stream.read(65536):
        size += len(chunk)
        if size > limit:
            kill_group(proc)
            await _drain(stream)
            return b"", True
        chunks.append(chunk)
    return b"".join(chunks), False


async def _drain(stream: asyncio.StreamReader) -> None:
    while await stream.read(65536):
        pass


async def _reap(proc: asyncio.subprocess.Process) -> None:
    """Kill the child's process group and wait for it, reading its pipes to EOF meanwhile: a
    pipe whose reader stopped never reports EOF, and asyncio's wait() waits for that too."""
    kill_group(proc)
    assert proc.stdout and proc.stderr
    try:
        async with asyncio.timeout(5):
            await asyncio.gather(_drain(proc.stdout), _drain(proc.stderr), proc.wait())
    except TimeoutError:   # something outside the group still holds a pipe open
        transport = getattr(proc, "_transport", None)
        if transport is not None:
            transport.close()


async def run_child(config: dict[str, Any], data: bytes, timeout: float, max_output: int,
                    scratch_root: str | None = None,
                    procs: set[asyncio.subprocess.Process] | None = None) -> Outcome:
    scratch = tempfile.mkdtemp(prefix="flowscope-sandbox-", dir=scratch_root)
    config = dict(config, scratch=scratch, parent_pid=os.getpid())
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-I", "-B", "-m", CHILD_MODULE, json.dumps(config),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env=child_env(scratch), cwd=scratch, start_new_session=True)
    if procs is not None:
        procs.add(proc)
    assert proc.stdin and proc.stdout and proc.stderr

    async def feed() -> None:
        try:
            proc.stdin.write(data)   # type: ignore[union-attr]
            await proc.stdin.drain()   # type: ignore[union-attr]
        except (BrokenPipeError, ConnectionResetError):
            pass   # it stopped reading (it failed, or the pickle ended early): its output says why
        finally:
            proc.stdin.close()   # type: ignore[union-attr]

    try:
        async with asyncio.timeout(timeout):
            _, (out, out_over), (err, _) = await asyncio.gather(
                feed(), _read_bounded(proc.stdout, max_output, proc),
                _read_bounded(proc.stderr, STDERR_BYTES, proc))
            if out_over:
                return Outcome(None, error=f"the worker wrote more than {max_output} bytes")
            await proc.wait()
    except TimeoutError:
        return Outcome(None, timed_out=True)
    finally:
        await _reap(proc)
        if procs is not None:
            procs.discard(proc)
        shutil.rmtree(scratch, ignore_errors=True)
    return _parse(out, err, proc.returncode)


def _parse(out: bytes, err: bytes, code: int | None) -> Outcome:
    try:
        result = json.loads(out)
    except (ValueError, RecursionError):
        result = None
    if isinstance(result, dict):
        return Outcome(result)
    lines = err.decode(errors="replace").strip().splitlines()
    why = lines[-1][:500] if lines else ""
    if code is not None and code < 0:
        why = f"killed by signal {-code}" + (f" ({why})" if why else "")
    return Outcome(None, error=f"the worker failed (exit code {code}){': ' + why if why else ''}")
