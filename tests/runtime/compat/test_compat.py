"""Flows written as Metaflow users write them run under core_runtime and under pip ``metaflow``
2.19 with identical artifacts: every task of every step, read back through each one's client.

The flows cover the features of Metaflow's published tutorials (an IncludeFile of a CSV with
parameters and branches; a foreach of statistics; a flow reading another flow's latest
successful run through the client) plus nested foreach and the 2.19 additions (Config,
config_expr, @project, @environment, user decorators, @retry, @catch). The only difference
between the two copies of a flow is its import line.

Not here, because pip metaflow cannot run them on this machine (docs/runtime.md says why, from
Metaflow's source): the ``@conda_base`` tutorial flow (tests/runtime/env_flows/playlist_table.py,
tested in test_environments.py) needs ``--environment=conda``, i.e. micromamba and a conda
channel, neither of which exists or is reachable here; the ``@kubernetes`` + ``@retry`` flow
(tests/runtime/ray_flows/kubernetes_retry_flow.py, tested in test_remote_decorators.py) needs an
S3/Azure/GCS datastore and a Kubernetes cluster, and Metaflow never runs such a step locally.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]

# In order: the redux flow reads the statistics flow's latest successful run.
FLOWS = [
    ("playlist_flow.py", "PlaylistFlow", ("--genre", "Drama", "--length", "2")),
    ("stats_flow.py", "FilmStatsFlow", ()),
    ("redux_flow.py", "PlaylistReduxFlow", ()),
    ("nested_flow.py", "GridFlow", ()),
    ("features_flow.py", "FeaturesFlow", ()),
]


def _run(cmd: list[str], env: dict[str, str], cwd: Path, timeout: float = 600) -> str:
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          check=False)
    assert proc.returncode == 0, f"{' '.join(cmd)}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def _copy_to(dest: Path, package: str) -> Path:
    """The flows, their CSV and the dump script in ``dest``, importing from ``package``."""
    dest.mkdir()
    shutil.copy(HERE / "movies.csv", dest / "movies.csv")
    shutil.copy(HERE / "dump_artifacts.py", dest / "dump_artifacts.py")
    for name, _flow, _args in FLOWS:
        text = (HERE / name).read_text()
        if package == "metaflow":
            text = text.replace("from core_runtime import", "from metaflow import")
        (dest / name).write_text(text)
    return dest


def _run_all(dest: Path, env: dict[str, str]) -> dict[str, dict[str, list[str]]]:
    package = "metaflow" if "METAFLOW_DEFAULT_METADATA" in env else "core_runtime"
    dumps = {}
    for name, flow, args in FLOWS:
        _run([sys.executable, name, "run", *args, "--run-id-file", f"{flow}.id"], env, dest)
        run_id = (dest / f"{flow}.id").read_text().strip()
        out = _run([sys.executable, "dump_artifacts.py", package, flow, run_id], env, dest)
        dumps[flow] = json.loads(out)
    return dumps


@pytest.mark.timeout(1800)
def test_same_artifacts_under_core_runtime_and_metaflow(flowscope_env: dict[str, str], tmp_path: Path):
    ours_env = {**flowscope_env, "PYTHONPATH": str(REPO)}
    ours = _run_all(_copy_to(tmp_path / "ours", "core_runtime"), ours_env)

    mf_env = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWSCOPE_", "METAFLOW_"))}
    mf_env.update(METAFLOW_DEFAULT_METADATA="local", METAFLOW_DEFAULT_DATASTORE="local",
                  METAFLOW_USER="tester", USERNAME="tester", HOME=str(tmp_path),
                  PATH=os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")]))
    theirs = _run_all(_copy_to(tmp_path / "metaflow", "metaflow"), mf_env)

    for _name, flow, _args in FLOWS:
        assert set(ours[flow]) == set(theirs[flow]), flow
        for step in ours[flow]:
            assert ours[flow][step] == theirs[flow][step], f"{flow}/{step}"
    # The runs did what the flows say (not just the same thing twice).
    playlist = json.loads(ours["PlaylistFlow"]["end"][0])
    assert playlist["playlist"] == ["Winter Ledger", "Paper Lanterns"]
    assert playlist["bonus_film"] == "Neon Meridian"
    redux = json.loads(ours["PlaylistReduxFlow"]["end"][0])
    assert redux["widest_genre"] == "Drama" and redux["chosen_stats"]["count"] == 4
    features = json.loads(ours["FeaturesFlow"]["end"][0])
    assert features["outcome"] == ["builtins.ValueError", "bad input 2", 0.5, "compat_demo", "user.tester"]
    assert features["problem"] == {"exception": ["builtins.ValueError", "bad input 2"]}
