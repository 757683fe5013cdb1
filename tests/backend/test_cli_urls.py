"""`flowscope summary` and `flowscope watch` reject a --url that is not an http(s) URL with one
`error: …` line naming the option (exit 2), instead of a Python traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

BAD_URLS = ["notaurl", "ftp://host:8083", "http://[::1", "http://host:abc", "http://"]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWSCOPE_")}
    return subprocess.run([sys.executable, "-m", "backend.cli", *args], env=env,
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.parametrize("command,pathspec", [("summary", "TrainFlow/12"), ("watch", "TrainFlow/12")])
@pytest.mark.parametrize("url", BAD_URLS)
def test_bad_url_is_one_error_line(command: str, pathspec: str, url: str) -> None:
    result = _cli(command, pathspec, "--url", url)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"error: --url {url!r} is not "), result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1
    assert result.stdout == ""
