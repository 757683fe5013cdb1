"""What ``S3`` hands back and takes: ``S3Object``, ``S3GetObject``, ``S3PutObject``, ``RangeInfo`` and
the exceptions, under the names and with the behaviour Metaflow's ``metaflow.S3`` gives them."""

from __future__ import annotations

import json
import os
from typing import Any, NamedTuple

from core_runtime.exception import MetaflowException


class MetaflowS3InvalidObject(MetaflowException):
    headline = "Not a string-like object"


class MetaflowS3URLException(MetaflowException):
    headline = "Invalid address"


class MetaflowS3Exception(MetaflowException):
    headline = "S3 access failed"


class MetaflowS3NotFound(MetaflowException):
    headline = "S3 object not found"


class MetaflowS3AccessDenied(MetaflowException):
    headline = "S3 access denied"


class MetaflowS3InvalidRange(MetaflowException):
    headline = "S3 invalid range"


class MetaflowS3InsufficientDiskSpace(MetaflowException):
    headline = "Insufficient disk space"


class S3GetObject(NamedTuple):
    """A key and a byte range (all three required, as in Metaflow): ``offset`` (None: 0) and
    ``length`` (None: to the end; negative: the last ``-length`` bytes, ``offset`` ignored)."""

    key: str
    offset: int | None
    length: int | None


class S3PutObject(NamedTuple):
    """One object to upload: from ``value`` (str, bytes or a readable, seekable file object) or, for
    ``put_files``, from the local file ``path``; with an optional content type and user metadata."""

    key: str
    value: Any = None
    path: str | None = None
    content_type: str | None = None
    encryption: str | None = None
    metadata: dict[str, Any] | None = None


class RangeInfo(NamedTuple):
    """What a ranged get downloaded: the object's size, the first byte and how many bytes."""

    total_size: int
    request_offset: int = 0
    request_length: int = -1


# User metadata travels in one S3 metadata header as JSON, as Metaflow stores it, so objects written
# by either runtime read back the same through both.
USER_METADATA_HEADER = "metaflow-user-attributes"


class S3Object:
    """A path or an object in S3, with its local copy once downloaded (deleted when the ``S3``
    context closes)."""

    def __init__(self, prefix: str | None, url: str, path: str | None, size: int | None = None,
                 content_type: str | None = None, metadata: dict[str, str] | None = None,
                 range_info: RangeInfo | None = None, last_modified: float | None = None,
                 encryption: str | None = None) -> None:
        self._url = url
        self._path = path
        self._size = os.stat(path).st_size if path else size
        self._content_type = content_type
        self._last_modified = last_modified
        self._encryption = encryption
        self._metadata = None
        if metadata and USER_METADATA_HEADER in metadata:
            self._metadata = json.loads(metadata[USER_METADATA_HEADER])
        if range_info is not None and (range_info.request_length is None or range_info.request_length < 0):
            range_info = RangeInfo(range_info.total_size, range_info.request_offset, range_info.total_size)
        self._range_info = range_info
        if prefix is None or prefix == url:
            self._key, self._prefix = url, None
        else:
            self._key, self._prefix = url[len(prefix.rstrip("/")) + 1:].rstrip("/"), prefix

    @property
    def exists(self) -> bool:
        """True if this is an object (not a prefix, not missing) in S3."""
        return self._size is not None

    @property
    def downloaded(self) -> bool:
        return bool(self._path)

    @property
    def url(self) -> str:
        return self._url

    @property
    def prefix(self) -> str | None:
        """The requested prefix this object was found under."""
        return self._prefix

    @property
    def key(self) -> str:
        """The key as requested: relative to the prefix, or the full URL without one."""
        return self._key

    @property
    def path(self) -> str | None:
        """The local copy's path (None unless downloaded)."""
        return self._path

    @property
    def blob(self) -> bytes | None:
        if not self._path:
            return None
        with open(self._path, "rb") as f:
            return f.read()

    @property
    def text(self) -> str | None:
        blob = self.blob
        return None if blob is None else blob.decode("utf-8", errors="replace")

    @property
    def size(self) -> int | None:
        return self._size

    @property
    def has_info(self) -> bool:
        """True if content type, user metadata, range or encryption are known."""
        return any(v is not None for v in (self._content_type, self._metadata, self._range_info,
                                           self._encryption))

    @property
    def metadata(self) -> dict[str, Any] | None:
        return self._metadata

    @property
    def content_type(self) -> str | None:
        return self._content_type

    @property
    def encryption(self) -> str | None:
        return self._encryption

    @property
    def range_info(self) -> RangeInfo | None:
        return self._range_info

    @property
    def last_modified(self) -> float | None:
        """Seconds since the epoch (UTC)."""
        return self._last_modified

    def __str__(self) -> str:
        if self._path:
            return f"<S3Object {self._url} ({self._size} bytes, local)>"
        if self._size:
            return f"<S3Object {self._url} ({self._size} bytes, in S3)>"
        return f"<S3Object {self._url} (object does not exist)>"

    __repr__ = __str__
