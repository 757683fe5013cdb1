"""Landlock (Linux ≥ 5.13, unprivileged): the unpickling process may read only the code it runs.

Read (and execute) beneath: the Python installation, site-packages, Flowscope's own packages, the
system libraries C extensions load, a few device nodes and time zone files. Read-write beneath the
scratch directory only. Everything else — the datastore, the embedded database, credential files,
/proc of other processes, the user's home — is refused with EACCES, whatever the file modes say.

Newer ABIs add more, each used when the kernel has it: TCP bind/connect refused (ABI 4), and no
signals to, or abstract-socket connections with, processes outside the sandbox (ABI 6). Ptrace of
processes outside the sandbox is refused by every ABI.
"""

from __future__ import annotations

import ctypes
import os
import struct
from collections.abc import Iterable

from backend.sandbox.syscalls import SandboxUnavailable, syscall

EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
REMOVE_DIR, REMOVE_FILE, MAKE_CHAR, MAKE_DIR, MAKE_REG = 1 << 4, 1 << 5, 1 << 6, 1 << 7, 1 << 8
MAKE_SOCK, MAKE_FIFO, MAKE_BLOCK, MAKE_SYM = 1 << 9, 1 << 10, 1 << 11, 1 << 12
REFER, TRUNCATE, IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
FS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 4: (1 << 15) - 1, 5: (1 << 16) - 1}
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1
CREATE_RULESET_VERSION = 1 << 0
RULE_PATH_BENEATH = 1
FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV
PR_SET_NO_NEW_PRIVS = 38


def abi_version() -> int:
    """The kernel's Landlock ABI (0 when it has none, or a policy refuses the call)."""
    try:
        return syscall("landlock_create_ruleset", None, ctypes.c_size_t(0),
                       ctypes.c_uint(CREATE_RULESET_VERSION))
    except (OSError, SandboxUnavailable):
        return 0


def _fs_rights(abi: int) -> int:
    return FS_BY_ABI.get(abi, FS_BY_ABI[5])


def _ruleset_attr(abi: int) -> bytes:
    fs = _fs_rights(abi)
    if abi < 4:
        return struct.pack("=Q", fs)
    net = NET_BIND_TCP | NET_CONNECT_TCP
    if abi < 6:
        return struct.pack("=QQ", fs, net)
    return struct.pack("=QQQ", fs, net, SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL)


def _add_rule(ruleset_fd: int, path: str, rights: int) -> bool:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return False   # a missing path needs no rule
    try:
        if not os.path.isdir(path):
            rights &= FILE_RIGHTS
        attr = struct.pack("=Qi", rights, fd)   # struct landlock_path_beneath_attr is packed
        buf = ctypes.create_string_buffer(attr, len(attr))
        syscall("landlock_add_rule", ctypes.c_int(ruleset_fd), ctypes.c_int(RULE_PATH_BENEATH),
                buf, ctypes.c_uint(0))
        return True
    finally:
        os.close(fd)


def restrict(read_paths: Iterable[str], write_paths: Iterable[str]) -> dict[str, object]:
    """Confine this process (and anything it could start) for good; returns what was applied."""
    abi = abi_version()
    if abi < 1:
        raise SandboxUnavailable("landlock: not supported by this kernel (or refused by a seccomp policy)")
    attr = _ruleset_attr(abi)
    buf = ctypes.create_string_buffer(attr, len(attr))
    try:
        ruleset = syscall("landlock_create_ruleset", buf, ctypes.c_size_t(len(attr)), ctypes.c_uint(0))
    except OSError as exc:
        raise SandboxUnavailable(f"landlock: {exc.strerror}") from None
    try:
        fs = _fs_rights(abi)
        read = READ_FILE | READ_DIR | EXECUTE
        readable = [p for p in dict.fromkeys(read_paths) if _add_rule(ruleset, p, read)]
        writable = [p for p in dict.fromkeys(write_paths) if _add_rule(ruleset, p, fs)]
        if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise SandboxUnavailable(f"landlock: no_new_privs: {os.strerror(ctypes.get_errno())}")
        syscall("landlock_restrict_self", ctypes.c_int(ruleset), ctypes.c_uint(0))
    except OSError as exc:
        raise SandboxUnavailable(f"landlock: {exc.strerror}") from None
    finally:
        os.close(ruleset)
    return {"abi": abi, "read": readable, "write": writable, "tcp": abi >= 4, "signals": abi >= 6}
