"""The Runner API: run, resume and spin a flow from Python, as Metaflow's ``metaflow.Runner``.

    from core_runtime import Runner

    with Runner("flow.py", show_output=False).run(alpha=5, tags=["nightly"]) as running:
        assert running.status == "successful"
        print(running.run.data.result)

    with Runner("flow.py").spin("train", persist=True) as spin:       # a unit test of one step
        assert spin.task["model"].data == "kmeans"

Each call starts ``python flow.py ...`` in a subprocess (so the flow runs exactly as on the
command line) and returns once the run exists (``async_*``) or has ended (the blocking ones). A
process that fails before its run exists raises RuntimeError carrying its output.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from typing import Any

from core_runtime.runner.command_line import command_args, top_level_args
from core_runtime.runner.executing import ExecutingProcess, ExecutingRun, ExecutingTask
from core_runtime.runner.process import CommandProcess

__all__ = ["ExecutingProcess", "ExecutingRun", "ExecutingTask", "Runner"]


class Runner:
    """``Runner(flow_file, show_output=True, profile=None, env=None, cwd=None,
    file_read_timeout=3600, **kwargs)``; ``kwargs`` are the options given before the command
    (``quiet=True``, ``environment="pypi"``, ``config=[("cfg", "c.json")]`` ...)."""

    def __init__(self, flow_file: str, show_output: bool = True, profile: str | None = None,
                 env: dict[str, str] | None = None, cwd: str | None = None,
                 file_read_timeout: int = 3600, **kwargs: Any) -> None:
        self.cwd = os.path.abspath(cwd or os.getcwd())
        self.flow_file = flow_file if os.path.isabs(flow_file) else os.path.abspath(flow_file)
        if not os.path.isfile(self.flow_file):
            raise FileNotFoundError(f"Runner: no flow file {self.flow_file}")
        self.show_output = show_output
        self.env_vars = {**os.environ, **(env or {})}
        if profile:
            self.env_vars["METAFLOW_PROFILE"] = profile
        self.file_read_timeout = file_read_timeout
        self.top_level_kwargs = kwargs
        self._top = top_level_args(kwargs)
        self._parameters = _flow_parameters(self.flow_file)
        self._commands: list[CommandProcess] = []

    # ---- context managers -----------------------------------------------------------------------
    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()

    async def __aenter__(self) -> Runner:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.cleanup()

    def cleanup(self) -> None:
        """Delete the output files of the processes started (running ones are left alone)."""
        for c in self._commands:
            c.cleanup()

    # ---- blocking -------------------------------------------------------------------------------
    def run(self, **kwargs: Any) -> ExecutingRun:
        """Run the flow and wait for the end; ``kwargs`` are run's options and the flow's Parameters."""
        command, attrs = self._start("run", kwargs, self.show_output)
        content = self._attributes(command, attrs)
        command.sync_wait()
        return self._executing_run(command, content)

    def resume(self, **kwargs: Any) -> ExecutingRun:
        """Resume a run (``origin_run_id=``, ``step_to_rerun=``) and wait for the end."""
        command, attrs = self._start("resume", kwargs, self.show_output)
        content = self._attributes(command, attrs)
        command.sync_wait()
        return self._executing_run(command, content)

    def spin(self, pathspec: str, **kwargs: Any) -> ExecutingTask:
        """Spin one step (``"train"``, ``"12/train"``, ``"12/train/345"`` ...) and wait for the end;
        ``persist=True`` keeps its artifacts for ``.task``."""
        command, attrs = self._start("spin", {"pathspec": pathspec, **kwargs}, self.show_output)
        command.sync_wait()
        return self._executing_task(command, self._attributes(command, attrs))

    # ---- asyncio --------------------------------------------------------------------------------
    async def async_run(self, **kwargs: Any) -> ExecutingRun:
        """Start a run; returns as soon as the run exists. ``await running.wait()`` for the end."""
        import asyncio

        command, attrs = self._start("run", kwargs, False)
        content = await asyncio.to_thread(self._attributes, command, attrs)
        return self._executing_run(command, content)

    async def async_resume(self, **kwargs: Any) -> ExecutingRun:
        import asyncio

        command, attrs = self._start("resume", kwargs, False)
        content = await asyncio.to_thread(self._attributes, command, attrs)
        return self._executing_run(command, content)

    async def async_spin(self, pathspec: str, **kwargs: Any) -> ExecutingTask:
        """Start a spin; a spun task is known once it has ended, so this returns then."""
        import asyncio

        command, attrs = self._start("spin", {"pathspec": pathspec, **kwargs}, False)
        content = await asyncio.to_thread(self._attributes, command, attrs)
        return self._executing_task(command, content)

    # ---- internals ------------------------------------------------------------------------------
    def _start(self, name: str, kwargs: dict[str, Any], show: bool) -> tuple[CommandProcess, str]:
        args = command_args(name, kwargs, self._parameters)
        folder = tempfile.mkdtemp(prefix="flowscope-runner-attrs-")
        attrs = os.path.join(folder, "attributes.json")
        argv = [sys.executable, self.flow_file, *self._top, name, *args, "--runner-attribute-file", attrs]
        command = CommandProcess(argv, self.env_vars, self.cwd, show)
        self._commands.append(command)
        return command, attrs

    def _attributes(self, command: CommandProcess, path: str) -> dict[str, Any]:
        """The run's pathspec the process writes once the run exists; RuntimeError if it never does."""
        deadline = time.monotonic() + self.file_read_timeout
        try:
            while True:
                exited = command.returncode is not None
                content = _read_json(path)
                if content is not None:
                    return content
                if exited:
                    raise RuntimeError(_failure_message(command, "it ended before its run existed"))
                if time.monotonic() > deadline:
                    command.kill()
                    raise RuntimeError(_failure_message(
                        command, f"no run after {self.file_read_timeout} s (file_read_timeout)"))
                time.sleep(0.05)
        finally:
            _remove(path)

    def _client_source(self) -> Any:
        """Where the subprocess records: its settings come from ``env``, which may differ from ours."""
        from contract.settings import load_settings
        from core_runtime.client import context
        from core_runtime.client.source import PgSource

        theirs = load_settings(environ=self.env_vars)
        return context.current_source() if theirs == context.current_settings() else PgSource(theirs)

    def _executing_run(self, command: CommandProcess, content: dict[str, Any]) -> ExecutingRun:
        from core_runtime.client import Run

        pathspec = f"{content['flow_name']}/{content['run_id']}"
        source = self._client_source()
        return ExecutingRun(self, command, lambda: Run(pathspec, _namespace_check=False, _src=source))

    def _executing_task(self, command: CommandProcess, content: dict[str, Any]) -> ExecutingTask:
        from core_runtime.client import Task

        pathspec = "/".join(str(content[k]) for k in ("flow_name", "run_id", "step_name", "task_id"))
        return ExecutingTask(self, command, Task(pathspec, _namespace_check=False,
                                                 _current_metadata=content.get("metadata")))


def _flow_parameters(path: str) -> dict[str, tuple[str, str]]:
    """The flow's Parameters as keyword names -> (option name, kind), read from the source (not run).

    As Metaflow's click API: the keyword is the name with ``-`` as ``_``, the option the name as
    declared; kind ``flag`` for ``is_flag=True`` (``--x`` when True, nothing when False), else
    ``value`` (a bool too: ``--x True``)."""
    import ast

    from core_runtime.graph.decorators import decorator_name, literal_or_source

    try:
        with open(path, encoding="utf-8") as fh:
            tree = ast.parse(fh.read(), path)
    except (OSError, SyntaxError, ValueError):
        return {}       # the subprocess reports a broken file with its line
    out: dict[str, tuple[str, str]] = {}
    for node in ast.walk(tree):
        # Configs are given before the command (config=...), not as run arguments.
        if isinstance(node, ast.Call) and decorator_name(node) in ("Parameter", "IncludeFile"):
            attrs = {kw.arg: literal_or_source(kw.value) for kw in node.keywords if kw.arg}
            name = literal_or_source(node.args[0]) if node.args else attrs.get("name")
            if isinstance(name, str):
                out[name.replace("-", "_")] = (name, "flag" if attrs.get("is_flag") is True else "value")
    return out


def _read_json(path: str) -> dict[str, Any] | None:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None      # not there yet, or still being written
    return data if isinstance(data, dict) else None


def _remove(path: str) -> None:
    import shutil

    shutil.rmtree(os.path.dirname(path), ignore_errors=True)


def _failure_message(command: CommandProcess, why: str) -> str:
    text = f"Error executing: '{' '.join(command.command)}' ({why}):\n"
    out, err = command.read_log("stdout"), command.read_log("stderr")
    if out.strip():
        text += f"\nStdout:\n{out}\n"
    if err.strip():
        text += f"\nStderr:\n{err}\n"
    return text
