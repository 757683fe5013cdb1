"""docker-compose.yml holds no fixed secret, and the UI's S3 user cannot write (checked statically:
no Docker engine runs here). The secrets job itself (deploy/compose/make_secrets.py) is run for real."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SECRETS_PY = REPO / "deploy" / "compose" / "make_secrets.py"
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|ACCESS_KEY|AUTH_KEY|DSN", re.IGNORECASE)
# A value the shell fills from the environment, empty when unset (the job then generates it).
PASSTHROUGH = re.compile(r"^\$\{[A-Z0-9_]+(:-)?\}$")
DSN_WITH_PASSWORD = re.compile(r"://[^/\s:@]+:[^@\s]+@")
READ_ACTIONS = {"s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation"}
OWN_SECRETS = {"secrets": None, "postgres": "postgres-secrets", "minio": "minio-secrets",
               "minio-bucket": "minio-secrets", "migrate": "writer-secrets", "ingest": "writer-secrets",
               "demo": "writer-secrets", "mirror": "writer-secrets", "ui": "ui-secrets"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def _strings(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return [node] if isinstance(node, str) else []


def test_no_fixed_secret_anywhere(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for key, value in _environment(service).items():
            if SECRET_NAME.search(key) and not key.endswith("_FILE"):
                assert value == "" or PASSTHROUGH.match(value), f"{name}: {key}={value!r} is a fixed secret"
    for text in _strings(compose):
        assert not DSN_WITH_PASSWORD.search(text), f"a DSN with a password: {text!r}"
        for default in re.findall(r"\$\{([A-Z0-9_]+):-([^}]*)\}", text):
            if SECRET_NAME.search(default[0]):
                assert default[1] == "", f"${{{default[0]}}} has a fixed default {default[1]!r}"


def test_each_service_mounts_only_its_own_secrets(compose: dict[str, Any]) -> None:
    secret_volumes = {v for v in compose["volumes"] if v.endswith("-secrets")}
    assert {"ui-secrets", "writer-secrets", "postgres-secrets", "minio-secrets"} <= secret_volumes
    for name, service in compose["services"].items():
        mounted = [v for v in service.get("volumes", []) if v.split(":", 1)[0] in secret_volumes]
        if name == "secrets":
            assert len(mounted) == len(secret_volumes)
            continue
        assert [v.split(":")[0] for v in mounted] == [OWN_SECRETS[name]], (name, mounted)
        assert mounted[0].endswith(":ro"), (name, mounted)


def _bucket_job(compose: dict[str, Any]) -> tuple[str, dict[str, Path]]:
    job = compose["services"]["minio-bucket"]
    script = " ".join(job["command"]).replace("$$", "$")
    policies = {}
    for volume in job["volumes"]:
        source, target = volume.split(":")[:2]
        if source.startswith("./"):
            policies[target] = REPO / source
    return script, policies


def test_the_ui_user_is_bound_to_a_read_only_policy(compose: dict[str, Any]) -> None:
    script, policies = _bucket_job(compose)
    created = dict(re.findall(r"mc admin policy create local (\S+) (\S+)", script))
    attached = re.findall(r"mc admin policy attach local (\S+) --user \"\$\{(\w+)\}\"", script)
    ui_policies = [policy for policy, user in attached if user == "UI_S3_USER"]
    assert ui_policies == ["flowscope-read"]
    policy = json.loads(policies[created["flowscope-read"]].read_text())
    actions: set[str] = set()
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        found = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        actions.update(found)
        for resource in statement["Resource"]:
            assert resource in ("arn:aws:s3:::flowscope", "arn:aws:s3:::flowscope/*"), resource
    assert actions <= READ_ACTIONS, actions - READ_ACTIONS
    assert not any("*" in a for a in actions)
    # ... and the writer's policy cannot delete either (content-addressed blobs are never removed).
    writer = json.loads(policies[created["flowscope-write"]].read_text())
    assert not any("Delete" in a or "*" in a for s in writer["Statement"] for a in s["Action"])


def _run_secrets(root: Path, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in ("POSTGRES_PASSWORD", "FLOWSCOPE_INGEST_TOKEN")}
    proc = subprocess.run([sys.executable, str(SECRETS_PY), str(root)], env={**clean, **env}, check=True,
                          capture_output=True, text=True)
    return proc.stdout


def _env_file(path: Path) -> dict[str, str]:
    return {k: v for k, v in (shlex.split(line)[1].split("=", 1) for line in path.read_text().splitlines())}


def test_the_secrets_job_generates_keeps_and_separates(tmp_path: Path) -> None:
    out = _run_secrets(tmp_path)
    assert "FLOWSCOPE_INGEST_TOKEN" in out and "POSTGRES_PASSWORD" in out   # generated now
    ui, writer = _env_file(tmp_path / "ui" / "env"), _env_file(tmp_path / "writer" / "env")
    minio = _env_file(tmp_path / "minio" / "env")
    # The UI gets the reader DSN and the read-only S3 user, and nothing that writes.
    assert set(ui) == {"FLOWSCOPE_READER_DSN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
    assert ui["AWS_ACCESS_KEY_ID"] == minio["UI_S3_USER"] and ui["AWS_SECRET_ACCESS_KEY"] == minio["UI_S3_SECRET"]
    assert writer["AWS_ACCESS_KEY_ID"] == minio["WRITER_S3_USER"] != ui["AWS_ACCESS_KEY_ID"]
    assert ui["FLOWSCOPE_READER_DSN"].startswith("postgresql://flowscope_reader:")
    assert re.fullmatch(r"[0-9a-f]{64}", writer["FLOWSCOPE_INGEST_TOKEN"])
    assert (tmp_path / "postgres" / "password").read_text() in writer["FLOWSCOPE_DSN"]
    assert oct((tmp_path / "ui" / "env").stat().st_mode & 0o777) == "0o400"
    # A second start keeps them; a value from the environment wins.
    _run_secrets(tmp_path)
    assert _env_file(tmp_path / "writer" / "env") == writer
    _run_secrets(tmp_path, FLOWSCOPE_INGEST_TOKEN="from-the-env")
    assert _env_file(tmp_path / "writer" / "env")["FLOWSCOPE_INGEST_TOKEN"] == "from-the-env"
