"""``NBRunner``: the Runner API from a notebook cell, as Metaflow's ``metaflow.NBRunner``.

    from core_runtime import FlowSpec, NBRunner, step

    class HelloFlow(FlowSpec):
        ...

    run = NBRunner(HelloFlow).nbrun(alpha=3)      # in the same cell: runs the flow, returns its Run

The cell being executed (IPython's input history) up to the end of its first FlowSpec class,
plus a ``__main__`` guard, is written to a temporary flow file in ``base_dir`` (default: the working
directory) that a ``Runner`` runs; ``nbrun``/``nbresume`` delete it afterwards.
"""

from __future__ import annotations

import ast
import os
import tempfile
from typing import Any

from core_runtime.runner import ExecutingRun, Runner


class NBRunnerInitializationError(Exception):
    """NBRunner was used outside an interactive IPython (Jupyter) session."""


class NBRunner:
    """``NBRunner(flow, show_output=True, profile=None, env=None, base_dir=None,
    file_read_timeout=3600, **kwargs)``; ``kwargs`` as for ``Runner``."""

    def __init__(self, flow: type, show_output: bool = True, profile: str | None = None,
                 env: dict[str, str] | None = None, base_dir: str | None = None,
                 file_read_timeout: int = 3600, **kwargs: Any) -> None:
        try:
            from IPython import get_ipython
        except ModuleNotFoundError:
            raise NBRunnerInitializationError(
                "'NBRunner' requires an interactive Python environment (such as Jupyter)") from None
        self.cell = current_cell(get_ipython())
        if not self.cell:
            raise ValueError("Couldn't find a cell.")
        self.flow = flow
        self.show_output = show_output
        # A flow run from a notebook must not think it is inside the notebook's kernel.
        self.env_vars = {**os.environ, **(env or {}), "JPY_PARENT_PID": ""}
        if profile:
            self.env_vars["METAFLOW_PROFILE"] = profile
        self.base_dir = base_dir if base_dir is not None else os.getcwd()
        self.file_read_timeout = file_read_timeout
        with tempfile.NamedTemporaryFile(prefix=flow.__name__, suffix=".py", mode="w", dir=self.base_dir,
                                         delete=False) as fh:
            fh.write(flow_file_text(self.cell))
        self.flow_file = fh.name
        self.runner = Runner(self.flow_file, show_output=show_output, profile=profile, env=self.env_vars,
                             cwd=self.base_dir, file_read_timeout=file_read_timeout, **kwargs)

    def nbrun(self, **kwargs: Any) -> Any:
        """Run the flow to its end; returns the client ``Run`` (the flow file is deleted)."""
        result = self.runner.run(**kwargs)
        self.cleanup()
        return result.run

    def nbresume(self, **kwargs: Any) -> Any:
        result = self.runner.resume(**kwargs)
        self.cleanup()
        return result.run

    def run(self, **kwargs: Any) -> ExecutingRun:
        return self.runner.run(**kwargs)

    def resume(self, **kwargs: Any) -> ExecutingRun:
        return self.runner.resume(**kwargs)

    async def async_run(self, **kwargs: Any) -> ExecutingRun:
        return await self.runner.async_run(**kwargs)

    async def async_resume(self, **kwargs: Any) -> ExecutingRun:
        return await self.runner.async_resume(**kwargs)

    def cleanup(self) -> None:
        """Delete the temporary flow file and the runner's output files."""
        if os.path.exists(self.flow_file):
            os.remove(self.flow_file)
        self.runner.cleanup()


def current_cell(ipython: Any) -> str | None:
    """The raw text of the cell IPython is executing (None outside IPython)."""
    if ipython:
        return str(ipython.history_manager.input_hist_raw[-1])
    return None


def flow_file_text(cell: str) -> str:
    """The cell up to the end of its first FlowSpec subclass, then a ``__main__`` guard."""
    flows = [node for node in ast.parse(cell).body
             if isinstance(node, ast.ClassDef) and any(_names_flowspec(b) for b in node.bases)]
    if not flows:
        raise ModuleNotFoundError("The cell doesn't contain any class that inherits from 'FlowSpec'")
    lines = cell.splitlines()[: flows[0].end_lineno]
    lines += ["if __name__ == '__main__':", f"    {flows[0].name}()"]
    return "\n".join(lines)


def _names_flowspec(base: ast.expr) -> bool:
    return (isinstance(base, ast.Name) and base.id == "FlowSpec") or \
        (isinstance(base, ast.Attribute) and base.attr == "FlowSpec")
