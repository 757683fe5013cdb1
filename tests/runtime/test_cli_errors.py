"""Bad input: one clear line on stderr, a non-zero exit, nothing recorded."""

from __future__ import annotations

from typing import Any

import pytest

from tests.runtime.conftest import FIXTURES, FLOWS


def _count_runs(db: Any) -> int:
    with db.cursor() as cur:
        cur.execute("SELECT count(*) FROM runs")
        return int(cur.fetchone()[0])


def _one_line_error(res: Any) -> str:
    assert res.returncode != 0
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in res.stderr
    return lines[0]


@pytest.mark.parametrize("args, expected", [
    (("run", "--nope", "1"), "unknown option --nope for 'run'"),
    (("run", "--alpha", "fast"), "invalid value 'fast' for --alpha: expected float"),
    (("run", "--max-workers", "0"), "--max-workers must be at least 1"),
    (("fly",), "unknown command 'fly'"),
])
def test_bad_command_line(flow_runner, db, args, expected):
    before = _count_runs(db)
    line = _one_line_error(flow_runner(FIXTURES / "linear_flow.py", *args))
    assert expected in line
    assert _count_runs(db) == before


def test_missing_required_parameter(flow_runner, db):
    before = _count_runs(db)
    line = _one_line_error(flow_runner(FLOWS / "config_flow.py", "run"))
    assert "missing required parameter --model" in line
    assert _count_runs(db) == before


@pytest.mark.parametrize("name, words", [
    ("bad_no_end_flow.py", "no 'end' step"),
    ("bad_unknown_next_flow.py", "nope"),
    ("bad_unreachable_flow.py", "unreachable"),
    ("bad_missing_join_flow.py", "join"),
    ("bad_switch_value_flow.py", "self.route = 'slowly', which no case of its switch matches"),
    ("bad_loop_no_exit_flow.py", "recursive step 'loop' has no exit"),
])
def test_graph_errors_name_file_and_line(flow_runner, db, name, words):
    before = _count_runs(db)
    for command in ("run", "check"):
        line = _one_line_error(flow_runner(FIXTURES / name, command))
        assert f"{name}:" in line and words in line
        loc = line.split(f"{name}:", 1)[1].split(":", 1)[0]
        assert loc.isdigit()
    assert _count_runs(db) == before


def test_unreachable_database(flow_runner, db):
    before = _count_runs(db)
    res = flow_runner(FIXTURES / "linear_flow.py", "run",
                      extra_env={"FLOWSCOPE_DSN": "postgresql://nobody:secret@127.0.0.1:1/nowhere"})
    line = _one_line_error(res)
    assert "cannot connect" in line and "secret" not in line
    assert _count_runs(db) == before


def test_bad_config_file(flow_runner, db, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("retries = = 2\n")
    line = _one_line_error(flow_runner(FLOWS / "config_flow.py", "--config", "cfg", str(bad), "run"))
    assert "bad.toml" in line and "invalid TOML" in line


def test_show_and_check(flow_runner):
    res = flow_runner(FIXTURES / "branch_flow.py", "show")
    assert res.returncode == 0 and "Fan out into two branches" in res.stdout
    res = flow_runner(FIXTURES / "branch_flow.py", "check")
    assert res.returncode == 0 and "looks good" in res.stdout
