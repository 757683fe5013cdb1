"""Helpers for the ingest tests: an HTTP client for the service, running real metaflow flows."""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import urllib.parse
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

REPO = Path(__file__).resolve().parents[2]
FLOWS = Path(__file__).with_name("flows")
PY = sys.executable
TOKEN = "test-ingest-token"
AWS_DUMMY = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
             "AWS_DEFAULT_REGION": "us-east-1"}
BUCKET = "mf-bucket"


class Ingest:
    def __init__(self, url: str, log: Path):
        self.url = url
        self.log = log

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, Any, dict[str, str]]:
        """Exactly these headers (urllib would add a form Content-Type to every body, which the
        metaflow client never sends and the service refuses)."""
        url = urllib.parse.urlsplit(self.url + path)
        conn = http.client.HTTPConnection(url.netloc, timeout=30)
        try:
            conn.request(method, url.path + (f"?{url.query}" if url.query else ""), body=body,
                         headers={"x-api-key": TOKEN, **(headers or {})})
            resp = conn.getresponse()
            raw, status, rh = resp.read(), resp.status, dict(resp.headers)
        finally:
            conn.close()
        try:
            data = json.loads(raw)
        except ValueError:
            data = raw.decode()
        return status, data, rh

    def get(self, path: str) -> tuple[int, Any]:
        status, data, _ = self.request("GET", path)
        return status, data

    def post(self, path: str, obj: Any) -> tuple[int, Any]:
        status, data, _ = self.request("POST", path, json.dumps(obj).encode(),
                                       {"Content-Type": "application/json"})
        return status, data


def metaflow_env(ingest: Ingest, sysroot: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("METAFLOW_", "FLOWSCOPE_", "AWS_"))}
    env.update(
        METAFLOW_DEFAULT_METADATA="service",
        METAFLOW_SERVICE_URL=ingest.url,
        METAFLOW_SERVICE_AUTH_KEY=TOKEN,
        METAFLOW_DEFAULT_DATASTORE="local",
        METAFLOW_DATASTORE_SYSROOT_LOCAL=str(sysroot),
        METAFLOW_USER="tester",
        USERNAME="tester",
        PYTHONPATH=str(REPO),
    )
    env.update(extra or {})
    return env


def s3_env(ingest: Ingest, sysroot: Path, moto_endpoint: str, prefix: str) -> dict[str, str]:
    """metaflow_env with Metaflow's datastore in the moto bucket, under ``prefix``."""
    return metaflow_env(ingest, sysroot, {
        "METAFLOW_DEFAULT_DATASTORE": "s3", "METAFLOW_DATASTORE_SYSROOT_S3": f"s3://{BUCKET}/{prefix}",
        "METAFLOW_S3_ENDPOINT_URL": moto_endpoint, **AWS_DUMMY})


def run_flow(flow_file: str, args: list[str], env: dict[str, str], cwd: Path,
             expect_ok: bool = True, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([PY, str(FLOWS / flow_file), "--no-pylint", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, check=False, timeout=timeout)
    if expect_ok and proc.returncode != 0:
        raise AssertionError(f"{flow_file} {args} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    if not expect_ok and proc.returncode == 0:
        raise AssertionError(f"{flow_file} {args} unexpectedly succeeded:\n{proc.stdout}")
    return proc


def client_read(script: str, env: dict[str, str], cwd: Path) -> Any:
    """Run a Metaflow Client API script in a subprocess; it prints one JSON document."""
    code = "import json\nfrom metaflow import Flow, Run, Step, Task, namespace\nnamespace(None)\n" + script
    proc = subprocess.run([PY, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=120)
    if proc.returncode != 0:
        raise AssertionError(f"client script failed:\n{proc.stdout}\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


async def get_json(api: TestClient[Any, Any], path: str, expect: int = 200, **params: Any) -> Any:
    resp = await api.get(path, params=params)
    body = await resp.json()
    assert resp.status == expect, f"{path} {params}: {resp.status} {body}"
    return body
