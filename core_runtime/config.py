"""Config: values read from a TOML or JSON file when the flow class is defined.

``cfg = Config("cfg", default="config.toml")`` — the file is read on first use, which is while
the class body runs when a decorator uses it (``@retry(times=cfg.retries)``). The path is
relative to the flow file's directory (falling back to the working directory) and can be
overridden with ``python flow.py --config cfg other.toml run``. In steps ``self.cfg.key`` works,
and the value is recorded as an artifact of the run.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

try:  # Python 3.11+
    import tomllib
except ImportError:  # pragma: no cover
    tomllib = None  # type: ignore[assignment]


class ConfigError(ValueError):
    """A config file is missing or unreadable; the message names the file (and line if known)."""


class ConfigValue(dict):  # type: ignore[type-arg]
    """A read-only mapping whose keys are also attributes (``cfg.model.lr``)."""

    def __getattr__(self, key: str) -> Any:
        try:
            value = self[key]
        except KeyError:
            raise AttributeError(f"config has no key {key!r} (keys: {', '.join(self) or 'none'})") from None
        return value

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError("config values are read-only")

    def __reduce__(self) -> Any:
        return (ConfigValue, (dict(self),))

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(json.dumps(self, default=str))
        return data


def _wrap_dict(value: dict[str, Any]) -> ConfigValue:
    return ConfigValue({k: _wrap(v) for k, v in value.items()})


def _wrap(value: Any) -> Any:
    if isinstance(value, dict):
        return ConfigValue({k: _wrap(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


def _argv_override(name: str, argv: list[str]) -> str | None:
    for i, tok in enumerate(argv[:-2]):
        if tok == "--config" and argv[i + 1] == name:
            return argv[i + 2]
    return None


def parse_config_text(text: str, path: str) -> dict[str, Any]:
    if path.endswith(".json"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from None
    else:
        if tomllib is None:  # pragma: no cover
            raise ConfigError(f"{path}: TOML needs Python 3.11+")
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a table/object")
    return data


class Config:
    def __init__(self, name: str, default: str | None = None, default_value: Any = None,
                 help: str | None = None, required: bool = False,
                 parser: Callable[[str], dict[str, Any]] | None = None) -> None:
        self.name = name
        self.default = default
        self.default_value = default_value
        self.help = help or ""
        self.required = required
        self.parser = parser
        self.attr = name
        caller = sys._getframe(1).f_globals.get("__file__")
        self._base_dir = Path(caller).resolve().parent if caller else Path.cwd()
        self._value: ConfigValue | None = None
        self.path: str | None = None

    def __set_name__(self, owner: type, attr: str) -> None:
        self.attr = attr

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        if obj is None:
            return self
        return self.value

    def __set__(self, obj: Any, value: Any) -> None:
        raise AttributeError(f"Config {self.name!r} is read-only")

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_"):
            raise AttributeError(key)
        return getattr(self.value, key)

    def __getitem__(self, key: str) -> Any:
        return self.value[key]

    @property
    def value(self) -> ConfigValue:
        if self._value is None:
            self._value = self._load()
        return self._value

    def _resolve(self, given: str) -> Path:
        p = Path(given)
        if p.is_absolute():
            return p
        near_flow = self._base_dir / p
        return near_flow if near_flow.exists() else Path.cwd() / p

    def _load(self) -> ConfigValue:
        given = _argv_override(self.name, sys.argv) or self.default
        if given is None:
            if self.default_value is None and self.required:
                raise ConfigError(f"config {self.name!r} is required: pass --config {self.name} FILE")
            return _wrap_dict(dict(self.default_value or {}))
        path = self._resolve(given)
        self.path = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            if self.default_value is not None:
                return _wrap_dict(dict(self.default_value))
            raise ConfigError(f"config {self.name!r}: cannot read {path}: {exc.strerror}") from None
        data = self.parser(text) if self.parser else parse_config_text(text, str(path))
        return cast(ConfigValue, _wrap(data))


def flow_configs(cls: type) -> list[Config]:
    seen: dict[str, Config] = {}
    for klass in reversed(cls.__mro__):
        for attr, value in vars(klass).items():
            if isinstance(value, Config):
                seen[attr] = value
    return list(seen.values())
