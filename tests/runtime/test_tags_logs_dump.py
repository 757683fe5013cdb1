"""The ``tag``, ``logs`` and ``dump`` commands and client tag mutation, as a Metaflow user uses
them after a run — the same commands and the same client script on core_runtime and on pip
metaflow 2.19 give the same tags, output and artifacts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.runtime.conftest import run_row
from tests.runtime.dual_runtime import copy_files, metaflow_env, run_driver

FLOW = Path(__file__).resolve().parent / "tag_flows" / "nightly_report.py"


def cli_session(cwd: Path, env: dict[str, str]) -> dict[str, Any]:
    """A run, then tag/logs/dump commands on it; what a user would look at in each answer."""

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, FLOW.name, *args], cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=300, check=False)

    ran = cli("run", "--tag", "draft", "--run-id-file", "run-id")
    assert ran.returncode == 0, ran.stderr[-2000:]
    run_id = (cwd / "run-id").read_text().strip()
    out: dict[str, Any] = {"run_id": run_id}
    steps = [("add", ["tag", "add", "--run-id", run_id, "reviewed", "ok"]),
             ("remove", ["tag", "remove", "--run-id", run_id, "ok"]),
             ("replace", ["tag", "replace", "--run-id", run_id, "--remove", "draft", "--add", "final"])]
    for name, args in steps:
        res = cli(*args)
        said = res.stdout + res.stderr
        out[name] = [res.returncode, "reviewed" in res.stdout, "Operation successful. New tags:" in said]
    errors = {"system": ["tag", "remove", "--run-id", run_id, "user:tester"],
              "no_run_id": ["tag", "add", "reviewed"],
              "replace_without_remove": ["tag", "replace", "--run-id", run_id, "--add", "x"]}
    phrases = {"system": "Cannot remove a tag that is an existing system tag",
               "no_run_id": "specify a run-id using --run-id",
               "replace_without_remove": "Specify at least one tag to remove"}
    for name, args in errors.items():
        res = cli(*args)
        out[name] = [res.returncode != 0, phrases[name] in res.stdout + res.stderr]
    listed = cli("tag", "list", "--run-id", run_id, "--hide-system-tags", "--flat")
    # --flat prints to stderr on Metaflow, after its banner line; keep the tag lines only.
    out["list"] = sorted(ln for ln in (listed.stdout + listed.stderr).split("\n") if ln and " " not in ln)
    logs = cli("logs", f"{run_id}/start", "--stdout")
    out["logs"] = [logs.returncode, logs.stdout.strip().splitlines()]
    dumped = cli("dump", f"{run_id}/end", "--include", "report")
    out["dump"] = [dumped.returncode, [ln.split(" = ", 1)[1] for ln in dumped.stdout.splitlines() if " = " in ln]]
    return out


EXPECTED_CLI = {
    "add": [0, True, True], "remove": [0, True, True], "replace": [0, True, True],
    "system": [True, True], "no_run_id": [True, True], "replace_without_remove": [True, True],
    "list": ["final", "reviewed"],
    "logs": [0, ["loaded 3 rows"]],
    "dump": [0, ["{'rows': 3, 'total': 6}"]],
}


def test_tag_logs_dump_commands(flowscope_env: dict[str, str], db: Any, tmp_path: Path) -> None:
    copy_files([FLOW], tmp_path, metaflow=False)
    got = cli_session(tmp_path, flowscope_env)
    assert {k: v for k, v in got.items() if k != "run_id"} == EXPECTED_CLI
    row = run_row(db, "NightlyReportFlow", got["run_id"])
    assert sorted(row["tags"]) == ["final", "reviewed"] and "user:tester" in row["system_tags"]


@pytest.mark.compat
@pytest.mark.timeout(900)
def test_same_commands_on_metaflow(tmp_path: Path) -> None:
    copy_files([FLOW], tmp_path, metaflow=True)
    got = cli_session(tmp_path, metaflow_env(tmp_path))
    assert {k: v for k, v in got.items() if k != "run_id"} == EXPECTED_CLI


CLIENT_DRIVER = '''
import json
from core_runtime import Flow, Run, Runner, namespace

out = {}
with Runner("nightly_report.py", show_output=False).run(tags=["draft"]) as running:
    run = running.run
namespace(None)
run = Run(run.pathspec)
run.add_tag("reviewed")
run.add_tags(["a", "b"])
run.remove_tag("a")
run.remove_tags(["b", "never-there"])
run.replace_tag("draft", "final")
run.add_tag("user:tester")                      # a system tag: not added, no error
out["after"] = sorted(run.user_tags)
out["reread"] = sorted(Run(run.pathspec).user_tags)
out["system_kept"] = "user:tester" in Run(run.pathspec).system_tags
errors = {}
for name, call in [("remove_system", lambda: run.remove_tag("user:tester")),
                   ("empty", lambda: run.add_tag("")),
                   ("too_long", lambda: run.add_tag("x" * 501)),
                   ("string_list", lambda: run.replace_tags("abc", ["d"])),
                   ("nothing", lambda: run.replace_tags([], []))]:
    try:
        call()
        errors[name] = None
    except Exception as exc:
        errors[name] = str(exc).strip().splitlines()[-1]
out["errors"] = errors
out["tagged_runs"] = run.id in [r.id for r in Flow("NightlyReportFlow").runs("final", "reviewed")]
print(json.dumps(out))
'''


def test_client_tag_mutation(flowscope_env: dict[str, str], tmp_path: Path) -> None:
    copy_files([FLOW], tmp_path, metaflow=False)
    got = run_driver(CLIENT_DRIVER, tmp_path, flowscope_env, metaflow=False)
    assert got["after"] == got["reread"] == ["final", "reviewed"]
    assert got["system_kept"] and got["tagged_runs"]
    assert got["errors"] == {
        "remove_system": "Cannot remove a tag that is an existing system tag (['user:tester'])",
        "empty": "Tags must not be empty string",
        "too_long": "Tag is too long 501 > 500",
        "string_list": "tags_to_remove may not be a string",
        "nothing": "Must add or remove at least one tag",
    }


@pytest.mark.compat
@pytest.mark.timeout(600)
def test_same_client_script_on_metaflow(flowscope_env: dict[str, str], tmp_path: Path) -> None:
    ours_dir, theirs_dir = tmp_path / "ours", tmp_path / "theirs"
    copy_files([FLOW], ours_dir, metaflow=False)
    copy_files([FLOW], theirs_dir, metaflow=True)
    ours = run_driver(CLIENT_DRIVER, ours_dir, flowscope_env, metaflow=False)
    theirs = run_driver(CLIENT_DRIVER, theirs_dir, metaflow_env(tmp_path), metaflow=True)
    assert ours == theirs


def test_card_list_get_view(flow_runner: Any, tmp_path: Path) -> None:
    import json

    flow = FLOW.with_name("report_cards.py")
    ran = flow_runner(flow, "run")
    assert ran.returncode == 0, ran.stderr
    listed = flow_runner(flow, "card", "list", f"{ran.run_id}/start", "--as-json")
    assert listed.returncode == 0, listed.stderr
    doc = json.loads(listed.stdout)
    assert doc["pathspec"].startswith(f"ReportCardsFlow/{ran.run_id}/start/")
    cards = {c["id"]: c for c in doc["cards"]}
    # Metaflow's card id: the id given to @card, None for the card without one.
    assert set(cards) == {"summary", None} and cards["summary"]["type"] == "blank"
    assert cards[None]["type"] == "default"
    got = flow_runner(flow, "card", "get", f"{ran.run_id}/start", "--id", "summary")
    assert got.returncode == 0 and "Nightly summary" in got.stdout and "<html" in got.stdout.lower()
    out = tmp_path / "default.html"
    saved = flow_runner(flow, "card", "get", "start", str(out), "--type", "default")   # my latest run
    assert saved.returncode == 0 and "total" in out.read_text()
    both = flow_runner(flow, "card", "get", f"{ran.run_id}/start")
    assert both.returncode == 0 and "Found 2 cards" in both.stdout and "--hash" in both.stdout
    by_hash = flow_runner(flow, "card", "get", f"{ran.run_id}/start", "--hash", cards["summary"]["hash"][:7])
    assert "Nightly summary" in by_hash.stdout
    viewed = flow_runner(flow, "card", "view", f"{ran.run_id}/start", "--id", "summary",
                         extra_env={"BROWSER": "true"})
    assert viewed.returncode == 0 and viewed.stdout.strip().endswith("summary.html")
    missing = flow_runner(flow, "card", "get", f"{ran.run_id}/end")
    assert missing.returncode == 1 and "No card found for ReportCardsFlow/" in missing.stderr
    assert "Card not found in datastore" in missing.stderr      # Metaflow's headline, which scripts read


def test_dump_to_a_file_keys_tasks_as_metaflow_does(flow_runner: Any, tmp_path: Path) -> None:
    import pickle

    ran = flow_runner(FLOW, "run")
    assert ran.returncode == 0, ran.stderr
    out = tmp_path / "dumped.pkl"
    res = flow_runner(FLOW, "dump", f"{ran.run_id}/end", "--include", "report", "--file", str(out))
    assert res.returncode == 0, res.stderr
    with open(out, "rb") as fh:
        dumped = pickle.load(fh)
    (key, values), = dumped.items()
    # Metaflow keys them run_id/step/task_id (its checker joins the flow name in front itself).
    assert key.startswith(f"{ran.run_id}/end/") and key.count("/") == 2
    assert list(values) == ["report"]
