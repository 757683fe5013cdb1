"""Every FLOWSCOPE_* setting, declared once.

Settings are read from the environment exactly once, by ``load_settings()``, at the start of a
command; nothing else in the code base reads ``os.environ`` for configuration. The backend adds
its own declarations to the same registry (backend/settings.py) so ``/api/-/settings`` and
docs/configuration.md list them all.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping


class SettingsError(ValueError):
    """A setting has a value that cannot be used; the message names the variable."""


@dataclass(frozen=True)
class Setting:
    name: str                  # attribute name, e.g. "dsn"; env var is FLOWSCOPE_<NAME>
    default: Any
    parse: Callable[[str], Any]
    help: str
    secret: bool = False

    @property
    def env(self) -> str:
        return "FLOWSCOPE_" + self.name.upper()


def _bool(text: str) -> bool:
    low = text.strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"expected true/false, got {text!r}")


def _default_home() -> str:
    return str(Path.home() / ".flowscope")


REGISTRY: dict[str, Setting] = {}


def declare(*settings: Setting) -> None:
    for s in settings:
        REGISTRY[s.name] = s


declare(
    Setting("home", None, str, "Directory for the embedded Postgres data and the local datastore "
            "(default: ~/.flowscope)."),
    Setting("dsn", None, str, "Postgres DSN of the writer role. Unset: start an embedded Postgres "
            "(pgserver) under FLOWSCOPE_HOME.", secret=True),
    Setting("reader_dsn", None, str, "Postgres DSN of the SELECT-only role used by the UI backend. "
            "Unset with the embedded Postgres: the role flowscope_reader is created and used.",
            secret=True),
    Setting("datastore", None, str, "Where artifacts, logs and cards go: a local directory "
            "(default: FLOWSCOPE_HOME/datastore) or s3://bucket/prefix."),
    Setting("s3_endpoint_url", None, str, "Endpoint of an S3-compatible server (MinIO, moto)."),
    Setting("user", None, str, "User name recorded on runs (default: the login name)."),
    Setting("heartbeat_interval", 5.0, float, "Seconds between heartbeats of runs and running tasks."),
    Setting("heartbeat_timeout", 60.0, float, "A running run or task whose last heartbeat is older "
            "than this many seconds is reported as failed (heartbeat lost)."),
    Setting("log_flush_interval", 1.0, float, "Seconds between log chunk flushes of a running task."),
)


class Settings:
    """Values of all declared settings, read once."""

    def __init__(self, values: Mapping[str, Any]):
        self._values = dict(values)

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def home(self) -> str:
        return self._values.get("home") or _default_home()

    def as_public_dict(self) -> dict[str, Any]:
        """Values for display: secrets redacted."""
        out: dict[str, Any] = {}
        for name, s in REGISTRY.items():
            v = self._values.get(name)
            out[s.env] = "***" if (s.secret and v) else v
        return out

    def replace(self, **changes: Any) -> "Settings":
        return Settings({**self._values, **changes})


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for name, s in REGISTRY.items():
        raw = env.get(s.env)
        if raw is None or raw == "":
            values[name] = s.default
            continue
        try:
            values[name] = s.parse(raw)
        except ValueError as exc:
            raise SettingsError(f"{s.env}={raw!r}: {exc}") from None
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(values)


parse_bool = _bool
