"""A datastore in a local directory. Writes are atomic (temp file + rename), so a reader that
sees a key always sees all of its bytes — log followers read chunks while the writer runs."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from contract.datastore.base import DatastoreError, check_key


class LocalDatastore:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        path = Path(root).expanduser().resolve()
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatastoreError(f"datastore {path}: cannot create the directory: {exc}") from None
        self._path = path
        self.root = str(path)

    def _file(self, key: str) -> Path:
        return self._path / check_key(self.root, key)

    def put(self, key: str, data: bytes) -> None:
        target = self._file(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.replace(tmp, target)
            except BaseException:
                os.unlink(tmp)
                raise
        except OSError as exc:
            raise DatastoreError(f"datastore {self.root}: cannot write {key}: {exc}") from None

    def put_if_absent(self, key: str, data: bytes) -> bool:
        if self._file(key).exists():
            return False
        self.put(key, data)
        return True

    def get(self, key: str) -> bytes:
        try:
            return self._file(key).read_bytes()
        except FileNotFoundError:
            raise DatastoreError(f"datastore {self.root}: no such key {key}") from None
        except OSError as exc:
            raise DatastoreError(f"datastore {self.root}: cannot read {key}: {exc}") from None

    def exists(self, key: str) -> bool:
        return self._file(key).is_file()

    def list(self, prefix: str) -> list[str]:
        """Keys starting with ``prefix`` (a string prefix, like S3), sorted."""
        base = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        start = self._path / base if base else self._path
        if not start.is_dir():
            return []
        out: list[str] = []
        for dirpath, _dirs, files in os.walk(start):
            rel_dir = os.path.relpath(dirpath, self._path)
            for name in files:
                if name.startswith(".tmp-"):
                    continue
                key = name if rel_dir == "." else f"{rel_dir.replace(os.sep, '/')}/{name}"
                if key.startswith(prefix):
                    out.append(key)
        return sorted(out)
