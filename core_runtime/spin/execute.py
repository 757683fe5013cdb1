"""Running the one spun task: a forked task process, its output on the console (and in the spin
store's log chunks with ``--persist``), an optional @timeout. Nothing goes to Postgres."""

from __future__ import annotations

import os
import selectors
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core_runtime.scheduler.console import LinePrinter
from core_runtime.scheduler.plan import ChildResult
from core_runtime.scheduler.process import describe_exit, fork_task, kill_task, read_result


@dataclass
class SpinOutcome:
    result: ChildResult | None
    exit_code: int | None
    how: str
    timed_out: float | None = None

    @property
    def ok(self) -> bool:
        return self.result is not None and self.result.ok and self.timed_out is None


def run_task(body: Callable[[], ChildResult], *, printers: dict[str, LinePrinter],
             writers: dict[str, Any], timeout: float | None) -> SpinOutcome:
    """Fork ``body``; copy its stdout/stderr to ``printers`` and ``writers`` until it exits."""
    tmp = tempfile.mkdtemp(prefix="flowscope-spin-")
    result_path = os.path.join(tmp, "result.json")
    proc = fork_task(body, result_path)
    deadline = proc.started + timeout if timeout else None
    timed_out: float | None = None
    open_fds = {proc.stdout_fd: "stdout", proc.stderr_fd: "stderr"}
    sel = selectors.DefaultSelector()
    exited = False
    try:
        for fd, stream in open_fds.items():
            sel.register(fd, selectors.EVENT_READ, stream)
        if proc.pidfd is not None:
            sel.register(proc.pidfd, selectors.EVENT_READ, "exit")
        while open_fds and not exited:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            for key, _mask in sel.select(wait):
                if key.data == "exit":
                    exited = True       # drain below; a grandchild may hold the pipes open
                    continue
                _pump(key.fd, str(key.data), open_fds, sel, printers, writers)
            if deadline is not None and timed_out is None and time.monotonic() >= deadline:
                timed_out = timeout
                kill_task(proc)
                deadline = None
        for fd, stream in list(open_fds.items()):
            _pump(fd, stream, open_fds, sel, printers, writers)
        _pid, status = os.waitpid(proc.pid, 0)
    finally:
        sel.close()
        for fd in open_fds:
            os.close(fd)
        if proc.pidfd is not None:
            os.close(proc.pidfd)
        for p in printers.values():
            p.close()
    exit_code, how = describe_exit(status)
    result = read_result(result_path)
    os.rmdir(tmp)
    return SpinOutcome(result, exit_code, how, timed_out)



def _pump(fd: int, stream: str, open_fds: dict[int, str], sel: selectors.BaseSelector,
          printers: dict[str, LinePrinter], writers: dict[str, Any]) -> None:
    """Copy what is readable on ``fd`` now; close it at end of file."""
    while True:
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return          # nothing more for now (not end of file)
        except OSError:
            data = b""
        if not data:
            sel.unregister(fd)
            os.close(fd)
            open_fds.pop(fd, None)
            return
        printers[stream].feed(data)
        if stream in writers:
            writers[stream].feed(data)
