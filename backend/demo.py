"""``flowscope demo``: record every examples/*.py flow into the configured database.

Each example runs as users run it (``python flow.py run``) in its own process, all at once.
Flows that are still running after a minute keep going in the background, so the UI shows
live runs; failures are printed, never skipped silently.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from backend.shipped import shipped
from contract.pg import resolve_dsns
from contract.settings import Settings

REPO = Path(__file__).resolve().parent.parent   # the checkout, or site-packages once installed
EXAMPLES = shipped("examples")
WAIT_S = 60.0


def _env(settings: Settings) -> dict[str, str]:
    """The children use the same database and datastore as this process."""
    env = dict(os.environ)
    dsns = resolve_dsns(settings)
    env["FLOWSCOPE_HOME"] = settings.home
    if dsns.writer:
        env["FLOWSCOPE_DSN"] = dsns.writer
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def record_examples(settings: Settings, directory: str | None) -> bool:
    from backend.cli import _prepare_database

    examples = Path(directory) if directory else EXAMPLES
    print(f"demo: database {'(embedded, under ' + settings.home + ')' if not settings.dsn else 'from FLOWSCOPE_DSN'}",
          flush=True)
    _prepare_database(settings)
    flows = sorted(examples.glob("*.py")) if examples.is_dir() else []
    if not flows:
        print(f"demo: no example flows found in {examples}/ (nothing recorded)", flush=True)
        return False
    env = _env(settings)
    tmp = Path(tempfile.mkdtemp(prefix="flowscope-demo-"))
    procs = []
    for path in flows:
        id_file = tmp / f"{path.stem}.id"
        with open(tmp / f"{path.stem}.log", "wb") as log:   # the child keeps its own handle
            proc = subprocess.Popen([sys.executable, str(path), "run", "--run-id-file", str(id_file)],
                                    cwd=str(path.parent), env=env, stdout=log, stderr=subprocess.STDOUT)
        procs.append((path, proc, id_file, tmp / f"{path.stem}.log"))
        print(f"demo: started {path.relative_to(examples.parent) if examples.parent in path.parents else path}",
              flush=True)
    deadline = time.monotonic() + WAIT_S
    ok = True
    for path, proc, id_file, log_path in procs:
        try:
            code = proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"demo: {path.name}: still running (pid {proc.pid}); watch it live in the UI", flush=True)
            continue
        run = id_file.read_text().strip() if id_file.exists() else None
        if code == 0:
            print(f"demo: {path.name}: recorded run {run}", flush=True)
        elif run:
            print(f"demo: {path.name}: recorded run {run}, which failed (exit {code}) — see it in the UI",
                  flush=True)
        else:
            ok = False
            tail = log_path.read_text(errors="replace").strip().splitlines()[-3:]
            print(f"demo: {path.name}: FAILED before recording a run (exit {code}):", flush=True)
            for line in tail:
                print(f"    {line}", flush=True)
    return ok
