"""A seccomp filter (classic BPF, installed with the seccomp syscall) for the unpickling process.

It refuses, with EPERM, what a hostile pickle would need to reach past its own process: sockets,
new processes (threads stay allowed), exec, signals to anyone but itself, ptrace and reading other
processes' memory, namespaces and mounts, kernel keyrings, io_uring (which could do socket and
file work behind the filter's back), SysV/POSIX IPC, memfds, module loading and the like. Where
Landlock is missing it also refuses every open() for writing and every call that changes the
filesystem (``deny_writes``), so there is no writable filesystem at all.

A deny list rather than an allow list: Python, numpy or pandas may use any ordinary call while
unpickling, and a wrong guess there would break rendering; what matters is that every call that
reaches out is in the list. Foreign-architecture calls (x32 on x86_64) are refused wholesale.
"""

from __future__ import annotations

import ctypes
import errno
import os
import struct

from backend.sandbox.syscalls import AUDIT_ARCH, SandboxUnavailable, libc, machine, numbers, syscall

DENY = (
    # network
    "socket", "socketpair", "connect", "bind", "listen", "accept", "accept4",
    # new processes and programs (clone is handled below: threads are fine)
    "fork", "vfork", "execve", "execveat",
    # other processes
    "rt_sigqueueinfo", "rt_tgsigqueueinfo", "pidfd_open", "pidfd_send_signal", "pidfd_getfd",
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "process_madvise", "process_mrelease",
    # namespaces, mounts, the root
    "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "mount_setattr", "open_tree",
    "move_mount", "fsopen", "fsconfig", "fsmount", "fspick",
    # kernel interfaces a pickle has no business with
    "bpf", "perf_event_open", "keyctl", "add_key", "request_key", "userfaultfd",
    "io_uring_setup", "io_uring_enter", "io_uring_register", "memfd_create", "memfd_secret",
    "shmget", "shmat", "shmctl", "shmdt", "msgget", "msgsnd", "msgrcv", "msgctl", "semget", "semop",
    "semctl", "semtimedop", "mq_open", "init_module", "finit_module", "delete_module", "kexec_load",
    "kexec_file_load", "reboot", "swapon", "swapoff", "acct", "open_by_handle_at",
    "name_to_handle_at", "personality", "quotactl", "settimeofday", "clock_settime", "clock_adjtime",
    "adjtimex", "sethostname", "setdomainname", "iopl", "ioperm", "fanotify_init", "uselib",
    "mknod", "mknodat",
)
# Calls that change the filesystem; refused outright when there is no Landlock to confine them.
WRITES = (
    "creat", "mkdir", "mkdirat", "rmdir", "unlink", "unlinkat", "rename", "renameat", "renameat2",
    "link", "linkat", "symlink", "symlinkat", "chmod", "fchmod", "fchmodat", "fchmodat2", "chown",
    "fchown", "lchown", "fchownat", "truncate", "ftruncate", "utime", "utimes", "utimensat",
    "futimesat", "setxattr", "lsetxattr", "fsetxattr", "removexattr", "lremovexattr", "fremovexattr",
)
SIGNALS = ("kill", "tkill", "tgkill")   # allowed only with this process as the target

CLONE_THREAD = 0x00010000
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
X32_BIT = 0x40000000

# classic BPF opcodes
LD_ABS_W, JEQ, JGE, JSET, RET = 0x20, 0x15, 0x35, 0x45, 0x06
RET_KILL_PROCESS, RET_ALLOW, RET_ERRNO = 0x80000000, 0x7FFF0000, 0x00050000
NR_OFFSET, ARCH_OFFSET = 0, 4
SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC = 1, 1
PR_SET_NO_NEW_PRIVS = 38


def _arg_low(index: int) -> int:
    """Offset of the low 32 bits of argument ``index`` in struct seccomp_data (little-endian)."""
    return 16 + 8 * index


Insn = tuple[int, int, int, int]


def _ret(value: int) -> Insn:
    return (RET, 0, 0, value)


def _deny(err: int = errno.EPERM) -> Insn:
    return _ret(RET_ERRNO | err)


def _guarded(nr: int, body: list[Insn]) -> list[Insn]:
    """``if nr == <nr>: body`` (body always ends in a RET, so it never falls through)."""
    return [(JEQ, 0, len(body), nr), *body]


def build_filter(pid: int, deny_writes: bool) -> list[Insn]:
    table = numbers()
    arch = AUDIT_ARCH[machine()]
    prog: list[Insn] = [(LD_ABS_W, 0, 0, ARCH_OFFSET), (JEQ, 1, 0, arch), _ret(RET_KILL_PROCESS),
                        (LD_ABS_W, 0, 0, NR_OFFSET)]
    if machine() == "x86_64":
        prog += [(JGE, 0, 1, X32_BIT), _deny()]
    names = DENY + (WRITES if deny_writes else ())
    for name in names:
        if name in table:   # aarch64 has no fork, open, mkdir, ... (only the *at forms)
            prog += [(JEQ, 0, 1, table[name]), _deny()]
    prog += [(JEQ, 0, 1, table["clone3"]), _deny(errno.ENOSYS)]   # libc falls back to clone
    prog += _guarded(table["clone"], [(LD_ABS_W, 0, 0, _arg_low(0)), (JSET, 0, 1, CLONE_THREAD),
                                      _ret(RET_ALLOW), _deny()])
    for name in SIGNALS:
        prog += _guarded(table[name], [(LD_ABS_W, 0, 0, _arg_low(0)), (JEQ, 0, 1, pid),
                                       _ret(RET_ALLOW), _deny()])
    if deny_writes:
        prog += [(JEQ, 0, 1, table["openat2"]), _deny(errno.ENOSYS)]   # flags live in a struct
        for name, flags_arg in (("open", 1), ("openat", 2)):
            if name in table:
                prog += _guarded(table[name], [(LD_ABS_W, 0, 0, _arg_low(flags_arg)),
                                               (JSET, 0, 1, WRITE_FLAGS), _deny(), _ret(RET_ALLOW)])
    prog.append(_ret(RET_ALLOW))
    return prog


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def install(deny_writes: bool) -> int:
    """Install the filter on this (single-threaded) process; returns its length in instructions."""
    try:
        prog = build_filter(os.getpid(), deny_writes)
    except (SandboxUnavailable, KeyError) as exc:
        raise SandboxUnavailable(f"seccomp: {exc}") from None
    raw = b"".join(struct.pack("=HBBI", *insn) for insn in prog)
    buf = ctypes.create_string_buffer(raw, len(raw))
    fprog = _SockFprog(len(prog), ctypes.cast(buf, ctypes.c_void_p))
    if libc().prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise SandboxUnavailable(f"seccomp: no_new_privs: {os.strerror(ctypes.get_errno())}")
    try:
        syscall("seccomp", ctypes.c_uint(SECCOMP_SET_MODE_FILTER), ctypes.c_uint(SECCOMP_FILTER_FLAG_TSYNC),
                ctypes.byref(fprog))
    except OSError as exc:
        raise SandboxUnavailable(f"seccomp: {exc.strerror}") from None
    return len(prog)
