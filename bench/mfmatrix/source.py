"""Finding Metaflow's ``test/core`` directory: in a checkout, or exported from a bare repository."""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path


class SourceError(SystemExit):
    pass


def core_dir(metaflow_src: str, scratch: Path) -> Path:
    """``<src>/test/core`` of a checkout, or of ``git archive HEAD test/core test/extensions``
    from a bare repo (``test/extensions/packages`` beside it: the card extension packages)."""
    src = Path(metaflow_src).expanduser().resolve()
    if (src / "test" / "core" / "run_tests.py").is_file():
        return src / "test" / "core"
    if (src / "HEAD").is_file() and (src / "objects").is_dir():
        try:
            data = subprocess.run(["git", "--git-dir", str(src), "archive", "HEAD", "test/core",
                                   "test/extensions"],
                                  check=True, capture_output=True).stdout
        except subprocess.CalledProcessError as exc:
            raise SourceError(f"error: {src}: git archive failed: "
                              f"{exc.stderr.decode(errors='replace').strip()}") from None
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            tar.extractall(scratch, filter="data")
        return scratch / "test" / "core"
    raise SourceError(f"error: {src}: neither a Metaflow checkout (test/core/run_tests.py) "
                      f"nor a bare git repository of one")


def commit_of(metaflow_src: str) -> str:
    src = Path(metaflow_src).expanduser().resolve()
    git_dir = ["--git-dir", str(src)] if (src / "HEAD").is_file() else ["-C", str(src)]
    try:
        return subprocess.run(["git", *git_dir, "rev-parse", "--short", "HEAD"], check=True,
                              capture_output=True, text=True).stdout.strip()
    except (subprocess.CalledProcessError, FileNotFoundError):
        return "unknown"
