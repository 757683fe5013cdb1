"""Resource limits and the dedicated uid of the unpickling process.

rlimits hold on every Unix: address space (a 10 GB allocation fails with MemoryError), CPU
seconds (a busy loop is killed by SIGXCPU/SIGKILL even if the parent's timer were late), file
size (the scratch directory cannot fill a disk), open files, no core dumps, no locked memory.
RLIMIT_NPROC counts processes per real uid, so it caps a fork bomb only for a uid of the
sandbox's own: that is why, running as root, the process first drops to a dedicated uid
(configurable; it should own no files). Root is never kept: no capability survives setresuid.
"""

from __future__ import annotations

import os
import resource

MIB = 1024 * 1024


def apply(memory_mb: int, cpu_s: int, file_mb: int, nproc: int | None) -> dict[str, int]:
    limits = {
        "RLIMIT_AS": memory_mb * MIB,
        "RLIMIT_CPU": cpu_s,
        "RLIMIT_FSIZE": file_mb * MIB,
        "RLIMIT_NOFILE": 256,
        "RLIMIT_CORE": 0,
        "RLIMIT_MEMLOCK": 0,
        "RLIMIT_MSGQUEUE": 0,
    }
    if nproc is not None:
        limits["RLIMIT_NPROC"] = nproc
    for name, value in limits.items():
        # Soft = hard, so the pickle cannot raise its own soft limit back up.
        resource.setrlimit(getattr(resource, name), (value, value))
    return limits


def drop_to(uid: int, gid: int) -> None:
    """Root only: no supplementary groups, then gid and uid (real, effective and saved)."""
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.geteuid() == 0 or os.getuid() == 0:
        raise PermissionError("still root after setresuid")
