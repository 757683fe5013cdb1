"""The run a bare ``resume`` resumes: the latest one ``run`` (or ``spin``) started on this machine.

As Metaflow's ``latest_run`` file (``.metaflow/<Flow>/latest_run`` of its local datastore root):
``run`` writes its run id once the run exists, ``spin`` writes its own (so a bare ``resume`` after a
spin finds no such run, as in Metaflow), and ``resume`` never writes it: resuming twice without
``--origin-run-id`` resumes the same run again. Kept under FLOWSCOPE_HOME
(``latest_run/<Flow>``), not in the database, so another user's or machine's runs never count.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core_runtime.cli.output_files import write_whole


def latest_run_path(settings: Any, flow: str) -> Path:
    return Path(settings.home).expanduser() / "latest_run" / flow


def write_latest_run(settings: Any, flow: str, run_id: str) -> None:
    """Best effort: a home that cannot be written to never fails the run (resume then needs
    --origin-run-id)."""
    path = latest_run_path(settings, flow)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_whole(str(path), run_id)
    except OSError:
        pass


def read_latest_run(settings: Any, flow: str) -> str | None:
    try:
        text = latest_run_path(settings, flow).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return text or None
