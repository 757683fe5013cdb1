"""What the Runner API hands back: the subprocess (status, output, wait) and the client object of
the run it recorded (``ExecutingRun.run``) or of the task it spun (``ExecutingTask.task``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from core_runtime.runner.process import CommandProcess

if TYPE_CHECKING:
    from core_runtime.client import Run, Task


class ExecutingProcess:
    """Works as a context manager (``with Runner(...).run() as running:``); leaving it removes the
    output files, as leaving the Runner does. Use one or the other, not both nested."""

    def __init__(self, runner: Any, command: CommandProcess) -> None:
        self.runner = runner
        self.command_obj = command

    def __enter__(self) -> ExecutingProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.runner.__exit__(*exc)

    async def __aenter__(self) -> ExecutingProcess:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.runner.__exit__(*exc)

    async def wait(self, timeout: float | None = None, stream: str | None = None) -> ExecutingProcess:
        """Wait for the end, printing ``stream`` ('stdout' or 'stderr') meanwhile if given; past
        ``timeout`` seconds the process is stopped and ``status`` is 'timeout'. Await it."""
        await self.command_obj.wait(timeout, stream)
        self._refresh()
        return self

    @property
    def returncode(self) -> int | None:
        """The process's exit code; None while it runs."""
        return self.command_obj.returncode

    @property
    def status(self) -> str:
        """'running', 'successful', 'failed' or 'timeout' (of the process, as in Metaflow)."""
        if self.command_obj.timeout:
            return "timeout"
        code = self.command_obj.returncode
        if code is None:
            return "running"
        return "successful" if code == 0 else "failed"

    @property
    def stdout(self) -> str:
        """Everything the process printed so far."""
        return self.command_obj.read_log("stdout")

    @property
    def stderr(self) -> str:
        return self.command_obj.read_log("stderr")

    async def stream_log(self, stream: str, position: int | None = None) -> AsyncIterator[tuple[int, str]]:
        """(position, line) as the process writes ``stream``; pass a position back to resume."""
        async for item in self.command_obj.stream_log(stream, position):
            yield item

    def _refresh(self) -> None:
        """Re-read the client object once the process has ended (client objects are snapshots)."""


class ExecutingRun(ExecutingProcess):
    """``.run`` is the client Run of the recorded run (re-read once the process has ended)."""

    def __init__(self, runner: Any, command: CommandProcess, load: Callable[[], Run]) -> None:
        super().__init__(runner, command)
        self._load = load
        self._run = load()
        self._final = command.returncode is not None

    @property
    def run(self) -> Run:
        if not self._final and self.command_obj.returncode is not None:
            self._refresh()
        return self._run

    def _refresh(self) -> None:
        self._run = self._load()
        self._final = self.command_obj.returncode is not None

    def __repr__(self) -> str:
        return f"ExecutingRun({self._run.pathspec!r}, status={self.status!r})"


class ExecutingTask(ExecutingProcess):
    """``.task`` is the client Task of the spun task (read from the spin results with --persist)."""

    def __init__(self, runner: Any, command: CommandProcess, task: Task) -> None:
        super().__init__(runner, command)
        self.task = task

    def __repr__(self) -> str:
        return f"ExecutingTask({self.task.pathspec!r}, status={self.status!r})"
