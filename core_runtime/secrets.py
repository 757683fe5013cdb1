"""@secrets: secret values put into the task's environment before the step runs.

``@secrets(sources=["db-credentials"])`` or, spelled out,
``@secrets(sources=[{"type": "aws-secrets-manager", "id": "db-credentials", "options": {...}}])``.
Providers: ``aws-secrets-manager`` (boto3; a JSON object secret becomes one variable per key,
other text one variable named ``options["env_var_name"]`` or after the secret, binary secrets
base64) and ``inline`` (``options["env_vars"]``, for tests). A source given as a plain string
uses ``METAFLOW_DEFAULT_SECRETS_BACKEND_TYPE`` (default ``aws-secrets-manager``). Values are
never recorded: not as artifacts, metadata or logs.
"""

from __future__ import annotations

import base64
import json
import os
import re
from typing import Any


class SecretsError(RuntimeError):
    """A secret cannot be fetched or used; the message names the source, never the value."""


def _env_name(key: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_]", "_", key)
    if not name or name[0].isdigit():
        raise SecretsError(f"secret key {key!r} cannot be an environment variable name")
    return name


def _spec(source: Any) -> dict[str, Any]:
    if isinstance(source, str):
        provider = os.environ.get("METAFLOW_DEFAULT_SECRETS_BACKEND_TYPE", "aws-secrets-manager")
        return {"type": provider, "id": source, "options": {}}
    if isinstance(source, dict) and "id" in source:
        return {"type": source.get("type") or os.environ.get("METAFLOW_DEFAULT_SECRETS_BACKEND_TYPE",
                                                              "aws-secrets-manager"),
                "id": source["id"], "options": dict(source.get("options") or {})}
    raise SecretsError(f"@secrets: a source is a secret id or a dict with 'id' (and 'type', "
                       f"'options'), got {source!r}")


def _inline(secret_id: str, options: dict[str, Any], role: str | None) -> dict[str, str]:
    return {str(k): str(v) for k, v in (options.get("env_vars") or {}).items()}


def _aws(secret_id: str, options: dict[str, Any], role: str | None) -> dict[str, str]:
    import boto3

    kwargs = {"region_name": options["region"]} if options.get("region") else {}
    client = boto3.client("secretsmanager", **kwargs)
    try:
        response = client.get_secret_value(SecretId=secret_id)
    except Exception as exc:  # noqa: BLE001 - boto raises many kinds; the message names the secret
        raise SecretsError(f"@secrets: cannot read {secret_id!r} from AWS Secrets Manager: "
                           f"{type(exc).__name__}") from None
    name = options.get("env_var_name") or response.get("Name") or secret_id.rsplit(":", 1)[-1]
    if "SecretString" in response:
        text = response["SecretString"]
        if options.get("json", True):
            try:
                data = json.loads(text)
            except json.JSONDecodeError:
                raise SecretsError(f"@secrets: {secret_id!r} is not JSON (pass "
                                   f"options={{'json': False}} for a plain value)") from None
            if not isinstance(data, dict):
                raise SecretsError(f"@secrets: {secret_id!r} is JSON but not an object")
            return {str(k): str(v) for k, v in data.items()}
        return {name: text}
    if "SecretBinary" in response:
        return {name: base64.b64encode(response["SecretBinary"]).decode()}
    raise SecretsError(f"@secrets: {secret_id!r} has neither a string nor a binary value")


PROVIDERS = {"inline": _inline, "aws-secrets-manager": _aws}


def load_secrets(sources: list[Any], role: str | None = None) -> dict[str, str]:
    """Environment variables from every source; a name two sources set is an error."""
    out: dict[str, str] = {}
    for source in sources:
        spec = _spec(source)
        provider = PROVIDERS.get(spec["type"])
        if provider is None:
            raise SecretsError(f"@secrets: unknown secrets provider {spec['type']!r} "
                               f"(providers: {', '.join(sorted(PROVIDERS))})")
        for key, value in provider(spec["id"], spec["options"], role).items():
            name = _env_name(key)
            if name in out:
                raise SecretsError(f"@secrets: {name} is set by two secrets")
            out[name] = value
    return out
