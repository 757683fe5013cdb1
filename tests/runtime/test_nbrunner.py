"""NBRunner: a flow defined in a notebook cell runs from that same cell, in a real IPython shell,
as with Metaflow's ``metaflow.NBRunner``."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CELL = textwrap.dedent('''
    from core_runtime import FlowSpec, NBRunner, Parameter, step

    class NotebookFlow(FlowSpec):
        alpha = Parameter("alpha", default=1)

        @step
        def start(self):
            self.doubled = self.alpha * 2
            self.next(self.end)

        @step
        def end(self):
            pass

    run = NBRunner(NotebookFlow, show_output=False, base_dir=BASE_DIR, env=ENV).nbrun(alpha=21)
    ''')


@pytest.fixture()
def shell() -> Iterator[Any]:
    pytest.importorskip("IPython", reason="NBRunner needs IPython (the dev extra installs it)")
    from IPython.core.interactiveshell import InteractiveShell

    sh = InteractiveShell.instance()
    yield sh
    InteractiveShell.clear_instance()


def test_nbrun_runs_the_cell_s_flow(shell: Any, flowscope_env: dict[str, str], tmp_path: Path, db: Any) -> None:
    shell.user_ns.update(BASE_DIR=str(tmp_path), ENV=flowscope_env)
    result = shell.run_cell(CELL, store_history=True)
    result.raise_error()
    run = shell.user_ns["run"]
    assert run.successful and run.data.doubled == 42
    assert run.pathspec.startswith("NotebookFlow/")
    assert not list(tmp_path.glob("NotebookFlow*.py")), "nbrun leaves no flow file behind"


def test_flow_file_text_cuts_the_cell_after_the_flow() -> None:
    from core_runtime.runner.nbrun import flow_file_text

    text = flow_file_text(CELL)
    assert "NBRunner(NotebookFlow" not in text.split("class NotebookFlow")[1]
    assert text.endswith("if __name__ == '__main__':\n    NotebookFlow()")
    compile(text, "flow.py", "exec")
    with pytest.raises(ModuleNotFoundError, match="doesn't contain any class that inherits from 'FlowSpec'"):
        flow_file_text("x = 1\n")


def test_outside_ipython_there_is_no_cell(flowscope_env: dict[str, str]) -> None:
    pytest.importorskip("IPython", reason="NBRunner needs IPython (the dev extra installs it)")
    from core_runtime import FlowSpec, NBRunner

    with pytest.raises(ValueError, match="Couldn't find a cell"):
        NBRunner(FlowSpec)
