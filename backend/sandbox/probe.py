"""Finding out at start-up what the sandbox can do here, and deciding whether to unpickle at all.

The probe starts the child once with every layer asked for (none required), lets it try what a
hostile pickle would (backend/sandbox/attempts.py), and keeps the report. From then on every
render requires exactly the layers that applied in the probe, so a layer that worked at start-up
cannot silently go missing later. ``FLOWSCOPE_ARTIFACT_SANDBOX``:

* ``strict`` (default): unpickle only if the probe found every attempt blocked;
* ``permissive``: unpickle with whatever layers apply (the status page says what is missing);
* ``off``: never unpickle; only values the safe decoder reads are shown.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from typing import Any

from backend.sandbox.confine import LAYERS
from backend.sandbox.runner import run_child

MODES = ("strict", "permissive", "off")
PR_GET_DUMPABLE, PR_SET_DUMPABLE = 3, 4


@dataclass
class SandboxState:
    mode: str
    layers: tuple[str, ...] = ()              # applied in the probe: required for every render
    report: dict[str, Any] = field(default_factory=dict)
    attempts: dict[str, str] = field(default_factory=dict)
    error: str | None = None                  # the probe itself failed
    probed: bool = False                      # no probe yet: nothing is known, so nothing is allowed

    @property
    def possible(self) -> list[str]:
        return [name for name, result in self.attempts.items() if not result.startswith("blocked")]

    def refusal(self) -> str | None:
        """Why values that need unpickling are not rendered on this server, or None."""
        if self.mode == "off":
            return ("not rendered: unpickling is turned off on this server (FLOWSCOPE_ARTIFACT_SANDBOX=off); "
                    "download the value instead")
        if self.mode != "off" and not self.probed:
            return "not rendered: the artifact sandbox has not been probed yet (ArtifactRenderer.start())"
        if self.mode == "strict" and (self.error or self.possible):
            why = self.error or "a pickle could still " + ", ".join(self.possible)
            return (f"not rendered: the artifact sandbox is incomplete on this server ({why}); see "
                    "/api/-/status and docs/security.md, or set FLOWSCOPE_ARTIFACT_SANDBOX=permissive")
        return None

    def stats(self) -> dict[str, Any]:
        return {"mode": self.mode, "layers": list(self.layers), "applied": self.report.get("applied", {}),
                "unavailable": self.report.get("unavailable", {}), "attempts": self.attempts,
                "possible": self.possible, "error": self.error, "refusal": self.refusal(),
                "server_dumpable": server_dumpable()}


def make_undumpable() -> bool:
    """Linux: the server's /proc/<pid>/environ, memory and ptrace become root-only, even for
    processes of the same uid (a sandbox without its own uid or PID namespace included)."""
    try:
        return bool(ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def server_dumpable() -> bool | None:
    try:
        return bool(ctypes.CDLL(None, use_errno=True).prctl(PR_GET_DUMPABLE, 0, 0, 0, 0))
    except (OSError, AttributeError):
        return None


def _escaped(write_dir: str) -> bool:
    return os.path.exists(os.path.join(write_dir, "escaped"))


def _bait(scratch_root: str | None) -> tuple[str, str, str]:
    """A world-readable file and a world-writable directory outside the sandbox's paths."""
    bait = tempfile.mkdtemp(prefix="flowscope-probe-", dir=scratch_root)
    secret = os.path.join(bait, "credentials")
    with open(secret, "w") as f:
        f.write("probe")
    os.chmod(bait, 0o755)
    os.chmod(secret, 0o644)   # world-readable, like many a credentials file
    write_dir = os.path.join(bait, "open")
    os.mkdir(write_dir)
    os.chmod(write_dir, 0o777)
    return bait, secret, write_dir


_probed: dict[str, SandboxState] = {}


async def probe(base: dict[str, Any], mode: str, timeout: float, scratch_root: str | None) -> SandboxState:
    """``base``: the policy fields the renderer uses (memory, cpu, uid, ...). Once per process and
    policy: what the host allows does not change while the server runs (apps in tests share it)."""
    key = json.dumps([base, mode, scratch_root], sort_keys=True)
    if key not in _probed or _probed[key].error:
        _probed[key] = await _probe(base, mode, timeout, scratch_root)
    cached = _probed[key]
    return SandboxState(cached.mode, cached.layers, cached.report, dict(cached.attempts), cached.error, True)


async def _probe(base: dict[str, Any], mode: str, timeout: float, scratch_root: str | None) -> SandboxState:
    state = SandboxState(mode, probed=True)
    if mode == "off":
        return state
    bait, secret, write_dir = _bait(scratch_root)
    try:
        config = dict(base, layers=list(LAYERS), required=[], probe={
            "server_pid": os.getpid(), "secret_file": secret, "write_dir": write_dir,
            "memory_mb": base["memory_mb"]})
        outcome = await run_child(config, b"", timeout, 1 << 20, scratch_root)
        result = outcome.result or {}
        if "report" not in result:
            state.error = ("the probe timed out" if outcome.timed_out
                           else result.get("error") or outcome.error or "the probe failed")
            return state
        state.report = result["report"]
        state.attempts = dict(result["attempts"])
        state.layers = tuple(state.report.get("applied", {}))
        if _escaped(write_dir):
            state.attempts["write a file outside scratch"] = "POSSIBLE (the file appeared)"
        return state
    finally:
        shutil.rmtree(bait, ignore_errors=True)
