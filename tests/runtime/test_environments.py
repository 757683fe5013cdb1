"""@pypi / @conda: a real isolated environment per distinct package set, installed from the
package index, reused by later runs, recorded on each task (and so shown in the UI)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.runtime.conftest import artifacts_of, load_value, run_row, task_rows

FLOWS = Path(__file__).resolve().parent / "env_flows"


def metadata(db: Any, task_pk: int) -> dict[str, tuple[str, str]]:
    with db.cursor() as cur:
        cur.execute("SELECT field_name, value, type FROM metadata WHERE task_pk = %s ORDER BY id", (task_pk,))
        return {name: (value, typ) for name, value, typ in cur.fetchall()}


def values(db: Any, settings: Any, task: dict[str, Any]) -> dict[str, Any]:
    return {n: load_value(settings, a["location"]) for n, a in artifacts_of(db, task["task_pk"]).items()}


@pytest.mark.timeout(900)
def test_conda_flow_runs_in_its_own_environment(flow_runner, db, settings):
    res = flow_runner(FLOWS / "playlist_table.py", "run", timeout=600)
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.count("no conda channel is reachable") == 1            # said once
    assert "Creating environment" in res.stdout and "tabulate-0.9.0" in res.stdout
    run = run_row(db, "PlaylistTableFlow", res.run_id)
    tasks = {t["step_name"]: t for t in task_rows(db, run["run_pk"])}
    table = values(db, settings, tasks["table"])
    assert table["tabulate_version"] == "0.9.0"
    assert table["text"].splitlines()[2].split() == ["So", "What", "562"]
    assert table["sees_runtime_packages"] is False          # isolated from the runtime's packages
    assert values(db, settings, tasks["end"])["end_has_tabulate"] is False
    meta = metadata(db, tasks["table"]["task_pk"])
    env_text, env_type = meta["environment"]
    assert env_type == "environment" and env_text.startswith("conda: tabulate==0.9.0 · Python ")
    key = env_text.rsplit("env ", 1)[1]
    assert table["prefix"].endswith(key)
    assert meta["environment-notice"][1] == "notice" and "no conda channel" in meta["environment-notice"][0]
    assert "environment" not in metadata(db, tasks["end"]["task_pk"])        # disabled=True

    again = flow_runner(FLOWS / "playlist_table.py", "run", "--genre", "electronic", timeout=600)
    assert again.returncode == 0, again.stderr
    assert "Creating environment" not in again.stdout and "(1 already built)" in again.stdout
    run2 = run_row(db, "PlaylistTableFlow", again.run_id)
    table2 = {t["step_name"]: t for t in task_rows(db, run2["run_pk"])}["table"]
    assert metadata(db, table2["task_pk"])["environment"][0] == env_text     # the same environment


@pytest.mark.timeout(900)
def test_a_python_pin_that_cannot_be_met_is_a_notice(flow_runner, db, settings):
    from core_runtime.environments.pythons import find_python

    res = flow_runner(FLOWS / "pinned_python.py", "run", timeout=600)
    assert res.returncode == 0, res.stdout + res.stderr
    tasks = {t["step_name"]: t for t in task_rows(db, run_row(db, "PinnedPythonFlow", res.run_id)["run_pk"])}
    assert values(db, settings, tasks["old"])["old_python"] == "3.11"
    notice, typ = metadata(db, tasks["old"]["task_pk"])["environment-notice"]
    assert typ == "notice" and "asks for Python 3.8" in notice and "ran on Python 3.11" in notice
    py312 = find_python("3.12", "test")
    end_meta = metadata(db, tasks["end"]["task_pk"])
    if py312.notice is None:     # this machine has a Python 3.12: the step ran on it
        assert values(db, settings, tasks["end"])["end_python"] == "3.12"
        assert "Python 3.12" in end_meta["environment"][0] and "environment-notice" not in end_meta
    else:
        assert "does not have" in end_meta["environment-notice"][0]


def test_a_package_the_index_lacks_stops_the_run_before_it_starts(flow_runner, db):
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM runs WHERE flow_id = 'MissingPackageFlow'")
        before = cur.fetchone()[0]
    res = flow_runner(FLOWS / "missing_package.py", "run", timeout=600)
    assert res.returncode == 1
    line = res.stderr.strip().splitlines()[-1]
    assert line.startswith("error: @pypi on step 'start' (") and "missing_package.py:9)" in line
    assert "flowscope-test-no-such-package==1.0.0 failed" in line
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM runs WHERE flow_id = 'MissingPackageFlow'")
        assert cur.fetchone()[0] == before


async def test_the_environment_shows_in_the_task_metadata_api(aiohttp_client, settings, flowscope_env,
                                                              tmp_path):
    from backend.app import create_app
    from tests.runtime.conftest import run_flow

    res = run_flow(flowscope_env, FLOWS / "playlist_table.py", "run", tmp=tmp_path, timeout=600)
    assert res.returncode == 0, res.stderr
    api = await aiohttp_client(create_app(settings.replace(cache_dir=str(tmp_path / "cache"),
                                                           static_dir=str(tmp_path))))
    tasks = await (await api.get(f"/api/flows/PlaylistTableFlow/runs/{res.run_id}/tasks")).json()
    table = next(t for t in tasks["data"] if t["step_name"] == "table")
    resp = await api.get(f"/api/flows/PlaylistTableFlow/runs/{res.run_id}/steps/table/tasks/"
                         f"{table['task_id']}/metadata")
    fields = {m["field_name"]: m for m in (await resp.json())["data"]}
    assert fields["environment"]["value"].startswith("conda: tabulate==0.9.0")
    assert fields["environment-notice"]["type"] == "notice"


@pytest.mark.timeout(900)
def test_spin_runs_the_step_in_its_environment(flow_runner, flowscope_env, tmp_path):
    from core_runtime.client import Task

    flow = FLOWS / "playlist_table.py"
    base = flow_runner(flow, "run", timeout=600)
    assert base.returncode == 0, base.stderr
    id_file = tmp_path / "spin-id"
    spun = flow_runner(flow, "spin", f"{base.run_id}/table", "--persist", "--run-id-file", str(id_file),
                       timeout=600)
    assert spun.returncode == 0, spun.stdout + spun.stderr
    task = Task(f"PlaylistTableFlow/{id_file.read_text()}/table/1", _namespace_check=False,
                _current_metadata=f"spin@{flowscope_env['FLOWSCOPE_SPIN_DIR']}")
    assert task.data.tabulate_version == "0.9.0" and task.data.sees_runtime_packages is False
    assert task.metadata_dict["environment"].startswith("conda: tabulate==0.9.0")
