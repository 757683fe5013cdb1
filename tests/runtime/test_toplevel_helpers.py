"""Metaflow's top-level helpers a step uses — ``parallel_map``, ``parallel_imap_unordered``,
``profile`` and the Config parsers — give the same answers on core_runtime and on pip metaflow
2.19 (one driver script, only its import line swapped)."""

from __future__ import annotations

from pathlib import Path

from tests.runtime.dual_runtime import metaflow_env, run_driver

DRIVER = '''
import io, json, os, contextlib
from core_runtime import (parallel_map, parallel_imap_unordered, profile, yaml_parser,
                          requirements_txt_parser, pyproject_toml_parser,
                          conda_environment_yml_parser)

out = {}
base = 10
PARENT = os.getpid()
out["map"] = parallel_map(lambda x: (x * x + base, os.getpid() != PARENT), range(7), max_parallel=3)
out["imap"] = sorted(parallel_imap_unordered(lambda s: s.upper(), ["a", "bb", "ccc"]))
out["empty"] = parallel_map(str, [])
try:
    parallel_map(lambda x: 1 // x, [1, 0, 2])
    out["failure"] = None
except Exception as exc:
    out["failure"] = type(exc).__name__
stats = {}
with profile("load", stats_dict=stats):
    pass
with profile("load", stats_dict=stats):
    pass
out["stats"] = sorted(stats)
printed = io.StringIO()
with contextlib.redirect_stdout(printed):
    with profile("train"):
        pass
out["printed"] = [line.split(" in ")[0] for line in printed.getvalue().splitlines()]
out["yaml"] = yaml_parser("a: 1\\nb: [x, y]\\n")
out["req"] = requirements_txt_parser("numpy==1.26.4\\n# comment\\npandas>=2.0\\n")
out["pyproject"] = pyproject_toml_parser(
    '[project]\\nname = "x"\\nrequires-python = ">=3.11"\\ndependencies = ["rich==13.7.1"]\\n')
out["conda"] = conda_environment_yml_parser(
    "name: demo\\nchannels:\\n  - conda-forge\\ndependencies:\\n  - python=3.11\\n"
    "  - numpy=1.26.4\\n  - pandas>=2  # recent\\n  - scipy\\n")
try:
    conda_environment_yml_parser("dependencies:\\n  - pip:\\n    - rich\\n")
    out["conda_pip"] = None
except Exception as exc:
    out["conda_pip"] = type(exc).__name__
print(json.dumps(out))
'''


def test_helpers_answer_like_metaflow(tmp_path: Path, flowscope_env: dict[str, str]) -> None:
    ours = run_driver(DRIVER, _dir(tmp_path / "ours"), flowscope_env, metaflow=False, timeout=120)
    theirs = run_driver(DRIVER, _dir(tmp_path / "mf"), metaflow_env(tmp_path / "mf"), metaflow=True,
                        timeout=300)
    assert ours["map"] == [[x * x + 10, True] for x in range(7)]
    assert ours["imap"] == ["A", "BB", "CCC"]
    assert ours["failure"] == "MulticoreException"
    assert ours["stats"] == ["load"]
    assert ours["printed"] == ["PROFILE: train starting", "PROFILE: train completed"]
    assert ours["conda"] == {"packages": {"numpy": "1.26.4", "pandas": ">=2", "scipy": ""},
                             "python": "3.11"}
    assert ours["conda_pip"] is not None
    # Metaflow raises its own ParserValueError class for the pip section; the rest is identical.
    assert {k: v for k, v in ours.items() if k != "conda_pip"} == \
        {k: v for k, v in theirs.items() if k != "conda_pip"}


def _dir(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


def test_exit_hooks_run_after_the_run_and_never_change_its_outcome(flow_runner) -> None:
    from tests.runtime.conftest import FLOWS

    flow = FLOWS / "api" / "exit_hook_flow.py"
    ok = flow_runner(flow, "run")
    assert ok.returncode == 0, ok.stderr
    lines = [ln for ln in ok.stdout.splitlines() if ln.startswith(("notify", "cleanup", "page", "[exit_hook]"))]
    # Decorators apply bottom-up: the lower @exit_hook's hooks run first (pip metaflow 2.19.39
    # prints these same lines for this flow, its failure message for `broken` aside).
    assert lines == ["[exit_hook] Hook 'broken' failed (exit code 1)",
                     "cleanup: nothing to undo",
                     f"notify: ExitHookFlow/{ok.run_id} successful=True answer=42",
                     "cleanup: nothing to undo"]
    assert "RuntimeError: hook bug" in ok.stdout
    failed = flow_runner(flow, "run", "--fail", "true")
    assert failed.returncode == 1
    lines = [ln for ln in failed.stdout.splitlines() if ln.startswith(("notify", "cleanup", "page"))]
    assert lines == ["cleanup: nothing to undo", f"page_oncall: ExitHookFlow/{failed.run_id} failed"]


def test_deployment_decorators_are_recorded_and_ignored_locally(flow_runner, db, tmp_path: Path) -> None:
    from tests.runtime.conftest import FLOWS, run_row

    res = flow_runner(FLOWS / "api" / "scheduled_flow.py", "run")
    assert res.returncode == 0, res.stderr
    dag = run_row(db, "ScheduledFlow", res.run_id)["dag"]
    assert [d["name"] for d in dag["decorators"]] == ["trigger_on_finish", "schedule"]
    bad = tmp_path / "bad_trigger.py"
    bad.write_text("from core_runtime import FlowSpec, step, trigger\n\n\n"
                   "@trigger(event='a', events=['b'])\nclass BadFlow(FlowSpec):\n"
                   "    @step\n    def start(self):\n        self.next(self.end)\n\n"
                   "    @step\n    def end(self):\n        pass\n\n\nBadFlow()\n")
    res = flow_runner(bad, "run")
    assert res.returncode == 1
    assert res.stderr.strip() == "error: @trigger: specify only one of event= or events="
