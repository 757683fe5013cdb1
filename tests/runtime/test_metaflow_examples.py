"""Flows written for Metaflow run here unchanged except the import line — and, to prove they are
real Metaflow flows, the same files run under the pip ``metaflow`` package too."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.runtime.conftest import FLOWS, run_row

EXAMPLES = [
    ("mf_linear.py", "GreetingFlow", (), "still hi there, now HI THERE"),
    ("mf_branch.py", "TwoModelsFlow", (), "best 3.875 from 8 points"),
    ("mf_foreach.py", "GenreFlow", (), "techno has 6 letters"),
    ("mf_parameters.py", "ScalingFlow", ("--factor", "3"), "scaled: [3, 6, 9] cm"),
]


@pytest.mark.parametrize("name, flow, args, expected", EXAMPLES)
def test_runs_here(flow_runner, db, name, flow, args, expected):
    res = flow_runner(FLOWS / name, "run", *args)
    assert res.returncode == 0, res.stderr
    assert expected in res.stdout
    assert run_row(db, flow, res.run_id)["status"] == "completed"


@pytest.mark.timeout(300)
def test_same_files_run_under_metaflow(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWSCOPE_", "METAFLOW_"))}
    env.update(METAFLOW_DEFAULT_METADATA="local", METAFLOW_DEFAULT_DATASTORE="local",
               METAFLOW_USER="tester", USERNAME="tester", HOME=str(tmp_path))
    for name, _flow, args, expected in EXAMPLES:
        text = (FLOWS / name).read_text().replace("from core_runtime import", "from metaflow import", 1)
        path = tmp_path / name
        path.write_text(text)
        proc = subprocess.run([sys.executable, str(path), "run", *args], check=False, cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=240)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert expected in proc.stdout + proc.stderr
