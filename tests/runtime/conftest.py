"""Helpers for runtime tests: run a flow file as users do (``python flow.py run``) and read rows."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.runtime.dual_runtime import RUNTIMES, Runtime, on_core_runtime, on_metaflow

if TYPE_CHECKING:
    from tests.runtime.metaflow_compare import MetaflowRunner

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "flows"
FLOWS = Path(__file__).resolve().parent / "flows"


@dataclass
class FlowResult:
    returncode: int
    stdout: str
    stderr: str
    run_id: str | None


def run_flow(env: dict[str, str], path: Path, *args: str, tmp: Path, timeout: float = 120,
             extra_env: dict[str, str] | None = None) -> FlowResult:
    id_file = tmp / f"run-id-{path.stem}-{len(list(tmp.iterdir()))}"
    cmd = [sys.executable, str(path), *args]
    if "run" in args or "resume" in args:
        cmd += ["--run-id-file", str(id_file)]
    proc = subprocess.run(cmd, check=False, env={**env, **(extra_env or {})}, capture_output=True,
                          text=True,
                          timeout=timeout, cwd=str(path.parent))
    run_id = id_file.read_text() if id_file.exists() else None
    return FlowResult(proc.returncode, proc.stdout, proc.stderr, run_id)


@pytest.fixture()
def metaflow(tmp_path: Path) -> MetaflowRunner:
    """Runs flow files under pip metaflow, in a home of its own (tests/runtime/metaflow_compare.py)."""
    from tests.runtime.metaflow_compare import MetaflowRunner

    home = tmp_path / "metaflow"
    home.mkdir()
    return MetaflowRunner(home)


@pytest.fixture()
def on_both(flow_runner: Callable[..., FlowResult],
            metaflow: MetaflowRunner) -> Callable[..., tuple[FlowResult, FlowResult]]:
    """``ours, theirs = on_both(flow, *args)``: the same command line on the flow file under
    core_runtime and under pip metaflow (which also gets ``--no-pylint``); neither exit code is
    checked here."""
    def run(flow: Path, *args: str, extra_env: dict[str, str] | None = None) -> tuple[FlowResult, FlowResult]:
        proc, run_id = metaflow.run(flow, *args, extra_env=extra_env, ok=False)
        ours = flow_runner(flow, *args, extra_env=extra_env)
        return ours, FlowResult(proc.returncode, proc.stdout, proc.stderr, run_id)

    return run


@pytest.fixture(params=RUNTIMES)
def runtime(request: pytest.FixtureRequest, tmp_path: Path) -> Runtime:
    """A test that takes it runs twice, the same driver on each runtime (tests/runtime/dual_runtime.py):
    ``[core_runtime]`` with this session's database, ``[metaflow]`` with pip metaflow (no database)."""
    if request.param == "metaflow":
        return on_metaflow(tmp_path)
    return on_core_runtime(request.getfixturevalue("flowscope_env"), tmp_path)


@pytest.fixture()
def flow_runner(flowscope_env: dict[str, str], tmp_path: Path) -> Callable[..., FlowResult]:
    def run(path: Path | str, *args: str, **kw: Any) -> FlowResult:
        return run_flow(flowscope_env, Path(path), *args, tmp=tmp_path, **kw)

    return run


def run_row(db: Any, flow: str, run_id: str) -> dict[str, Any]:
    with db.cursor() as cur:
        cur.execute("SELECT * FROM runs WHERE flow_id = %s AND run_id = %s", (flow, run_id))
        cols = [c.name for c in cur.description]
        row = cur.fetchone()
    assert row is not None, f"no run {flow}/{run_id}"
    return dict(zip(cols, row))


def task_rows(db: Any, run_pk: int, step: str | None = None) -> list[dict[str, Any]]:
    q = "SELECT * FROM tasks WHERE run_pk = %s"
    args: tuple[Any, ...] = (run_pk,)
    if step:
        q += " AND step_name = %s"
        args += (step,)
    with db.cursor() as cur:
        cur.execute(q + " ORDER BY task_pk", args)
        cols = [c.name for c in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]


def artifacts_of(db: Any, task_pk: int) -> dict[str, dict[str, Any]]:
    with db.cursor() as cur:
        cur.execute("SELECT a.* FROM artifacts a JOIN tasks t ON t.task_pk = a.task_pk "
                    "WHERE a.task_pk = %s AND a.attempt = t.attempt", (task_pk,))
        cols = [c.name for c in cur.description]
        return {r[cols.index("name")]: dict(zip(cols, r)) for r in cur.fetchall()}


def attempt_rows(db: Any, task_pk: int) -> list[dict[str, Any]]:
    with db.cursor() as cur:
        cur.execute("SELECT * FROM attempts WHERE task_pk = %s ORDER BY attempt", (task_pk,))
        cols = [c.name for c in cur.description]
        return [dict(zip(cols, r)) for r in cur.fetchall()]


def load_value(settings: Any, location: str) -> Any:
    from contract.datastore import open_datastore
    from core_runtime.artifacts import load_artifact

    return load_artifact(open_datastore(settings), location)
