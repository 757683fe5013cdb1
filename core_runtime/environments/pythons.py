"""Finding a Python interpreter for ``python="3.12"``: this one, ``python3.X`` on PATH, or a
pyenv installation. A version this machine does not have, or one older than the runtime needs
inside a task (3.11), is not an error: the task runs on this interpreter, with a notice."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass

MIN_TASK_PYTHON = (3, 11)     # core_runtime's own code runs inside every task


@dataclass(frozen=True)
class Interpreter:
    path: str
    version: str                 # "3.12.1"
    notice: str | None = None    # why the version asked for was not used


def _version_of(path: str) -> str | None:
    try:
        out = subprocess.run([path, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
                             capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    text = out.stdout.strip()
    return text if out.returncode == 0 and text.count(".") == 2 else None


def _candidates(major_minor: str) -> list[str]:
    found = []
    on_path = shutil.which(f"python{major_minor}")
    if on_path:
        found.append(on_path)
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    found += sorted(glob.glob(os.path.join(root, "versions", f"{major_minor}*", "bin", f"python{major_minor}")),
                    reverse=True)
    return found


def _matches(version: str, asked: str) -> bool:
    return version == asked or version.startswith(asked + ".")


def find_python(asked: str | None, who: str) -> Interpreter:
    """``who`` names the decorator in notices (``@pypi on step 'train'``)."""
    here = ".".join(str(n) for n in sys.version_info[:3])
    if asked is None or _matches(here, asked):
        return Interpreter(sys.executable, here)
    parts = asked.split(".")
    if tuple(int(p) for p in parts[:2]) < MIN_TASK_PYTHON:
        return Interpreter(sys.executable, here, (
            f"{who} asks for Python {asked}; tasks here need Python "
            f"{'.'.join(map(str, MIN_TASK_PYTHON))} or newer (the runtime runs inside each task), "
            f"so the step ran on Python {here}."))
    for path in _candidates(".".join(parts[:2])):
        version = _version_of(path)
        if version is not None and _matches(version, asked):
            return Interpreter(path, version)
    return Interpreter(sys.executable, here, (
        f"{who} asks for Python {asked}, which this machine does not have (searched PATH and "
        f"pyenv), so the step ran on Python {here}."))
