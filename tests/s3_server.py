"""moto's S3 server (an emulator of S3, not AWS) on a free port, with one bucket, for tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tests.server_procs import free_port


@contextmanager
def moto_s3(bucket: str) -> Iterator[str]:
    """The endpoint URL of a running moto S3 server holding an empty ``bucket``."""
    import boto3
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="testing",
                 aws_secret_access_key="testing", region_name="us-east-1").create_bucket(Bucket=bucket)
    try:
        yield endpoint
    finally:
        server.stop()
