"""Forking a task process: its stdout/stderr go into pipes the scheduler reads, and its result
into a JSON file the scheduler reads after the process exits.

Forking (instead of starting a fresh interpreter) is what makes a task cheap: the user's module,
the flow class and the parents' artifact records are already in memory. The scheduler is
single-threaded, so forking it is safe.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from core_runtime.scheduler.plan import ChildResult

EXIT_OK = 0
EXIT_STEP_FAILED = 1
EXIT_CRASHED = 2


@dataclass
class TaskProcess:
    pid: int
    stdout_fd: int
    stderr_fd: int
    pidfd: int | None
    result_path: str
    started: float
    events_fd: int | None = None    # JSON lines from the task (live card versions)


# In the task process: the write end of its events pipe (None in the scheduler and in `spin`).
_EVENTS_FD: int | None = None


def child_events_fd() -> int | None:
    return _EVENTS_FD


def _die_with_parent() -> None:
    """Linux: the task gets SIGKILL if the scheduler dies, so no orphan keeps running."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL))   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _child_streams() -> None:
    # Line-buffered, write-through text streams over the pipes so output reaches the
    # scheduler (and the log store) as it is printed, whatever buffering the parent had.
    for fd, name in ((1, "stdout"), (2, "stderr")):
        stream = io.TextIOWrapper(io.FileIO(fd, "w", closefd=False), encoding="utf-8",
                                  errors="backslashreplace", line_buffering=True, write_through=True)
        setattr(sys, name, stream)
        setattr(sys, f"__{name}__", stream)


def fork_task(body: Callable[[], ChildResult], result_path: str) -> TaskProcess:
    """Start ``body`` in a child process; returns at once in the parent."""
    global _EVENTS_FD
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    ev_r, ev_w = os.pipe()
    for f in (sys.stdout, sys.stderr):
        # Unflushed parent output would otherwise be written twice (once by the child).
        with contextlib.suppress(OSError, ValueError):
            f.flush()
    pid = os.fork()
    if pid == 0:  # the task process
        code = EXIT_CRASHED
        try:
            os.setpgid(0, 0)   # own process group: a timeout kills the task and its children
            _die_with_parent()
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD, signal.SIGPIPE):
                signal.signal(sig, signal.SIG_DFL)
            signal.set_wakeup_fd(-1)
            devnull = os.open(os.devnull, os.O_RDONLY)
            os.dup2(devnull, 0)
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
            for fd in (out_r, err_r, out_w, err_w, devnull, ev_r):
                os.close(fd)
            _EVENTS_FD = ev_w
            _child_streams()
            result = body()
            tmp = result_path + ".tmp"
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump(dataclasses.asdict(result), fh, default=str)
            os.replace(tmp, result_path)
            code = EXIT_OK if result.ok else EXIT_STEP_FAILED
        except BaseException:  # noqa: BLE001 - whatever happens, the child must reach os._exit
            import traceback

            with contextlib.suppress(OSError, ValueError):
                traceback.print_exc()
        finally:
            with contextlib.suppress(OSError, ValueError):
                sys.stdout.flush()
                sys.stderr.flush()
            # os._exit: never run the scheduler's atexit handlers or close its DB connection.
            os._exit(code)
    os.close(out_w)
    os.close(err_w)
    os.close(ev_w)
    for fd in (out_r, err_r, ev_r):
        os.set_blocking(fd, False)
    try:
        os.setpgid(pid, pid)  # also from the parent, so killpg works even before the child runs
    except OSError:
        pass
    pidfd: int | None
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = None
    return TaskProcess(pid, out_r, err_r, pidfd, result_path, time.monotonic(), ev_r)


def read_result(path: str) -> ChildResult | None:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass
    return ChildResult(**data)


def kill_task(proc: TaskProcess) -> None:
    """SIGKILL the task's process group (the step may have started processes of its own)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        try:
            os.kill(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def describe_exit(status: int) -> tuple[int | None, str]:
    """(exit code, text) from a waitpid status."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = str(sig)
        return -sig, f"killed by {name}"
    code = os.WEXITSTATUS(status)
    return code, f"exited with code {code}"
