"""Metaflow 2.19's user API on core_runtime: Configs and config_expr, every source of a Parameter,
IncludeFile, class-level constants, @project, @environment, @secrets, user decorators, @parallel,
custom card types, the command line Metaflow users type, and what the client gives back."""

from __future__ import annotations

import os
import pickle
import sys
from pathlib import Path

import pytest

from tests.runtime.conftest import FLOWS

API = FLOWS / "api"


@pytest.fixture()
def client(settings):
    from core_runtime import client as mod

    mod.configure(settings)
    mod.namespace(None)
    yield mod
    mod.default_namespace()
    mod.configure(None)


def _data(client, flow: str, run_id: str, step: str):
    return client.Run(f"{flow}/{run_id}")[step].task.data


def test_values_from_configs_parameters_files_and_decorators(flow_runner, client):
    res = flow_runner(API / "values_flow.py", "run", extra_env={"METAFLOW_RUN_ENV_ONLY": "from env"})
    assert res.returncode == 0, res.stderr
    end = _data(client, "ValuesFlow", res.run_id, "end")
    # n: a default function of the ParameterContext reading a Config; from_cfg: a config_expr;
    # words: split by separator; blob: JSON text; env_only: METAFLOW_RUN_ENV_ONLY.
    assert end.summary == (42, 21, ["a", "b", "c"], {"x": [1, 2]}, "from env", "hi", 1, 64)
    assert end.text == "café au lait\n"
    assert end.raw == "café au lait\n".encode()
    assert end.absent is None
    start = _data(client, "ValuesFlow", res.run_id, "start")
    assert start.env_seen == ("HI", "yes", True)
    assert start.batch_is_read_only and start.config_is_read_only
    assert start.names == ["absent", "blob", "env_only", "extra", "from_cfg", "n", "raw", "settings",
                           "text", "words"]
    assert start.project == ("values", "user.tester", "values.user.tester.ValuesFlow", False)
    run = client.Run(f"ValuesFlow/{res.run_id}")
    assert {"project:values", "project_branch:user.tester"} <= run.system_tags
    # The run page shows an included file by name and size, never its content.
    assert run.parameters["text"] == {"type": "IncludeFile", "path": "values_flow_data.txt",
                                      "size": 14, "is_text": True, "encoding": "utf-8"}
    assert run.parameters["settings"]["project"] == "values"
    assert "batch" not in run.parameters


def test_command_line_sources_win(flow_runner, client, tmp_path):
    other = tmp_path / "other.txt"
    other.write_text("other file")
    res = flow_runner(API / "values_flow.py", "--config-value", "settings",
                      '{"project": "values", "base": 5, "greeting": "yo"}', "--metadata=local",
                      "--datastore", "local", "--no-pylint", "--quiet", "--branch", "feature",
                      "run", "--n", "3", "--text", str(other), "--words=x,y", "--max-num-splits=10",
                      extra_env={"METAFLOW_RUN_N": "99"})
    assert res.returncode == 0, res.stderr
    assert res.stdout == ""                                  # --quiet
    end = _data(client, "ValuesFlow", res.run_id, "end")
    assert end.summary[:3] == (3, 5, ["x", "y"]) and end.summary[5] == "yo"
    assert end.text == "other file"
    start = _data(client, "ValuesFlow", res.run_id, "start")
    assert start.env_seen[0] == "YO"
    assert start.project[:2] == ("values", "test.feature")


@pytest.mark.parametrize("args, message", [
    (("--metadata", "nosuch", "run"), "invalid value 'nosuch' for --metadata"),
    (("--config-value", "settings", "{not json", "run"), "settings"),
    (("run", "--text", "/nonexistent/file.txt"), "--text: cannot read /nonexistent/file.txt"),
    (("--branch", "bad branch!", "run"), "--branch 'bad branch!'"),
])
def test_bad_values_are_one_line_errors(flow_runner, args, message):
    res = flow_runner(API / "values_flow.py", *args)
    assert res.returncode != 0
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], res.stderr


def test_user_decorators_mutators_and_with(flow_runner, client):
    res = flow_runner(API / "decorators_flow.py", "run", "--added", "8")
    assert res.returncode == 0, res.stderr
    end = _data(client, "DecoratorsFlow", res.run_id, "end")
    assert end.seen == ("go:start", "done", 2, 8)
    run = client.Run(f"DecoratorsFlow/{res.run_id}")
    assert "should_not_exist" not in run["skipped"].task.data
    flaky = run["flaky"].task
    assert sorted(m.value for m in flaky.metadata if m.type == "attempt") == ["0", "1"]


def test_with_adds_a_decorator_to_every_step(flow_runner, client):
    res = flow_runner(FLOWS / "retry_delay_flow.py", "--with", "retry:times=0", "run")
    assert res.returncode == 0, res.stderr         # the step's own @retry(times=1) is kept
    res = flow_runner(FLOWS / "retry_delay_flow.py", "--with", "nosuch", "run")
    assert "unknown decorator @nosuch" in res.stderr


def test_parallel_gang(flow_runner, client):
    res = flow_runner(API / "parallel_flow.py", "run")
    assert res.returncode == 0, res.stderr
    run = client.Run(f"GangFlow/{res.run_id}")
    assert run["join"].task.data.nodes == [(0, 3, 0), (1, 3, 1), (2, 3, 2)]
    assert len(list(run["train"].tasks())) == 3
    control = list(run["train"].control_tasks())
    assert len(control) == 1 and control[0].index == 0
    assert run.dag["steps"]["start"]["type"] == "split-parallel"


def test_custom_card_types_and_get_cards(flow_runner, client):
    from core_runtime.cards import CardNotPresentException, get_cards

    res = flow_runner(API / "cards_flow.py", "run")
    assert res.returncode == 0, res.stderr
    task = client.Run(f"CardsFlow/{res.run_id}")["start"].task
    cards = get_cards(task)
    assert sorted((c.type, c.id) for c in cards) == [("broken_card", "shown"), ("list_card", None)]
    listed = get_cards(task.pathspec, type="list_card")[0]
    # Only components reach a card type (the plain string was left out), rendered.
    assert listed.get() == f"{task.pathspec}: HELLO (42)"
    assert "no way" in get_cards(task, id="shown")[0].get()       # save_errors=True: an error card
    with pytest.raises(CardNotPresentException):
        get_cards(task, type="nosuch")
    assert "current.card['missing']" in task.stderr


def test_flow_object_and_client_like_metaflow(flow_runner, client, settings):
    import importlib.util

    res = flow_runner(FLOWS / "mf_branch.py", "run")
    assert res.returncode == 0, res.stderr
    spec = importlib.util.spec_from_file_location("mf_branch_mod", FLOWS / "mf_branch.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module          # as an import does
    spec.loader.exec_module(module)
    flow = module.TwoModelsFlow(use_cli=False)
    assert flow.name == "TwoModelsFlow"
    names = [s.name for s in flow]
    assert names == sorted(names) and "start" in names
    assert flow._graph["start"].type == "split" and flow._graph["join"].type == "join"
    run = client.Flow(flow.name)[res.run_id]
    join = run["join"].task
    parents = sorted(t.pathspec.split("/")[2] for t in join.parent_tasks)
    assert parents == sorted(flow._graph["join"].in_funcs)
    assert [t.pathspec for t in run["start"].task.child_tasks] == sorted(
        t.pathspec for p in run["start"].child_steps for t in p)
    # Client objects pickle by pathspec (Metaflow's current.task / current.run artifacts).
    assert pickle.loads(pickle.dumps(join)).pathspec == join.pathspec
    assert client.get_metadata().startswith("flowscope@")
    with pytest.raises(Exception, match="Postgres"):
        client.metadata("local@/tmp")
    with pytest.raises(KeyError):
        run["start"].task["no_such_artifact"]


def test_resume_records_where_tasks_came_from(flow_runner, client):
    res = flow_runner(FLOWS / "resume_flow.py", "run")
    assert res.returncode != 0
    res2 = flow_runner(FLOWS / "resume_flow.py", "resume", "--origin-run-id", res.run_id,
                       extra_env={"RESUME_FLOW_OK": "1"})
    assert res2.returncode == 0, res2.stderr
    run = client.Run(f"ResumeFlow/{res2.run_id}")
    assert run.origin_pathspec == f"ResumeFlow/{res.run_id}"
    start = run["start"].task
    assert start.origin_pathspec is not None and start.origin_pathspec.startswith(f"ResumeFlow/{res.run_id}/start/")
    assert start.metadata_dict["origin-run-id"] == res.run_id
    assert "origin-task-id" in start.metadata_dict
    # As in Metaflow, resume without a step clones the completed splits and re-runs the failed one.
    by_index = {t.index: t for t in run["train"]}
    rerun = by_index[1]
    assert rerun.origin_pathspec is None and "origin-task-id" not in rerun.metadata_dict
    # (which other splits completed before the origin stopped depends on timing)
    cloned = [t for t in by_index.values() if t.origin_pathspec is not None]
    assert all(t.origin_pathspec.startswith(f"ResumeFlow/{res.run_id}/train/") for t in cloned)
    assert all(t.metadata_dict.get("origin-task-id") for t in cloned)
    assert run["train"].origin_pathspec == f"ResumeFlow/{res.run_id}/train"


def test_exception_module_names(tmp_path: Path):
    from core_runtime.client import FlowscopeNamespaceMismatch, FlowscopeNotFound
    from core_runtime.exception import MetaflowException, MetaflowNamespaceMismatch, MetaflowNotFound
    from core_runtime.flowspec import MergeArtifactsError

    assert issubclass(FlowscopeNotFound, MetaflowNotFound) and issubclass(MetaflowNotFound, MetaflowException)
    assert issubclass(FlowscopeNamespaceMismatch, MetaflowNamespaceMismatch)
    assert issubclass(MergeArtifactsError, MetaflowException)
    assert os.path.basename(__file__)   # the module imports without Metaflow installed-side effects
