"""Unpickling user artifacts in a separate process with a time and memory limit.

Unpickling runs code of whatever classes the pickle names; that must never happen in a
server process. Each call starts a fresh interpreter (no state shared between artifacts),
caps its address space, and kills it at the deadline.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

_CHILD = str(Path(__file__).with_name("unpickle_child.py"))


@dataclass(frozen=True)
class UnpickleResult:
    ok: bool
    text: str | None = None        # repr() of the value, truncated
    type: str | None = None        # "float", "pandas.core.frame.DataFrame"
    truncated: bool = False
    error: str | None = None       # why there is no text


def unpickle_in_worker(blob_bytes: bytes, timeout_s: float = 10.0, mem_mb: int = 512,
                       max_chars: int = 10_000) -> UnpickleResult:
    """A text preview of a pickled value, or an error; never raises for a bad blob."""
    try:
        proc = subprocess.run(
            [sys.executable, _CHILD, str(int(mem_mb)), str(int(max_chars))],
            input=blob_bytes, capture_output=True, timeout=timeout_s, check=False,
        )
    except subprocess.TimeoutExpired:
        return UnpickleResult(ok=False, error=f"unpickling took longer than {timeout_s:g} s")
    except OSError as exc:
        return UnpickleResult(ok=False, error=f"cannot start the unpickling worker: {exc}")
    try:
        out = json.loads(proc.stdout or b"")
    except ValueError:
        tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        why = f"exit code {proc.returncode}" + (f": {tail[0]}" if tail[0] else "")
        if proc.returncode < 0 or "MemoryError" in tail[0]:
            why = f"worker died ({why}); memory limit {mem_mb} MB"
        return UnpickleResult(ok=False, error=f"unpickling failed ({why})")
    if not out.get("ok"):
        return UnpickleResult(ok=False, error=str(out.get("error") or "unpickling failed"))
    return UnpickleResult(ok=True, text=out.get("text"), type=out.get("type"),
                          truncated=bool(out.get("truncated")))
