"""Running one generated pair the way Metaflow's ``run_tests.py`` does (its ``cli`` executor).

``python test_flow.py <top options> run --run-id-file run-id <run options>`` in a fresh
directory with the context's environment, ``resume [STEP]`` when the test raised ResumeFromHere,
then ``python check_flow.py MetadataCheck <run id> <top options>`` (and ``CliCheck``, which reads
the run through the flow's ``dump`` / ``logs`` / ``card`` commands, with ``--checks metadata,cli``).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.mfmatrix.pairs import Pair
from bench.mfmatrix.rewrite import rewrite

REPO = Path(__file__).resolve().parents[2]
PAIR_TIMEOUT = 600.0


@dataclass
class Outcome:
    pair: Pair
    ok: bool
    phase: str            # run | resume | check | done | timeout | setup
    reason: str           # first meaningful error line when not ok
    seconds: float
    log: str              # stdout + stderr of every command, for --keep


@dataclass
class Target:
    """What the flows run on: core_runtime (rewritten imports) or pip metaflow (unchanged)."""

    runtime: str                     # core_runtime | metaflow
    core: Path                       # Metaflow's test/core (generator side, unchanged)
    package: Path                    # metaflow_test + metaflow_extensions as the flows import them
    context: dict[str, Any]
    env_extra: dict[str, str]        # FLOWSCOPE_* for core_runtime
    new_database: Any = None         # () -> DSN of a fresh database (core_runtime only)
    checkers: tuple[str, ...] = ("MetadataCheck",)   # Metaflow's checker classes, run in order


def prepare_package(core: Path, dest: Path, runtime: str) -> Path:
    """A copy of metaflow_test/ and metaflow_extensions/, imports rewritten for core_runtime.

    The card extension packages of ``test/extensions/packages`` are added to the same
    ``metaflow_extensions`` namespace, as Metaflow's CI installs them
    (``test/extensions/install_packages.sh``) before running the matrix.
    """
    for name in ("metaflow_test", "metaflow_extensions"):
        shutil.copytree(core / name, dest / name)
    packages = core.parent / "extensions" / "packages"
    for pkg in sorted(packages.iterdir()) if packages.is_dir() else []:
        if (pkg / "metaflow_extensions").is_dir():
            shutil.copytree(pkg / "metaflow_extensions", dest / "metaflow_extensions", dirs_exist_ok=True)
    if runtime == "core_runtime":
        for path in dest.rglob("*.py"):
            path.write_text(rewrite(path.read_text(encoding="utf-8")), encoding="utf-8")
    return dest


def _env(target: Target, workdir: Path) -> dict[str, str]:
    # Like run_tests.py: a clean environment, the context's variables, the test package first.
    env = {"USER": os.environ.get("USER", "tester")}
    env.update({k: v.format(nonce=str(uuid.uuid4())) for k, v in target.context["env"].items()})
    env.update({
        # The interpreter running this script first on PATH: run_tests.py calls "python3", and
        # Metaflow's @parallel starts its worker tasks with the python found on PATH.
        "LANG": "en_US.UTF-8", "LC_ALL": "en_US.UTF-8",
        "PATH": os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", ".")]),
        "PYTHONIOENCODING": "utf_8", "PYTHONPATH": f"{target.package}:{REPO}",
        "HOME": str(workdir),
    })
    env.update(target.env_extra)
    if target.new_database is not None:
        # Metaflow ships its test card types inside its package; here they are a card module
        # named by the setting every user has for their own card types. (The extensions' card
        # types are found in metaflow_extensions, as Metaflow finds them.)
        env["FLOWSCOPE_CARD_MODULES"] = "bench.mfmatrix.fixtures.test_cards"
        env["FLOWSCOPE_DSN"] = target.new_database()
        env["FLOWSCOPE_DATASTORE"] = str(workdir / ".datastore")
        env["FLOWSCOPE_HOME"] = str(workdir / ".flowscope")
    return env


def _first_error(text: str) -> str:
    """The line that says what went wrong: the last exception line, else the last line."""
    lines = [ln.rstrip() for ln in text.splitlines() if ln.strip() and not ln.startswith("warning:")]
    for ln in reversed(lines):
        body = ln.split("] ", 1)[-1].strip() if ln.startswith("20") else ln.strip()
        if body.startswith("error:") or "Error" in body.split(":")[0] or "Exception" in body.split(":")[0]:
            return body[:300]
    return (lines[-1].strip() if lines else "no output")[:300]


def run_pair(pair: Pair, target: Target, workdir: Path) -> Outcome:
    t0 = time.monotonic()
    log: list[str] = []
    ctx = target.context
    flow_code = pair.flow_code if target.runtime == "metaflow" else rewrite(pair.flow_code)
    check_code = pair.check_code if target.runtime == "metaflow" else rewrite(pair.check_code)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "test_flow.py").write_text(flow_code, encoding="utf-8")
    (workdir / "check_flow.py").write_text(check_code, encoding="utf-8")
    for name in pair.copy_files:
        shutil.copy2(target.core / "tests" / name, workdir / name)
    try:
        env = _env(target, workdir)
    except Exception as exc:  # noqa: BLE001 - a database that cannot be made fails this pair only
        return Outcome(pair, False, "setup", f"{type(exc).__name__}: {exc}", 0.0, "")
    deadline = t0 + PAIR_TIMEOUT
    # For --keep: re-run a kept pair by hand with ". ./env.sh && python test_flow.py ...".
    (workdir / "env.sh").write_text("".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items()),
                                    encoding="utf-8")

    def call(args: list[str]) -> subprocess.CompletedProcess[str]:
        log.append("$ " + " ".join(args))
        left = max(1.0, deadline - time.monotonic())
        proc = subprocess.run([sys.executable, *args], check=False, cwd=workdir, env=env, capture_output=True,
                              text=True, encoding="utf-8", errors="replace", timeout=left)
        log.append(proc.stdout + proc.stderr + f"[exit {proc.returncode}]")
        return proc

    def flow_cmd(mode: str, extra: list[str]) -> list[str]:
        return ["-B", "test_flow.py", *ctx["top_options"], mode, *extra,
                "--run-id-file", "run-id", *ctx["run_options"]]

    def done(ok: bool, phase: str, reason: str = "") -> Outcome:
        return Outcome(pair, ok, phase, reason, time.monotonic() - t0, "\n".join(log))

    try:
        proc = call(flow_cmd("run", []))
        if proc.returncode:
            if pair.should_fail:
                pass
            elif pair.should_resume:
                proc = call(flow_cmd("resume", [pair.resume_step] if pair.resume_step else []))
                if proc.returncode:
                    return done(False, "resume", _first_error(proc.stderr or proc.stdout))
            else:
                return done(False, "run", _first_error(proc.stderr or proc.stdout))
        elif pair.should_fail:
            return done(False, "run", "the flow should have failed but it did not")
        try:
            run_id = (workdir / "run-id").read_text().strip()
        except OSError:
            return done(False, "run", "no run-id file was written")
        for checker in target.checkers:
            proc = call(["check_flow.py", checker, run_id, *ctx["top_options"]])
            if proc.returncode:
                return done(False, "check" if checker == "MetadataCheck" else f"check {checker}",
                            _first_error(proc.stderr or proc.stdout))
        return done(True, "done")
    except subprocess.TimeoutExpired:
        return done(False, "timeout", f"no result within {PAIR_TIMEOUT:g} s")
