"""``--trigger`` of @trigger_on_finish: the local stand-in for the finished runs that trigger a flow
(Metaflow 2.19's option and ``current.trigger``), and the errors Metaflow gives for bad pathspecs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.runtime.conftest import FLOWS, run_row

UP, DOWN = FLOWS / "trigger_up_flow.py", FLOWS / "trigger_down_flow.py"


def _artifacts(flowscope_env: dict[str, str], pathspec: str) -> Any:
    from contract.settings import load_settings
    from core_runtime.client import Run, configure, namespace

    configure(load_settings({k: v for k, v in flowscope_env.items() if k.startswith("FLOWSCOPE_")}))
    namespace(None)
    return Run(pathspec).data


def test_trigger_sets_current_trigger(flowscope_env: dict[str, str], flow_runner: Any, db: Any) -> None:
    first = flow_runner(UP, "run", extra_env={"UPSTREAM_MODEL": "m1"})
    second = flow_runner(UP, "run", extra_env={"UPSTREAM_MODEL": "m2"})
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    res = flow_runner(DOWN, "--trigger", f"UpstreamFlow/{first.run_id}", "--trigger",
                      f"UpstreamFlow/{second.run_id}", "run")
    assert res.returncode == 0, res.stderr
    data = _artifacts(flowscope_env, f"TriggeredFlow/{res.run_id}")
    assert data.triggered is True
    assert data.models == ["m2", "m1"]          # newest finished first, as in Metaflow
    assert data.newest == "m2" and data.end_model == "m2"
    assert data.events == [
        ("metaflow.UpstreamFlow.end", f"UpstreamFlow/{second.run_id}/end/{_end_task(db, second.run_id)}", "run"),
        ("metaflow.UpstreamFlow.end", f"UpstreamFlow/{first.run_id}/end/{_end_task(db, first.run_id)}", "run"),
    ]
    assert data.by_flow == f"UpstreamFlow/{second.run_id}" and data.has_other is False


def test_without_the_option_there_is_no_trigger(flowscope_env: dict[str, str], flow_runner: Any) -> None:
    res = flow_runner(DOWN, "run")
    assert res.returncode == 0, res.stderr
    assert _artifacts(flowscope_env, f"TriggeredFlow/{res.run_id}").triggered is False


def test_bad_trigger_pathspecs_are_refused_before_the_run(flowscope_env: dict[str, str], flow_runner: Any,
                                                           db: Any) -> None:
    failed = flow_runner(UP, "run", extra_env={"UPSTREAM_FAIL": "1"})
    assert failed.returncode != 0 and failed.run_id
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM runs WHERE flow_id = 'TriggeredFlow'")
        before = cur.fetchone()[0]
    for spec, message in (("UpstreamFlow", "Incorrect format for run pathspec for *--trigger*"),
                          ("UpstreamFlow/1/start", "Incorrect format for run pathspec"),
                          (f"UpstreamFlow/{failed.run_id}", "does not support runs that are not successful yet"),
                          ("UpstreamFlow/no-such-run", "no-such-run")):
        res = flow_runner(DOWN, "--trigger", spec, "run")
        assert res.returncode != 0, spec
        assert message in res.stderr, (spec, res.stderr)
        assert "Traceback" not in res.stderr, res.stderr
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM runs WHERE flow_id = 'TriggeredFlow'")
        assert cur.fetchone()[0] == before


def test_trigger_is_an_option_of_trigger_on_finish_only(flow_runner: Any) -> None:
    res = flow_runner(UP, "--trigger", "X/1", "run")
    assert res.returncode != 0 and "--trigger" in res.stderr and "Traceback" not in res.stderr


def _end_task(db: Any, run_id: str) -> str:
    run = run_row(db, "UpstreamFlow", run_id)
    with db.cursor() as cur:
        cur.execute("SELECT task_id FROM tasks WHERE run_pk = %s AND step_name = 'end'", (run["run_pk"],))
        return str(cur.fetchone()[0])


def test_client_connection_is_not_shared_with_forked_children(flowscope_env: dict[str, str], flow_runner: Any,
                                                             tmp_path: Path) -> None:
    """A process that read through the client and then forks (the runtime forks every task): the
    child opens its own connection, and the parent's still works after the child exits."""
    import os

    from contract.settings import load_settings
    from core_runtime.client import configure
    from core_runtime.client.context import current_source

    configure(load_settings({k: v for k, v in flowscope_env.items() if k.startswith("FLOWSCOPE_")}))
    source = current_source()
    parent_pid = source.query("SELECT pg_backend_pid()")[0][0]
    out = tmp_path / "child"
    pid = os.fork()
    if pid == 0:  # the child
        code = 1
        try:
            out.write_text(str(source.query("SELECT pg_backend_pid()")[0][0]))
            code = 0
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    child_pid = int(out.read_text())
    assert child_pid != parent_pid
    assert source.query("SELECT pg_backend_pid()")[0][0] == parent_pid
