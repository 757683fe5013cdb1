"""The sandboxed unpickling process: ``python -I -B -m backend.sandbox.child POLICY_JSON``.

Confines itself (backend/sandbox/confine.py) before it reads anything, then reads the pickle
from stdin, unpickles it with the standard unpickler — the pickle may run any code it likes,
inside the sandbox — and writes one JSON object to stdout: the rendering, or ``{"error": ...}``.
With ``"probe": true`` in the policy it reads no pickle and instead reports which layers applied
and what a hostile pickle could still do (the server shows that at /api/-/status).

Nothing from the server's environment reaches here: the parent starts it with a fixed, minimal
environment, and the bytes arrive on stdin (this process opens no datastore and no database).
"""

from __future__ import annotations

import json
import os
import signal
import sys
from typing import Any

from backend.sandbox import attempts
from backend.sandbox.confine import Policy, confine
from backend.sandbox.render import render
from backend.sandbox.syscalls import SandboxUnavailable, libc

PR_SET_PDEATHSIG = 1

EXIT_SANDBOX = 3


def _emit(out: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(out, default=str))
    sys.stdout.flush()


def _unpickle_and_render(policy: Policy, max_chars: int) -> dict[str, Any]:
    import pickle  # after confine(): even the import machinery runs confined

    data = sys.stdin.buffer.read()
    try:
        value = pickle.loads(data)
        del data
        return render(value, max_chars)
    except MemoryError:
        return {"error": f"the value needs more than the worker's {policy.memory_mb} MiB memory cap"}
    except RecursionError:
        return {"error": "the value is nested too deeply to render"}
    except BaseException as exc:  # noqa: BLE001 - whatever the pickle raises is this artifact's error
        return {"error": f"cannot unpickle or render: {type(exc).__name__}: {exc}"[:2000]}


def _die_with_parent(parent: int) -> None:
    """If the server goes away, so does this process (and with it the PID namespace)."""
    libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:   # it went away before the line above
        os._exit(EXIT_SANDBOX)


def main() -> None:
    config = json.loads(sys.argv[1])
    if os.uname().sysname == "Linux":
        _die_with_parent(int(config["parent_pid"]))
    policy = Policy.from_json(config)
    try:
        report = confine(policy)
    except SandboxUnavailable as exc:
        _emit({"error": f"the artifact sandbox could not be set up: {exc}", "sandbox_failed": True})
        os._exit(EXIT_SANDBOX)
    if config.get("probe"):
        _emit({"report": report.as_json(), "attempts": attempts.run_all(config["probe"])})
        return
    _emit(_unpickle_and_render(policy, int(config["max_chars"])))


if __name__ == "__main__":
    main()
