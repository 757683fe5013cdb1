"""A source DSN that libpq cannot parse stops `flowscope mirror` and `flowscope serve` at start-up
with one `error: …` line naming --source / FLOWSCOPE_MIRROR_SOURCE (exit 1), before any database
is started: it used to be a psycopg2.ProgrammingError traceback (mirror), or a server that kept
serving with its mirror task dead (serve)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

EXPECTED = ('error: the source DSN (--source or FLOWSCOPE_MIRROR_SOURCE) is not a valid Postgres DSN: '
            'invalid dsn: missing "=" after "not" in connection info string\n')


def _cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("FLOWSCOPE_")}
    base.update(FLOWSCOPE_HOME=str(tmp_path / "home"), **env)
    return subprocess.run([sys.executable, "-m", "backend.cli", *args], env=base,
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("how", ["option", "variable"])
def test_mirror_refuses_an_unparseable_source(tmp_path: Path, how: str) -> None:
    if how == "option":
        result = _cli(tmp_path, "mirror", "--source", "not a dsn")
    else:
        result = _cli(tmp_path, "mirror", FLOWSCOPE_MIRROR_SOURCE="not a dsn")
    assert (result.returncode, result.stderr) == (1, EXPECTED)
    assert not (tmp_path / "home").exists()      # no embedded Postgres was started


def test_serve_refuses_an_unparseable_mirror_source(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWSCOPE_")}
    env.update(FLOWSCOPE_HOME=str(tmp_path / "home"), FLOWSCOPE_MIRROR_SOURCE="not a dsn")
    proc = subprocess.Popen([sys.executable, "-m", "backend.cli", "serve", "--port", "8879", "--no-ingest"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:       # it started serving: stop it (and its Postgres) cleanly
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert (proc.returncode, err, out) == (1, EXPECTED, "")
    assert not (tmp_path / "home").exists()
