"""bench.c1_floor on the test database: every probe runs and is reported, the CPU table is read.

Against a real backend (two processes: response cache off and on), the test's Postgres, the lean
HTTP client on uvloop (whose transports are not asyncio.Transport subclasses)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from server_procs import REPO, free_port

PROBES = [
    "psycopg2 SELECT 1", "aiopg SELECT 1 (the backend's reader)", "HTTP /api/-/version",
    "HTTP home, response cache hit", "psycopg2 home statements (bench.api's raw SQL)",
    "aiopg home reader (list_runs, no HTTP)", "HTTP home, response cache off",
]


def test_every_probe_is_sampled_and_reported(flowscope_env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "samples.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.c1_floor", "--samples", "30", "--warmup", "3", "--cpu-requests", "40",
         "--port", str(free_port()), "--json", str(out)],
        cwd=REPO, env=flowscope_env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    samples = json.loads(out.read_text())
    assert list(samples) == [*PROBES, "cpu"]
    for name in PROBES:
        assert len(samples[name]) == 30 and all(0 < ms < 1000 for ms in samples[name]), name
    # per path (version, home): wall, backend, Postgres, client ms per request
    version, home = samples["cpu"][:4], samples["cpu"][4:]
    assert version[0] > 0 and home[0] > 0 and home[1] > 0 and home[3] > 0
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ") and "---" not in line]
    assert [r.split(" | ")[0][2:] for r in rows] == [
        "measured at one client", *PROBES, "one client, in a row", "HTTP /api/-/version", "HTTP home, response cache off"]
    assert all(r.rstrip(" |").endswith("| 30") for r in rows[1:8])


def test_needs_a_seeded_home(flowscope_env: dict[str, str]) -> None:
    env = {k: v for k, v in flowscope_env.items() if k != "FLOWSCOPE_HOME"}
    done = subprocess.run([sys.executable, "-m", "bench.c1_floor"], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2 and "set FLOWSCOPE_HOME" in done.stderr
