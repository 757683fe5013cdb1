"""Recording real runs for tests: ``python flow.py run`` exactly as a user runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def run_flow(env: dict[str, str], path: Path, tmp: Path, *args: str, tags: tuple[str, ...] = (),
             check: bool = True) -> str:
    """Run the flow file in a subprocess with ``env``; returns the run id it recorded."""
    id_file = tmp / f"{path.stem}-{len(list(tmp.iterdir()))}.id"
    cmd = [sys.executable, str(path), "run", "--run-id-file", str(id_file), *args]
    for tag in tags:
        cmd += ["--tag", tag]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180, cwd=str(path.parent),
                          check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"{path.name} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    assert id_file.exists(), f"{path.name} wrote no run id:\n{proc.stdout}\n{proc.stderr}"
    return id_file.read_text().strip()
