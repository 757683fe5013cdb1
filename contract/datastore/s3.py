"""A datastore in S3 (or an S3-compatible server) through boto3.

Timeouts are short and retries few on purpose: an unreachable endpoint must turn into a
DatastoreError within seconds, never a hang of the task that is trying to save its artifacts.
"""

from __future__ import annotations

import os
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from contract.datastore.base import DatastoreError, check_key

CONNECT_TIMEOUT_S = 3.0
READ_TIMEOUT_S = 30.0
MAX_ATTEMPTS = 2
_BOTO_ERRORS = (BotoCoreError, ClientError)


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` → ("bucket", "some/prefix")."""
    if not url.startswith("s3://"):
        raise DatastoreError(f"datastore {url}: not an s3:// URL")
    rest = url[len("s3://"):]
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise DatastoreError(f"datastore {url}: no bucket name (expected s3://bucket/prefix)")
    return bucket, prefix.strip("/")


class S3Datastore:
    def __init__(self, url: str, endpoint_url: str | None = None, client: Any = None) -> None:
        self.bucket, self.prefix = parse_s3_url(url)
        self.root = f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"
        self.endpoint_url = endpoint_url
        self._given_client = client
        self._clients: dict[int, Any] = {}

    @property
    def _client(self) -> Any:
        """One boto3 client per process: the runtime forks task processes, and a client's
        connection pool must not be shared across a fork."""
        if self._given_client is not None:
            return self._given_client
        pid = os.getpid()
        client = self._clients.get(pid)
        if client is None:
            client = self._clients[pid] = _make_client(self.endpoint_url)
        return client

    def _where(self) -> str:
        return self.root + (f" (endpoint {self.endpoint_url})" if self.endpoint_url else "")

    def _object_key(self, key: str) -> str:
        check_key(self.root, key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _error(self, action: str, key: str, exc: Exception) -> DatastoreError:
        return DatastoreError(f"datastore {self._where()}: cannot {action} {key}: {_why(exc)}")

    def put(self, key: str, data: bytes) -> None:
        try:
            self._client.put_object(Bucket=self.bucket, Key=self._object_key(key), Body=data)
        except _BOTO_ERRORS as exc:
            raise self._error("write", key, exc) from None

    def put_if_absent(self, key: str, data: bytes) -> bool:
        # Blobs are content-addressed, so a race between two writers stores the same bytes twice:
        # harmless, and cheaper than a conditional write many S3-compatible servers lack.
        if self.exists(key):
            return False
        self.put(key, data)
        return True

    def get(self, key: str) -> bytes:
        try:
            resp = self._client.get_object(Bucket=self.bucket, Key=self._object_key(key))
            body: bytes = resp["Body"].read()
            return body
        except _BOTO_ERRORS as exc:
            if _code(exc) in ("NoSuchKey", "404"):
                raise DatastoreError(f"datastore {self._where()}: no such key {key}") from None
            raise self._error("read", key, exc) from None

    def exists(self, key: str) -> bool:
        try:
            self._client.head_object(Bucket=self.bucket, Key=self._object_key(key))
            return True
        except _BOTO_ERRORS as exc:
            if _code(exc) in ("404", "NoSuchKey", "NotFound"):
                return False
            raise self._error("check", key, exc) from None

    def list(self, prefix: str) -> list[str]:
        full = f"{self.prefix}/{prefix}" if self.prefix else prefix
        cut = len(self.prefix) + 1 if self.prefix else 0
        out: list[str] = []
        try:
            pages = self._client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=full)
            for page in pages:
                out.extend(obj["Key"][cut:] for obj in page.get("Contents", []))
        except _BOTO_ERRORS as exc:
            raise self._error("list", prefix or "<root>", exc) from None
        return sorted(out)


def _make_client(endpoint_url: str | None) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=CONNECT_TIMEOUT_S, read_timeout=READ_TIMEOUT_S,
                    retries={"max_attempts": MAX_ATTEMPTS, "mode": "standard"})
    return boto3.session.Session().client("s3", endpoint_url=endpoint_url, config=config)


def _code(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def _why(exc: Exception) -> str:
    from botocore.exceptions import EndpointConnectionError, NoCredentialsError

    if isinstance(exc, EndpointConnectionError):
        return f"endpoint unreachable ({exc})"
    if isinstance(exc, NoCredentialsError):
        return "no AWS credentials (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a profile)"
    code = _code(exc)
    if code == "NoSuchBucket":
        return "the bucket does not exist"
    if code in ("AccessDenied", "403"):
        return "access denied"
    return f"{type(exc).__name__}: {exc}"
