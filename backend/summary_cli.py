"""``flowscope summary Flow/12``: print a run's summary (Markdown, or JSON with --json) from a
running backend's /api/…/summary."""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from urllib.parse import quote, urlsplit

from contract.settings import Settings


def backend_base(url: str | None, settings: Settings) -> str:
    """The backend's base URL: ``--url`` (checked: http(s)://host[:port][/prefix]) or the settings'."""
    if url is None:
        return f"http://{settings.host}:{settings.port}"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as exc:
        raise ValueError(f"--url {url!r} is not a URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"--url {url!r} is not an http:// or https:// URL of the backend "
                         "(e.g. http://127.0.0.1:8083)")
    return url.rstrip("/")


def summary_url(base: str, pathspec: str, as_json: bool) -> str:
    parts = pathspec.strip("/").split("/")
    if len(parts) != 2 or not all(parts):
        raise ValueError(f"{pathspec!r} is not a run: give Flow/RunId, e.g. TrainFlow/12")
    flow, run = (quote(p, safe="") for p in parts)
    return f"{base.rstrip('/')}/api/flows/{flow}/runs/{run}/summary" + ("" if as_json else "?format=md")


def _error_message(body: bytes) -> str:
    try:
        return str(json.loads(body)["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return body.decode(errors="replace").strip()[:200]


def summary(settings: Settings, pathspec: str, url: str | None, as_json: bool) -> int:
    try:
        base = backend_base(url, settings)
        target = summary_url(base, pathspec, as_json)
    except ValueError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    headers = {"Authorization": f"Bearer {settings.auth_token}"} if settings.auth_token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(target, headers=headers), timeout=60) as resp:
            body = resp.read()
    except urllib.error.HTTPError as err:
        sys.stderr.write(f"error: {err.code} from {target}: {_error_message(err.read())}\n")
        return 1
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        sys.stderr.write(f"error: cannot reach the Flowscope backend at {base}: {reason}\n")
        return 1
    text = body.decode()
    if as_json:
        text = json.dumps(json.loads(text)["data"], indent=2) + "\n"
    sys.stdout.write(text)
    return 0
