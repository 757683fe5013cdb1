"""Runs of the real pip `metaflow` package, recorded through Flowscope's ingest service.

The e2e session's ``ingest_url`` fixture (conftest.py) is one ingest process on the session's
database; each test gives its run a datastore of its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def metaflow_env(ingest_url: str, sysroot: Path, **extra: str) -> dict[str, str]:
    """The environment of a pip `metaflow` run recorded through the ingest service at ingest_url,
    its datastore local under sysroot (none of the test session's own METAFLOW_/FLOWSCOPE_/AWS_)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("METAFLOW_", "FLOWSCOPE_", "AWS_"))}
    env.update(METAFLOW_DEFAULT_METADATA="service", METAFLOW_SERVICE_URL=ingest_url,
               METAFLOW_DEFAULT_DATASTORE="local", METAFLOW_DATASTORE_SYSROOT_LOCAL=str(sysroot),
               METAFLOW_USER="tester", USERNAME="tester", **extra)
    return env


def run_metaflow(script: Path, env: dict[str, str], cwd: Path, *args: str) -> str:
    """Runs the flow file with pip metaflow to its end (``run`` with args); returns its run id."""
    proc = subprocess.run([sys.executable, str(script), "--no-pylint", "run", *args,
                           "--run-id-file", str(cwd / "run-id")], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=240, check=False)
    assert proc.returncode == 0, f"metaflow run failed:\n{proc.stdout}\n{proc.stderr}"
    return (cwd / "run-id").read_text().strip()
