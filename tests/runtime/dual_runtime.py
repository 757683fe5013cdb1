"""Running the same user code on core_runtime and on the real pip ``metaflow`` package.

A flow file or driver script is written once with ``from core_runtime import ...``; for Metaflow
the import line is swapped (nothing else), the files go to a fresh directory, and Metaflow keeps
its metadata and datastore there (``--metadata=local``, as a user without a service has it).

A test that takes the ``runtime`` fixture (tests/runtime/conftest.py) runs once on each runtime
(pytest ids ``[core_runtime]`` and ``[metaflow]``): ``runtime.run(DRIVER, [flow files])`` copies the
files, runs the driver and returns its JSON line, so the test holds only its flow, its driver and what
it expects. A test that compares the two runs builds both with ``on_core_runtime`` and ``on_metaflow``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

IMPORT = "from core_runtime import"
RUNTIMES = ("core_runtime", "metaflow")


def as_metaflow(text: str) -> str:
    return text.replace(IMPORT, "from metaflow import")


def metaflow_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWSCOPE_", "METAFLOW_"))}
    env.update(METAFLOW_DEFAULT_METADATA="local", METAFLOW_DEFAULT_DATASTORE="local",
               METAFLOW_USER="tester", USERNAME="tester", USER="tester", HOME=str(home))
    return env


def copy_files(sources: list[Path], dest: Path, *, metaflow: bool) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for src in sources:
        text = src.read_text()
        (dest / src.name).write_text(as_metaflow(text) if metaflow else text)


def run_driver(code: str, cwd: Path, env: dict[str, str], *, metaflow: bool,
               timeout: float = 600) -> dict[str, Any]:
    """Run a driver script that prints one JSON object as its last line; return that object."""
    path = cwd / "driver.py"
    path.write_text(as_metaflow(code) if metaflow else code)
    proc = subprocess.run([sys.executable, str(path)], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert proc.returncode == 0 and lines, (
        f"driver failed on {'metaflow' if metaflow else 'core_runtime'} ({proc.returncode}):\n"
        f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result


@dataclass(frozen=True)
class Runtime:
    """One of the two runtimes, in a directory of its own: ``name`` is one of RUNTIMES."""

    name: str
    env: dict[str, str] = field(repr=False)    # not in a failure's output: the whole environment
    cwd: Path

    @property
    def metaflow(self) -> bool:
        return self.name == "metaflow"

    def run(self, code: str, files: list[Path], *, extra_env: dict[str, str] | None = None,
            timeout: float = 600) -> dict[str, Any]:
        """Copy ``files`` to this runtime's directory (import swapped for Metaflow), run the driver
        ``code`` there and return the JSON object it printed last."""
        copy_files(files, self.cwd, metaflow=self.metaflow)
        return run_driver(code, self.cwd, {**self.env, **(extra_env or {})}, metaflow=self.metaflow,
                          timeout=timeout)


def on_core_runtime(flowscope_env: dict[str, str], cwd: Path) -> Runtime:
    return Runtime("core_runtime", flowscope_env, cwd)


def on_metaflow(cwd: Path) -> Runtime:
    """pip metaflow with its home, metadata and datastore in ``cwd``."""
    return Runtime("metaflow", metaflow_env(cwd), cwd)
