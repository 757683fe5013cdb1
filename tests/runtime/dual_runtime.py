"""Running the same user code on core_runtime and on the real pip ``metaflow`` package.

A flow file or driver script is written once with ``from core_runtime import ...``; for Metaflow
the import line is swapped (nothing else), the files go to a fresh directory, and Metaflow keeps
its metadata and datastore there (``--metadata=local``, as a user without a service has it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

IMPORT = "from core_runtime import"


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
