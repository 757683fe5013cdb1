"""Building (once) and reusing the isolated environments of @pypi / @conda steps.

Each environment is a virtual environment under FLOWSCOPE_ENV_DIR (default FLOWSCOPE_HOME/envs),
named by the hash of its interpreter version and requirements: ``python -m venv --without-pip``,
then this runtime's pip installs the requirements from the package index into it
(``pip --python``). A marker file written last makes a half-built environment (killed build)
look absent, so it is rebuilt; a file lock lets concurrent runs share one build. The runtime's own
code reaches the task through PYTHONPATH (``runtime_path``), never by installing it there, so the
environment holds exactly what the step asked for.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core_runtime.environments.pythons import find_python
from core_runtime.environments.spec import EnvSpec

MARKER = ".flowscope-env.json"
VENV_TIMEOUT = 300
PIP_TIMEOUT = 1800


class EnvironmentBuildError(RuntimeError):
    """An environment could not be built; the message names the step and pip's reason."""


@dataclass(frozen=True)
class BuiltEnv:
    key: str
    path: str
    python: str                  # the environment's interpreter
    python_version: str
    spec: EnvSpec
    notice: str | None           # the Python version asked for could not be used
    reused: bool

    def describe(self) -> str:
        return f"{self.spec.describe()} · Python {self.python_version} · env {self.key}"


def env_root(settings: Any) -> Path:
    return Path(settings.env_dir or Path(settings.home) / "envs").expanduser().resolve()


def ensure(spec: EnvSpec, root: Path, *, who: str, say: Callable[[str], None],
           short_who: str | None = None) -> BuiltEnv:
    """The built environment for ``spec``, building it first if needed. ``who`` (with the file and
    line) names the step in errors, ``short_who`` in the notice recorded on its tasks."""
    interp = find_python(spec.python, short_who or who)
    key = spec.key(interp.version)
    path = root / key
    python = str(path / "bin" / "python")
    built = BuiltEnv(key, str(path), python, interp.version, spec, interp.notice, reused=True)
    if (path / MARKER).is_file():
        return built
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)        # another run may be building the same one
        if (path / MARKER).is_file():
            return built
        started = time.monotonic()
        say(f"Creating environment {key} for {who} ({spec.describe()}, Python {interp.version}) ...")
        shutil.rmtree(path, ignore_errors=True)
        _run([interp.path, "-m", "venv", "--without-pip", str(path)], who, "creating the virtual "
             "environment", VENV_TIMEOUT, say)
        requirements = spec.requirements()
        if requirements:
            _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-input",
                  "--disable-pip-version-check", "--progress-bar", "off", *requirements],
                 who, f"installing {', '.join(requirements)}", PIP_TIMEOUT, say)
        marker = {"spec": spec.describe(), "requirements": requirements,
                  "python": interp.version, "built_at": int(time.time())}
        (path / MARKER).write_text(json.dumps(marker, indent=2))
        say(f"Environment {key} is ready ({time.monotonic() - started:.1f} s).")
    return BuiltEnv(key, str(path), python, interp.version, spec, interp.notice, reused=False)


def _run(argv: list[str], who: str, what: str, timeout: float, say: Callable[[str], None]) -> None:
    """Run a build command, showing its output as it comes; the last lines go into the error."""
    tail: list[str] = []
    try:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                env={**os.environ, "PIP_REQUIRE_VIRTUALENV": "0"})
    except OSError as exc:
        raise EnvironmentBuildError(f"{who}: {what} failed: {exc}") from None
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    for raw in proc.stdout:
        line = raw.rstrip()
        if line:
            say(f"    {line}")
            tail = (tail + [line])[-6:]
        if time.monotonic() > deadline:
            proc.kill()
            break
    code = proc.wait()
    if code != 0:
        reason = next((ln for ln in reversed(tail) if "ERROR" in ln), tail[-1] if tail else f"exit {code}")
        raise EnvironmentBuildError(f"{who}: {what} failed: {reason.strip()}")


def runtime_path(root: Path) -> str:
    """A directory holding only links to this runtime's packages (core_runtime, contract): put on
    a task's PYTHONPATH so the step can run inside an environment that does not contain them."""
    import contract
    import core_runtime

    packages = [Path(core_runtime.__file__).parent, Path(contract.__file__).parent]
    digest = hashlib.sha1("\n".join(str(p) for p in packages).encode()).hexdigest()[:12]
    folder = root / "_runtime" / digest
    folder.mkdir(parents=True, exist_ok=True)
    for pkg in packages:
        link = folder / pkg.name
        if link.is_symlink() and os.readlink(link) == str(pkg):
            continue
        tmp = folder / f".{pkg.name}.{os.getpid()}"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(pkg, target_is_directory=True)
        os.replace(tmp, link)
    return str(folder)
