"""The flow's code as a tarball for remote workers (a node need not see the driver's disk).

Like Metaflow's code package: the flow file's directory, source and small config files only,
without hidden directories, virtual environments and caches. core_runtime itself reaches the
workers through Ray's runtime environment (``py_modules``), so a node runs the driver's version.
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile

SUFFIXES = (".py", ".toml", ".json", ".yaml", ".yml", ".cfg", ".ini", ".txt", ".csv", ".R")
SKIP_DIRS = {"__pycache__", "node_modules", "venv", ".venv", "env", "site-packages"}
MAX_FILE_BYTES = 1 << 20
MAX_PACKAGE_BYTES = 64 << 20


class CodePackageError(ValueError):
    """The flow's directory cannot be packaged; the message says which file or limit."""


def build_package(flow_file: str) -> tuple[bytes, str, str]:
    """(tar.gz bytes, sha256, the flow file's path inside the package)."""
    root = os.path.dirname(os.path.abspath(flow_file))
    files: list[str] = []
    total = 0
    for here, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIP_DIRS)
        for name in sorted(names):
            path = os.path.join(here, name)
            if not name.endswith(SUFFIXES) or name.startswith(".") or not os.path.isfile(path):
                continue
            size = os.path.getsize(path)
            if size > MAX_FILE_BYTES and os.path.abspath(path) != os.path.abspath(flow_file):
                continue   # data files do not belong in the code package
            total += size
            if total > MAX_PACKAGE_BYTES:
                raise CodePackageError(f"{root}: the flow's directory holds more than "
                                       f"{MAX_PACKAGE_BYTES >> 20} MB of source and config files; "
                                       "move the flow into a directory of its own")
            files.append(path)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=6) as tar:
        for path in files:
            info = tar.gettarinfo(path, arcname=os.path.relpath(path, root))
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            with open(path, "rb") as fh:
                tar.addfile(info, fh)
    data = buf.getvalue()
    return data, hashlib.sha256(data).hexdigest(), os.path.relpath(os.path.abspath(flow_file), root)


def unpack_package(data: bytes, sha: str, base: str) -> str:
    """Extract once per node into base/<sha>; returns the directory."""
    target = os.path.join(base, sha)
    if os.path.isdir(target):
        return target
    tmp = f"{target}.tmp{os.getpid()}"
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        tar.extractall(tmp, filter="data")
    try:
        os.rename(tmp, target)
    except OSError:   # another worker of this node got there first
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    return target
