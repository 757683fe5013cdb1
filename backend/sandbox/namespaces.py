"""Linux namespaces for the unpickling process: no network, a read-only filesystem, its own PIDs.

* network namespace: only a loopback device, and it is down — no address on the machine or
  anywhere else can be reached, UDP, TCP or Unix-abstract alike;
* mount namespace: every mount read-only (recursive ``mount_setattr``), a fresh /proc that shows
  only the sandbox's own processes, and a small tmpfs as the one writable place (scratch);
* PID namespace: the server and every other process are invisible, so there is no PID to signal;
  when the sandbox's first process dies, the kernel kills everything else in it;
* IPC and UTS namespaces: no shared SysV IPC objects, its own host name.

As root these need no user namespace (the server's root stays outside: the process drops to the
dedicated uid afterwards). Otherwise an unprivileged user namespace maps the server's uid to root
inside it, which only gives rights over the new namespaces themselves.
"""

from __future__ import annotations

import ctypes
import os
import signal
import struct

from backend.sandbox.syscalls import SandboxUnavailable, check, libc, syscall

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 1, 2, 4, 8, 0x4000, 1 << 18
MOUNT_ATTR_RDONLY, MOUNT_ATTR_NOSUID, MOUNT_ATTR_NODEV = 1, 2, 4
AT_FDCWD, AT_RECURSIVE = -100, 0x8000
PR_SET_PDEATHSIG = 1


def enter(user_ns: bool) -> list[str]:
    """unshare() into new namespaces; returns their names. The PID namespace applies to children."""
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWPID
    uid, gid = os.getuid(), os.getgid()
    if user_ns:
        flags |= CLONE_NEWUSER
    if libc().unshare(ctypes.c_int(flags)) != 0:
        err = ctypes.get_errno()
        raise SandboxUnavailable(f"namespaces: unshare: {os.strerror(err)}")
    if user_ns:
        _write("/proc/self/setgroups", "deny")
        _write("/proc/self/uid_map", f"0 {uid} 1")
        _write("/proc/self/gid_map", f"0 {gid} 1")
    return (["user"] if user_ns else []) + ["mount", "network", "ipc", "uts", "pid"]


def _write(path: str, text: str) -> None:
    try:
        with open(path, "w") as f:
            f.write(text)
    except OSError as exc:
        raise SandboxUnavailable(f"namespaces: {path}: {exc.strerror}") from None


def become_pid_one() -> None:
    """Fork once: the child is PID 1 of the new PID namespace and carries on; this process only
    waits for it and leaves with its exit status (or its signal), holding no other role."""
    pid = os.fork()
    if pid == 0:
        libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)   # the waiter killed: die with it
        return
    for fd in (0, 1):   # the child owns the pipes; our copies would only delay their EOF
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
        os.kill(os.getpid(), os.WTERMSIG(status))
    os._exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 1)


def _mount(source: str, target: str, fstype: str, flags: int, data: str | None = None) -> None:
    result = libc().mount(source.encode(), target.encode(), fstype.encode(), ctypes.c_ulong(flags),
                          data.encode() if data else None)
    check(result, f"mount {fstype} on {target}")


def lock_filesystem(scratch: str, scratch_mb: int, owner: tuple[int, int]) -> list[str]:
    """Inside the new mount namespace: everything read-only, a fresh /proc, tmpfs on ``scratch``."""
    done: list[str] = []
    try:
        # First cut propagation, so nothing below reaches the host's mount table.
        check(libc().mount(None, b"/", None, ctypes.c_ulong(MS_REC | MS_PRIVATE), None), "make / private")
        attr = struct.pack("=QQQQ", MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, 0, 0, 0)
        buf = ctypes.create_string_buffer(attr, len(attr))
        syscall("mount_setattr", ctypes.c_int(AT_FDCWD), b"/", ctypes.c_uint(AT_RECURSIVE), buf,
                ctypes.c_size_t(len(attr)))
        done.append("read-only root")
        _mount("proc", "/proc", "proc", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)
        done.append("private /proc")
        uid, gid = owner
        _mount("tmpfs", scratch, "tmpfs", MS_NOSUID | MS_NODEV,
               f"size={scratch_mb}m,nr_inodes=1024,mode=0700,uid={uid},gid={gid}")
        done.append(f"tmpfs scratch ({scratch_mb} MiB)")
    except OSError as exc:
        raise SandboxUnavailable(f"mounts: {exc.strerror or exc} (after: {', '.join(done) or 'nothing'})") \
            from None
    return done


MS_BIND = 4096


def _searchable(path: str, uid: int, gid: int) -> bool:
    st = os.stat(path)
    bit = 0o100 if st.st_uid == uid else 0o010 if st.st_gid == gid else 0o001
    return bool(st.st_mode & bit)


def _blocked_ancestor(path: str, uid: int, gid: int) -> str | None:
    parts = path.strip("/").split("/")[:-1]
    for i in range(1, len(parts) + 1):
        ancestor = "/" + "/".join(parts[:i])
        if not _searchable(ancestor, uid, gid):
            return ancestor
    return None


def expose(paths: list[str], uid: int, gid: int) -> list[str]:
    """Make ``paths`` reachable for ``uid`` where a private ancestor (e.g. /root, mode 0700, holding
    a pyenv Python) would stop it: a tmpfs over the ancestor, with only those paths bound back in.
    Everything else under the ancestor disappears from the sandbox's view."""
    outer = [p for p in paths if not any(p != q and p.startswith(q + "/") for q in paths)]
    by_ancestor: dict[str, list[str]] = {}
    for path in outer:
        ancestor = _blocked_ancestor(path, uid, gid)
        if ancestor is not None:
            by_ancestor.setdefault(ancestor, []).append(path)
    done = []
    for ancestor, inside in sorted(by_ancestor.items()):
        fds = [(p, os.open(p, os.O_PATH | os.O_CLOEXEC)) for p in inside]
        _mount("tmpfs", ancestor, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,nr_inodes=256,mode=0755")
        for path, fd in fds:
            if os.path.isdir(f"/proc/self/fd/{fd}"):
                os.makedirs(path, mode=0o755, exist_ok=True)
            else:
                os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
                open(path, "x").close()
            _mount(f"/proc/self/fd/{fd}", path, "", MS_BIND | MS_REC)
            os.close(fd)
        done.append(f"{ancestor} hidden except {', '.join(inside)}")
    return done
