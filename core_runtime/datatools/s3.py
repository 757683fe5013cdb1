"""``S3``: Metaflow's S3 client for flows (``from core_runtime import S3``), on boto3.

The same calls, arguments, results and errors as ``metaflow.S3`` in Metaflow 2.19: ``S3(run=self)``
keys objects under ``<DATATOOLS_S3ROOT>/<flow>/<run id>``, ``S3(s3root=...)`` under a prefix, ``S3()``
takes full ``s3://`` URLs; gets download into a temporary directory deleted when the context
closes; ``*_many`` calls run in parallel (a thread pool here, where Metaflow starts ``s3op``
processes) and keep the order of the request. Objects written by either runtime read back the same
through the other (user metadata is stored as Metaflow stores it).
"""

from __future__ import annotations

import errno
import io
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from urllib.parse import urlparse

from core_runtime.datatools.s3_object import (
    USER_METADATA_HEADER,
    MetaflowS3AccessDenied,
    MetaflowS3Exception,
    MetaflowS3InsufficientDiskSpace,
    MetaflowS3InvalidObject,
    MetaflowS3InvalidRange,
    MetaflowS3NotFound,
    MetaflowS3URLException,
    RangeInfo,
    S3GetObject,
    S3Object,
    S3PutObject,
)
from core_runtime.datatools.s3_roots import datatools_root, endpoint_url

T = TypeVar("T")
R = TypeVar("R")
WORKERS = 16   # parallel requests of one *_many call (Metaflow: S3_WORKER_COUNT processes)


class S3:
    """Metaflow's S3 client. Use it as a context manager (``with S3(run=self) as s3:``) or call
    ``close()``: either deletes the downloaded copies.

    ``tmproot`` is where the temporary directory goes (default: the working directory);
    ``bucket``/``prefix`` override the parts of the datatools root with ``run``; ``s3root`` is an
    explicit ``s3://`` prefix; ``encryption`` a server-side encryption for uploads. Keyword
    options as Metaflow's: ``session_vars`` (boto3 Session arguments), ``client_params`` (boto3
    client arguments, e.g. ``endpoint_url``), ``role`` (an IAM role to assume), ``external_client``.
    """

    TYPE = "s3"

    def __init__(self, tmproot: str = ".", bucket: str | None = None, prefix: str | None = None,
                 run: Any = None, s3root: str | None = None, encryption: str | None = None,
                 **kwargs: Any) -> None:
        if run:
            self._s3root: str | None = _run_root(run, bucket, prefix)
        elif s3root:
            if urlparse(s3root).scheme != "s3":
                raise MetaflowS3URLException("s3root needs to be an S3 URL prefixed with s3://.")
            self._s3root = s3root.rstrip("/")
        else:
            self._s3root = None
        self._encryption = encryption
        self._client = kwargs.get("external_client") or _client(
            kwargs.get("role"), kwargs.get("session_vars"), kwargs.get("client_params"))
        self._tmpdir: str | None = tempfile.mkdtemp(dir=tmproot, prefix="metaflow.s3.")

    def __enter__(self) -> S3:
        return self

    def __exit__(self, *args: Any) -> None:
        self.close()

    def close(self) -> None:
        """Delete every file downloaded in this context."""
        if self._tmpdir:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    # -- addresses --------------------------------------------------------------------------------

    def _url(self, key: Any) -> str:
        key = getattr(key, "key", key)
        if self._s3root is None:
            parsed = urlparse(key or "", allow_fragments=False)
            if parsed.scheme == "s3" and parsed.path:
                return str(key)
            from core_runtime.current import current

            if current.is_running_flow:
                raise MetaflowS3URLException("Specify S3(run=self) when you use S3 inside a running flow. "
                                             "Otherwise you have to use S3 with full s3:// urls.")
            raise MetaflowS3URLException("Initialize S3 with an 's3root' or 'run' if you don't want to "
                                         "specify full s3:// urls.")
        if key:
            if key.startswith("s3://"):
                raise MetaflowS3URLException("Don't use absolute S3 URLs when the S3 client is initialized "
                                             f"with a prefix. URL: {key}")
            return os.path.join(self._s3root, key.lstrip("/"))
        return self._s3root

    def _url_and_range(self, key: Any) -> tuple[str, str | None]:
        url = self._url(key)
        start, length = getattr(key, "offset", None), getattr(key, "length", None)
        if start is None and length is None:
            return url, None
        start = start or 0
        if length is None:
            return url, f"bytes={start}-"
        if length < 0:
            return url, f"bytes=-{-length}"
        return url, f"bytes={start}-{start + length - 1}"

    def _tmpfile(self) -> str:
        if self._tmpdir is None:
            raise MetaflowS3Exception("this S3 client is closed")
        fd, path = tempfile.mkstemp(dir=self._tmpdir, prefix="metaflow.s3.one_file.")
        os.close(fd)
        return path

    # -- listing ------------------------------------------------------------------------------------

    def list_paths(self, keys: Iterable[str] | None = None) -> list[S3Object]:
        """The next level under each key: objects (``exists``) and prefixes (``exists == False``)."""
        prefixes = [self._url(k).rstrip("/") + "/" for k in (keys if keys is not None else [None])]
        return [S3Object(p, url, None, size) for p, found in zip(prefixes, self._parallel(
            lambda p: self._list(p, "/"), prefixes)) for url, size in found]

    def list_recursive(self, keys: Iterable[str] | None = None) -> list[S3Object]:
        """Every object under each key, at any depth."""
        prefixes = [self._url(k) for k in (keys if keys is not None else [None])]
        return [S3Object(p, url, None, size) for p, found in zip(prefixes, self._parallel(
            lambda p: self._list(p, ""), prefixes)) for url, size in found if size is not None]

    def _list(self, prefix_url: str, delimiter: str) -> list[tuple[str, int | None]]:
        src = urlparse(prefix_url, allow_fragments=False)
        path = src.path.lstrip("/")
        if delimiter and path and not path.endswith("/"):
            path += "/"
        base = f"s3://{src.netloc}/"
        out: list[tuple[str, int | None]] = []

        def page_through() -> None:
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=src.netloc, Prefix=path, Delimiter=delimiter)
            for page in pages:
                out.extend((base + o["Key"].lstrip("/"), int(o["Size"])) for o in page.get("Contents", []))
                out.extend((base + p["Prefix"], None) for p in page.get("CommonPrefixes", []))

        self._call(page_through, prefix_url)
        return out

    # -- info ---------------------------------------------------------------------------------------

    def info(self, key: str | None = None, return_missing: bool = False) -> S3Object:
        """One object's size, content type, user metadata and modification time (one HEAD request);
        ``return_missing``: a missing key gives an object with ``exists == False`` instead of
        raising ``MetaflowS3NotFound``."""
        url = self._url(key)
        try:
            head = self._head(url)
        except MetaflowS3NotFound:
            if not return_missing:
                raise
            return S3Object(self._s3root, url, None)
        return S3Object(self._s3root, url, None, **head)

    def info_many(self, keys: Iterable[str], return_missing: bool = False) -> list[S3Object]:
        urls = [self._url(k) for k in keys]

        def one(url: str) -> S3Object:
            try:
                return S3Object(self._s3root, url, None, **self._head(url))
            except MetaflowS3NotFound:
                if return_missing:
                    return S3Object(self._s3root, url, None)
                raise

        return self._parallel(one, urls)

    def _head(self, url: str) -> dict[str, Any]:
        bucket, key = _split(url)
        resp = self._call(lambda: self._client.head_object(Bucket=bucket, Key=key), url)
        return {"size": int(resp["ContentLength"]), "content_type": resp.get("ContentType"),
                "metadata": resp.get("Metadata", {}), "last_modified": resp["LastModified"].timestamp(),
                "encryption": resp.get("ServerSideEncryption")}

    # -- get ----------------------------------------------------------------------------------------

    def get(self, key: str | S3GetObject | None = None, return_missing: bool = False,
            return_info: bool = True) -> S3Object:
        """Download one object (or a byte range of it, with an ``S3GetObject``)."""
        return self._get_one(key, return_missing, return_info, self._s3root)

    def get_many(self, keys: Iterable[str | S3GetObject], return_missing: bool = False,
                 return_info: bool = True) -> list[S3Object]:
        """Download many objects in parallel, in the order given."""
        return self._parallel(lambda k: self._get_one(k, return_missing, return_info, self._s3root), list(keys))

    def get_recursive(self, keys: Iterable[str], return_info: bool = False) -> list[S3Object]:
        """Download every object under each prefix."""
        found = [(prefix, url) for prefix in (self._url(k) for k in keys)
                 for url, size in self._list(prefix, "") if size is not None]
        # With info, keys are relative to the client's root; without, to the prefix asked for
        # (as in Metaflow).
        return self._parallel(lambda pu: self._get_one(pu[1], False, return_info,
                                                       self._s3root if return_info else pu[0], url=pu[1]), found)

    def get_all(self, return_info: bool = False) -> list[S3Object]:
        """Download everything under the client's root (``run`` or ``s3root`` required)."""
        if self._s3root is None:
            raise MetaflowS3URLException("Can't get_all() when S3 is initialized without a prefix")
        return self.get_recursive([None], return_info)  # type: ignore[list-item]

    def _get_one(self, key: Any, return_missing: bool, return_info: bool, prefix: str | None,
                 url: str | None = None) -> S3Object:
        if url is None:
            url, byte_range = self._url_and_range(key)
        else:
            byte_range = None
        bucket, path_key = _split(url)
        tmp = self._tmpfile()
        extra = {"Range": byte_range} if byte_range else {}

        def download() -> dict[str, Any]:
            resp = self._client.get_object(Bucket=bucket, Key=path_key, **extra)
            with open(tmp, "wb") as f:
                for chunk in iter(lambda: resp["Body"].read(1 << 20), b""):
                    f.write(chunk)
            return dict(resp)

        try:
            resp = self._call(download, url)
        except MetaflowS3NotFound:
            os.unlink(tmp)
            if return_missing:
                return S3Object(prefix, url, None)
            raise
        if not return_info:
            return S3Object(prefix, url, tmp)
        size = int(resp["ContentLength"])
        range_info = RangeInfo(size, 0, size)
        if byte_range and resp.get("ContentRange"):
            span, _, total = str(resp["ContentRange"]).removeprefix("bytes ").partition("/")
            first, _, last = span.partition("-")
            range_info = RangeInfo(int(total), int(first), int(last) - int(first) + 1)
        return S3Object(prefix, url, tmp, content_type=resp.get("ContentType"),
                        metadata=resp.get("Metadata", {}), range_info=range_info,
                        last_modified=resp["LastModified"].timestamp(),
                        encryption=resp.get("ServerSideEncryption"))

    # -- put ----------------------------------------------------------------------------------------

    def put(self, key: str | S3PutObject, obj: Any, overwrite: bool = True, content_type: str | None = None,
            metadata: dict[str, Any] | None = None) -> str:
        """Upload str (as UTF-8), bytes or a readable, seekable file object; returns its URL. With
        ``overwrite=False`` an existing object is left as it is."""
        url = self._url(key)
        self._upload(url, _readable(obj, key), overwrite, content_type, metadata)
        return url

    def put_many(self, key_objs: Iterable[tuple[str, Any] | S3PutObject],
                 overwrite: bool = True) -> list[tuple[str, str]]:
        """Upload many ``(key, value)`` pairs or ``S3PutObject``s in parallel; ``[(key, url)]``."""
        jobs = []
        for item in key_objs:
            key, value = (item.key, item.value) if isinstance(item, S3PutObject) else (item[0], item[1])
            jobs.append((key, self._url(key), _readable(value, key), getattr(item, "content_type", None),
                         getattr(item, "metadata", None)))
        return self._put_jobs(jobs, overwrite)

    def put_files(self, key_paths: Iterable[tuple[str, str] | S3PutObject],
                  overwrite: bool = True) -> list[tuple[str, str]]:
        """Upload local files, given as ``(key, path)`` pairs or ``S3PutObject(key, path=...)``."""
        jobs = []
        for item in key_paths:
            key, path = (item.key, item.path) if isinstance(item, S3PutObject) else (item[0], item[1])
            if not path or not os.path.exists(path):
                raise MetaflowS3NotFound(f"Local file not found: {path}")
            jobs.append((key, self._url(key), path, getattr(item, "content_type", None),
                         getattr(item, "metadata", None)))
        return self._put_jobs(jobs, overwrite)

    def _put_jobs(self, jobs: list[tuple[str, str, Any, str | None, Any]], overwrite: bool) -> list[tuple[str, str]]:
        def one(job: tuple[str, str, Any, str | None, Any]) -> tuple[str, str] | None:
            key, url, source, content_type, metadata = job
            if isinstance(source, str):
                with open(source, "rb") as f:
                    done = self._upload(url, f, overwrite, content_type, metadata)
            else:
                done = self._upload(url, source, overwrite, content_type, metadata)
            return (key, url) if done else None

        # Like Metaflow, only what was uploaded is listed (overwrite=False skips existing keys).
        return [r for r in self._parallel(one, jobs) if r is not None]

    def _upload(self, url: str, blob: Any, overwrite: bool, content_type: str | None,
                metadata: dict[str, Any] | None) -> bool:
        bucket, key = _split(url)
        if not overwrite:
            try:
                self._head(url)
                return False
            except MetaflowS3NotFound:
                pass
        extra: dict[str, Any] = {}
        if content_type:
            extra["ContentType"] = content_type
        if metadata:
            extra["Metadata"] = {USER_METADATA_HEADER: json.dumps(metadata)}
        if self._encryption:
            extra["ServerSideEncryption"] = self._encryption

        def upload() -> None:
            blob.seek(0)
            self._client.upload_fileobj(blob, bucket, key, ExtraArgs=extra or None)

        self._call(upload, url)
        return True

    # -- plumbing -----------------------------------------------------------------------------------

    def _parallel(self, fn: Callable[[T], R], items: list[T]) -> list[R]:
        if len(items) <= 1:
            return [fn(i) for i in items]
        with ThreadPoolExecutor(max_workers=min(WORKERS, len(items))) as pool:
            return list(pool.map(fn, items))

    def _call(self, fn: Callable[[], R], url: str) -> R:
        """Run one boto3 operation, turning its errors into Metaflow's S3 exceptions (boto3 itself
        retries transient failures)."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return fn()
        except ClientError as exc:
            status = _status(str(exc.response.get("Error", {}).get("Code", "")))
            if status == 404:
                raise MetaflowS3NotFound(url) from None
            if status == 403:
                raise MetaflowS3AccessDenied(url) from None
            if status == 416:
                raise MetaflowS3InvalidRange(str(exc)) from None
            raise MetaflowS3Exception(f"S3 operation failed.\nKey requested: {url}\nError: {exc}") from None
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise MetaflowS3InsufficientDiskSpace(str(exc)) from None
            raise MetaflowS3Exception(f"S3 operation failed.\nKey requested: {url}\nError: {exc}") from None
        except BotoCoreError as exc:
            raise MetaflowS3Exception(f"S3 operation failed.\nKey requested: {url}\nError: {exc}") from None


def _status(code: str) -> int | None:
    """An S3 error code as the HTTP status Metaflow files it under (a missing bucket is a 404)."""
    if code.isdigit():
        return int(code)
    return {"AccessDenied": 403, "AllAccessDisabled": 403, "InvalidAccessKeyId": 403, "NoSuchKey": 404,
            "NoSuchBucket": 404, "InvalidRange": 416}.get(code)


def _split(url: str) -> tuple[str, str]:
    src = urlparse(url, allow_fragments=False)
    return src.netloc, src.path.lstrip("/")


def _readable(obj: Any, key: Any) -> Any:
    """A seekable binary file object for ``obj`` (str → UTF-8), or MetaflowS3InvalidObject."""
    if isinstance(obj, (io.RawIOBase, io.BufferedIOBase)):
        if not obj.readable() or not obj.seekable():
            raise MetaflowS3InvalidObject(f"Object corresponding to the key '{key}' is not readable or seekable")
        return obj
    if isinstance(obj, str):
        return io.BytesIO(obj.encode("utf-8"))
    if isinstance(obj, (bytes, bytearray)):
        return io.BytesIO(bytes(obj))
    raise MetaflowS3InvalidObject(f"Object corresponding to the key '{key}' is not a string or a bytes object.")


def _run_root(run: Any, bucket: str | None, prefix: str | None) -> str:
    """``s3://<bucket>/<prefix>/<flow>/<run id>`` for ``S3(run=self)`` or ``S3(run=Run(...))``."""
    root = datatools_root()
    if root is None:
        raise MetaflowS3URLException("DATATOOLS_S3ROOT is not configured when trying to use S3 storage")
    parsed = urlparse(root)
    bucket = bucket or parsed.netloc
    prefix = prefix or parsed.path
    from core_runtime.flowspec import FlowSpec

    if isinstance(run, FlowSpec):
        from core_runtime.current import current

        if not current.is_running_flow:
            raise MetaflowS3URLException("Initializing S3 with a FlowSpec outside of a running flow is not "
                                         "supported.")
        prefix = os.path.join(prefix, str(current.flow_name), str(current.run_id))
    else:
        flow, run_id = str(run.pathspec).split("/")[:2]
        prefix = os.path.join(prefix, flow, run_id)
    return "s3://" + os.path.join(bucket, prefix.strip("/"))


def _client(role: str | None, session_vars: dict[str, Any] | None, client_params: dict[str, Any] | None) -> Any:
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(**(session_vars or {}))
    params: dict[str, Any] = {"config": Config(retries={"max_attempts": 8, "mode": "standard"})}
    if endpoint_url():
        params["endpoint_url"] = endpoint_url()
    params.update(client_params or {})
    if role:
        creds = session.client("sts", **{k: v for k, v in params.items() if k == "endpoint_url"}) \
            .assume_role(RoleArn=role, RoleSessionName="flowscope-s3")["Credentials"]
        session = boto3.session.Session(aws_access_key_id=creds["AccessKeyId"],
                                        aws_secret_access_key=creds["SecretAccessKey"],
                                        aws_session_token=creds["SessionToken"])
    return session.client("s3", **params)

