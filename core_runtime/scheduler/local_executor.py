"""The default executor: each attempt is a process forked from the scheduler on this machine."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field

from core_runtime.scheduler.executor import AttemptEnd, AttemptSpec, Placement
from core_runtime.scheduler.plan import ChildResult
from core_runtime.scheduler.process import TaskProcess, describe_exit, fork_task, kill_task, read_result


@dataclass
class LocalAttempt:
    proc: TaskProcess
    placement: Placement | None
    _ended: AttemptEnd | None = field(default=None, repr=False)

    @property
    def key(self) -> int:
        return self.proc.pid

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def stdout_fd(self) -> int:
        return self.proc.stdout_fd

    @property
    def stderr_fd(self) -> int:
        return self.proc.stderr_fd

    @property
    def events_fd(self) -> int | None:
        return self.proc.events_fd

    @property
    def event_fd(self) -> int | None:
        return self.proc.pidfd      # readable once the process has exited (Linux)

    @property
    def started(self) -> float:
        return self.proc.started

    def on_event(self) -> bool:
        return True

    def take_placement(self) -> Placement | None:
        out, self.placement = self.placement, None
        return out

    def collect(self, block: bool) -> AttemptEnd | None:
        if self._ended is not None:
            return self._ended
        try:
            pid, status = os.waitpid(self.proc.pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            pid, status = self.proc.pid, 0
        if pid == 0:
            return None
        exit_code, how = describe_exit(status)
        self._ended = AttemptEnd(exit_code, how, read_result(self.proc.result_path))
        return self._ended

    def close(self) -> None:
        if self.proc.pidfd is not None:
            os.close(self.proc.pidfd)
            self.proc.pidfd = None

    def kill(self) -> None:
        kill_task(self.proc)


class LocalExecutor:
    name = "local"

    def __init__(self, tmpdir: str, body: Callable[[AttemptSpec], ChildResult]) -> None:
        self.tmpdir = tmpdir
        self.body = body
        self.host = socket.gethostname()

    def launch(self, spec: AttemptSpec) -> LocalAttempt:
        result_path = os.path.join(self.tmpdir, f"{spec.key}.json")
        proc = fork_task(lambda: self.body(spec), result_path)
        return LocalAttempt(proc, Placement("local", self.host, pid=proc.pid))

    def health(self) -> str | None:
        return None

    def close(self) -> None:
        pass

