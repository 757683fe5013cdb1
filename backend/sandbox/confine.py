"""Confining the unpickling process, layer by layer, before it reads a single byte of the pickle.

Order matters: namespaces and mounts need privileges (root, or root inside a fresh user
namespace), so they come first; then root is dropped for the dedicated uid; then rlimits; then
Landlock and seccomp, which no later code can undo (no_new_privs, and seccomp refuses the calls
that would escape). Each layer either applies or raises ``SandboxUnavailable``; the caller decides
whether that is fatal (a layer the start-up probe found working is always required afterwards).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import dataclass, field
from typing import Any

from backend.sandbox import landlock, limits, namespaces, seccomp
from backend.sandbox.syscalls import SandboxUnavailable

LAYERS = ("namespaces", "uid", "rlimits", "landlock", "seccomp")
# Code and libraries an unpickler may need to import or load; nothing that holds data.
SYSTEM_READ = ("/usr/lib", "/usr/lib64", "/lib", "/lib64", "/usr/local/lib", "/etc/ld.so.cache",
               "/etc/localtime", "/usr/share/zoneinfo", "/sys/devices/system/cpu",
               "/dev/null", "/dev/zero", "/dev/urandom", "/dev/random")
OWN_PACKAGES = ("backend", "core_runtime", "contract")


@dataclass
class Policy:
    layers: tuple[str, ...]          # the layers to apply
    required: tuple[str, ...]        # ... of which these must apply, or the process stops
    memory_mb: int
    cpu_s: int
    scratch: str
    scratch_mb: int
    uid: int | None                  # dedicated uid (used only when running as root)
    nproc: int

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Policy:
        return cls(layers=tuple(data["layers"]), required=tuple(data["required"]),
                   memory_mb=int(data["memory_mb"]), cpu_s=int(data["cpu_s"]), scratch=str(data["scratch"]),
                   scratch_mb=int(data["scratch_mb"]), uid=data.get("uid"), nproc=int(data["nproc"]))


@dataclass
class Report:
    applied: dict[str, Any] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"applied": self.applied, "unavailable": self.unavailable}


def read_paths(private_proc: bool) -> list[str]:
    """Where this interpreter's code lives (stdlib, site-packages, our packages) plus system libs."""
    found = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]
    found += [p for p in sys.path if p and os.path.isdir(p)]
    for name in OWN_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            found += list(spec.submodule_search_locations)
    found += SYSTEM_READ
    if private_proc:   # only this sandbox's processes are in it
        found.append("/proc")
    real = [os.path.realpath(p) for p in found]
    return [p for p in dict.fromkeys(real) if p != "/" and os.path.exists(p)]


def confine(policy: Policy) -> Report:
    report = Report()
    root = os.geteuid() == 0

    def attempt(layer: str, fn: Any) -> Any:
        if layer not in policy.layers:
            return None
        try:
            result = fn()
        except (SandboxUnavailable, OSError, ValueError) as exc:
            if layer in policy.required:
                raise SandboxUnavailable(f"{layer}: {exc}") from None
            report.unavailable[layer] = str(exc)
            return None
        report.applied[layer] = result
        return result

    uid = policy.uid if root and policy.uid is not None else None
    owner = (uid, uid) if uid is not None else (0, 0)   # in a user namespace we are root (0) too

    def enter_namespaces() -> dict[str, Any]:
        names = namespaces.enter(user_ns=not root)
        namespaces.become_pid_one()
        mounts: list[str] = []
        if uid is not None:
            mounts += namespaces.expose(read_paths(private_proc=True), uid, uid)
        mounts += namespaces.lock_filesystem(policy.scratch, policy.scratch_mb, owner)
        return {"namespaces": names, "mounts": mounts}

    ns = attempt("namespaces", enter_namespaces)

    def drop() -> dict[str, int]:
        if uid is None:
            raise SandboxUnavailable("not running as root" if not root else "no sandbox uid configured")
        if ns is None:   # no tmpfs: the scratch directory must become the uid's own
            os.chown(policy.scratch, uid, uid)
        limits.drop_to(uid, uid)
        return {"uid": uid, "gid": uid}

    dropped = attempt("uid", drop)
    attempt("rlimits", lambda: limits.apply(policy.memory_mb, policy.cpu_s, policy.scratch_mb,
                                            policy.nproc if dropped else None))
    fenced = attempt("landlock", lambda: landlock.restrict(read_paths(private_proc=ns is not None),
                                                           [policy.scratch]))
    # Without Landlock or a read-only mount namespace, writing anywhere is refused instead.
    deny_writes = fenced is None and ns is None
    attempt("seccomp", lambda: {"instructions": seccomp.install(deny_writes), "deny_writes": deny_writes})
    os.chdir(policy.scratch)
    return report
