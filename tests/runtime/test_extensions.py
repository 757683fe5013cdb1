"""Metaflow extension packages on core_runtime: tests/runtime/extensions holds
``metaflow_extensions.acme`` (config, exceptions, toplevel, plugins, plugins.cards points);
extension_flow.py uses all of it. Also @pytorch_parallel, core_runtime's own decorator class
that the extension subclasses through ``_orig``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.runtime.conftest import FLOWS

EXTENSIONS = Path(__file__).resolve().parent / "extensions"
API = FLOWS / "api"


@pytest.fixture()
def client(settings):
    from core_runtime import client as mod

    mod.configure(settings)
    mod.namespace(None)
    yield mod
    mod.default_namespace()
    mod.configure(None)


def _with_extensions(flowscope_env: dict[str, str]) -> dict[str, str]:
    return {"PYTHONPATH": f"{EXTENSIONS}{os.pathsep}{flowscope_env['PYTHONPATH']}"}


def test_extension_points_reach_the_flow(flow_runner, flowscope_env, client):
    res = flow_runner(API / "extension_flow.py", "run", extra_env=_with_extensions(flowscope_env))
    assert res.returncode == 0, res.stderr
    run = client.Run(f"ExtensionFlow/{res.run_id}")
    start = run["start"].task
    assert start.data.seen == ("eu-west-3", "Acme quota exceeded", "bonjour", "hello ada from acme",
                               "pytorch_parallel", "train:start", "nobody")
    # The step decorator's hooks: task_decorate wrapped the step, task_post_step set an artifact.
    assert start.data.audit_wrapped is True
    assert start.data.audit == ("train", "start", "start")
    # task_exception returned True for the KeyError: the task completed, the run went on.
    fragile = run["fragile"].task
    assert fragile.successful
    assert fragile.data.audit_handled == "KeyError: 'no such key'"
    assert fragile.data.before == 1
    assert run.successful
    # The flow decorator's option comes from METAFLOW_TEAM when not on the command line.
    from core_runtime.cards import get_cards

    cards = get_cards(start, type="acme_card")
    assert len(cards) == 1 and f"acme card of ExtensionFlow/{res.run_id}/start/" in cards[0].get()


def test_flow_decorator_option_from_command_line_and_environment(flow_runner, flowscope_env, client):
    env = _with_extensions(flowscope_env)
    shown = flow_runner(API / "extension_flow.py", "--help", extra_env=env)
    assert shown.returncode == 0, shown.stderr
    assert f"{'  --team VALUE':<28}who owns the run [@acme_team]" in shown.stdout.splitlines()
    res = flow_runner(API / "extension_flow.py", "--team", "vision", "run", extra_env=env)
    assert res.returncode == 0, res.stderr
    assert client.Run(f"ExtensionFlow/{res.run_id}")["end"].task.data.team_in_end == "vision"
    res = flow_runner(API / "extension_flow.py", "run", "--with", "audited:label=all",
                      extra_env={**env, "METAFLOW_TEAM": "nlp"})
    assert res.returncode == 0, res.stderr
    end = client.Run(f"ExtensionFlow/{res.run_id}")["end"].task.data
    assert end.team_in_end == "nlp"
    # --with adds the extension's step decorator where a step lacks it (here: end).
    assert end.audit == ("all", "end", "end")


def test_broken_extension_is_a_warning_not_a_crash(tmp_path, flowscope_env):
    broken = tmp_path / "metaflow_extensions" / "broken" / "config"
    broken.mkdir(parents=True)
    (broken / "mfextinit_broken.py").write_text("raise RuntimeError('bad config module')\n")
    proc = subprocess.run([sys.executable, "-c", "import core_runtime; print(core_runtime.step.__name__)"],
                          env={**flowscope_env, "PYTHONPATH": f"{tmp_path}{os.pathsep}{flowscope_env['PYTHONPATH']}"},
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "step"
    assert "warning: Metaflow extension: metaflow_extensions.broken.config.mfextinit_broken cannot be " \
           "imported: RuntimeError: bad config module" in proc.stderr


def test_pytorch_parallel_sets_torch_distributed_variables(flow_runner, client):
    res = flow_runner(API / "torch_gang_flow.py", "run")
    assert res.returncode == 0, res.stderr
    join = client.Run(f"TorchGangFlow/{res.run_id}")["join"].task
    port = str(51000 + int(res.run_id) % 10000)
    assert join.data.envs == [("127.0.0.1", port, str(i), "2", "2") for i in range(2)]


def test_spin_runs_extension_flow_decorators(flow_runner, flowscope_env, tmp_path):
    env = {**_with_extensions(flowscope_env), "FLOWSCOPE_SPIN_DIR": str(tmp_path / "spin")}
    res = flow_runner(API / "extension_flow.py", "run", extra_env=env)
    assert res.returncode == 0, res.stderr
    spun = flow_runner(API / "extension_flow.py", "--team", "spun", "spin", f"{res.run_id}/end",
                       extra_env=env)
    assert spun.returncode == 0, spun.stderr
    assert "team_in_end" in spun.stdout + spun.stderr and "'spun'" in spun.stdout + spun.stderr


def test_flow_decorator_values_reach_a_pypi_step(flow_runner, flowscope_env, client):
    env = _with_extensions(flowscope_env)
    res = flow_runner(API / "extension_env_flow.py", "--team", "infra", "run", extra_env=env, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    start = client.Run(f"ExtensionEnvFlow/{res.run_id}")["start"].task
    assert start.data.team == "infra"
    assert any(m.type == "environment" for m in start.metadata)     # it did run in the environment
